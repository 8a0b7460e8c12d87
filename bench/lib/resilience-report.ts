// The rows of `npm run bench:resilience` and the markdown of bench/results/resilience.md (every
// figure is in the .json as well). Phases of other parts of the platform (rate limiting, load
// shedding) add rows of the same shape.

export interface Figure {
  readonly label: string;
  readonly value: number;
  readonly unit: 'ms' | 'µs' | 'ratio' | 'count';
}

export interface ResilienceRow {
  readonly id: string;
  readonly title: string;
  readonly figures: readonly Figure[];
  /** The goal as text and whether this run met it (undefined: no goal). */
  readonly goal?: { readonly text: string; readonly met: boolean };
  readonly notes?: string;
}

export interface ResilienceReport {
  readonly startedAt: string;
  readonly command: string;
  readonly seconds: number;
  readonly machine: string;
  readonly rows: readonly ResilienceRow[];
}

/** A phase: measures one or more rows. `npm run bench:resilience` runs them in order. */
export type ResiliencePhase = (log: (line: string) => void) => Promise<ResilienceRow[]>;

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

function format(f: Figure): string {
  if (f.unit === 'ratio') return f.value >= 10 ? `${f.value.toFixed(0)}×` : `${f.value.toFixed(3)}`;
  if (f.unit === 'count') return String(f.value);
  const digits = f.value >= 100 ? 0 : f.value >= 10 ? 1 : 2;
  return `${f.value.toFixed(digits)} ${f.unit}`;
}

export function resilienceMarkdown(report: ResilienceReport): string {
  const lines = [
    '# Innkeep resilience benchmark',
    '',
    `${report.startedAt} · \`${report.command}\` · ${report.seconds.toFixed(0)} s`,
    '',
    `Machine: ${report.machine}. Servers, Redis and the benchmark share the machine; only ratios within this run mean anything.`,
    '',
    '| Row | Figures | Goal |',
    '|---|---|---|',
  ];
  for (const row of report.rows) {
    const figures = row.figures.map((f) => `${f.label} ${format(f)}`).join(' · ');
    const goal = row.goal ? `${row.goal.text}: **${row.goal.met ? 'met' : 'short'}**` : '—';
    lines.push(`| ${row.title} | ${figures} | ${goal} |`);
  }
  const notes = report.rows.filter((r) => r.notes);
  if (notes.length > 0) {
    lines.push('', '## Notes', '');
    for (const row of notes) lines.push(`- **${row.title}**: ${row.notes}`);
  }
  return `${lines.join('\n')}\n`;
}
