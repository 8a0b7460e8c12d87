// The rows of `npm run bench:jobs` and the markdown of bench/results/jobs.md (every figure is in the
// .json as well), in the shape of the resilience report with the write-ups' claim beside each row.

export interface JobsFigure {
  readonly label: string;
  readonly value: number;
  readonly unit: 'ms' | 'µs' | 'ratio' | 'count' | '/s';
}

export interface JobsRow {
  readonly id: string;
  readonly title: string;
  readonly figures: readonly JobsFigure[];
  /** What the write-ups claim for this row, and how this run compares. */
  readonly claim?: string;
  /** The goal as text and whether this run met it (undefined: no goal). */
  readonly goal?: { readonly text: string; readonly met: boolean };
  readonly notes?: string;
  /** Raw evidence for the .json only (e.g. the SMTP server's receipt times). */
  readonly data?: Readonly<Record<string, unknown>>;
}

export interface JobsReport {
  readonly startedAt: string;
  readonly command: string;
  readonly commit: string;
  readonly seconds: number;
  readonly machine: string;
  readonly settings: Readonly<Record<string, string | number>>;
  readonly rows: readonly JobsRow[];
  /** Rows not measured, and why (Redis unreachable). */
  readonly skipped: readonly string[];
}

/** Nearest-rank percentile (p in 0..100) of sorted values. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}

export const sortedCopy = (xs: readonly number[]) => [...xs].sort((a, b) => a - b);

/** The median of values and their range, for per-round ratios. */
export function spread(values: readonly number[]): { median: number; min: number; max: number } {
  const s = sortedCopy(values);
  return { median: percentile(s, 50), min: s[0] ?? Number.NaN, max: s.at(-1) ?? Number.NaN };
}

/**
 * The most timestamps (ms) in any window [t, t + windowMs): checked from every timestamp, which is
 * where a window holding the most of them can start.
 */
export function maxInWindow(times: readonly number[], windowMs = 1000): number {
  const t = sortedCopy(times);
  let best = 0;
  let end = 0;
  for (let start = 0; start < t.length; start++) {
    while (end < t.length && (t[end] as number) < (t[start] as number) + windowMs) end++;
    best = Math.max(best, end - start);
  }
  return best;
}

/** The most timestamps in one calendar second (the window a fixed per-second limiter counts in). */
export function maxPerAlignedSecond(times: readonly number[]): number {
  const counts = new Map<number, number>();
  for (const t of times) counts.set(Math.floor(t / 1000), (counts.get(Math.floor(t / 1000)) ?? 0) + 1);
  return Math.max(0, ...counts.values());
}

function format(f: JobsFigure): string {
  if (f.unit === 'ratio') return f.value >= 10 ? `${f.value.toFixed(1)}×` : `${f.value.toFixed(3)}×`;
  if (f.unit === 'count') return String(Math.round(f.value));
  const digits = Math.abs(f.value) >= 100 ? 0 : Math.abs(f.value) >= 10 ? 1 : 2;
  return f.unit === '/s' ? `${f.value.toFixed(digits)}/s` : `${f.value.toFixed(digits)} ${f.unit}`;
}

export function jobsMarkdown(report: JobsReport): string {
  const settings = Object.entries(report.settings)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const lines = [
    '# Innkeep job-queue benchmark',
    '',
    `${report.startedAt} · \`${report.command}\` · ${report.seconds.toFixed(0)} s · commit ${report.commit}`,
    '',
    `Machine: ${report.machine}. Servers, PostgreSQL, Redis, the SMTP servers and the benchmark share the machine; only ratios within this run mean anything.`,
    '',
    `Settings: ${settings}.`,
    '',
    '| Row | Figures | Write-ups’ claim | Goal |',
    '|---|---|---|---|',
  ];
  for (const row of report.rows) {
    const figures = row.figures.map((f) => `${f.label} ${format(f)}`).join(' · ');
    const goal = row.goal ? `${row.goal.text}: **${row.goal.met ? 'met' : 'short'}**` : '—';
    lines.push(`| ${row.title} | ${figures} | ${row.claim ?? '—'} | ${goal} |`);
  }
  if (report.skipped.length > 0) {
    lines.push('', ...report.skipped.map((s) => `Not measured: ${s}`));
  }
  const notes = report.rows.filter((r) => r.notes);
  if (notes.length > 0) {
    lines.push('', '## Notes', '');
    for (const row of notes) lines.push(`- **${row.title}**: ${row.notes}`);
  }
  return `${lines.join('\n')}\n`;
}
