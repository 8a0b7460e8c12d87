import { spawnSync } from 'node:child_process';

/**
 * Metrics the dashboards and alerts already use, for the issues that land next (cache, breakers,
 * rate limits, shedding, queues). They light up once exported; until then a query on them is empty.
 */
export const RESERVED_METRICS = {
  innkeep_cache_requests_total: { type: 'counter', labels: ['namespace', 'tier', 'result'] },
  innkeep_cache_errors_total: { type: 'counter', labels: ['namespace', 'tier'] },
  innkeep_breaker_state: { type: 'gauge', labels: ['breaker'] },
  innkeep_breaker_transitions_total: { type: 'counter', labels: ['breaker', 'to'] },
  innkeep_rate_limit_rejections_total: { type: 'counter', labels: ['limiter'] },
  innkeep_shed_requests_total: { type: 'counter', labels: ['reason'] },
  innkeep_queue_depth: { type: 'gauge', labels: ['queue'] },
  innkeep_queue_oldest_age_seconds: { type: 'gauge', labels: ['queue'] },
  innkeep_jobs_processed_total: { type: 'counter', labels: ['queue'] },
  innkeep_jobs_failed_total: { type: 'counter', labels: ['queue'] },
  innkeep_job_duration_seconds: { type: 'histogram', labels: ['queue'] },
} as const;

/** Labels Prometheus adds to every scraped series, and the bucket bound of histograms. */
const TARGET_LABELS = ['job', 'instance', 'le'];

export interface KnownSeries {
  /** Every series name a query may select: counters and gauges as named, histograms' _bucket/_sum/_count. */
  readonly names: Set<string>;
  readonly labels: Set<string>;
}

function seriesNames(family: string, type: string): string[] {
  if (type === 'histogram') return [`${family}_bucket`, `${family}_sum`, `${family}_count`];
  if (type === 'summary') return [family, `${family}_sum`, `${family}_count`];
  return [family];
}

/** The series names and label names of a Prometheus text scrape, plus the reserved metrics. */
export function knownSeries(scrape: string): KnownSeries {
  const names = new Set<string>();
  const labels = new Set<string>(TARGET_LABELS);
  for (const line of scrape.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) {
      for (const n of seriesNames(type[1]!, type[2]!)) names.add(n);
      continue;
    }
    if (line === '' || line.startsWith('#')) continue;
    names.add(/^[a-zA-Z_:][\w:]*/.exec(line)![0]);
    for (const m of line.matchAll(/([a-zA-Z_]\w*)="(?:[^"\\]|\\.)*"/g)) labels.add(m[1]!);
  }
  for (const [family, { type, labels: ls }] of Object.entries(RESERVED_METRICS)) {
    for (const n of seriesNames(family, type)) names.add(n);
    for (const l of ls) labels.add(l);
  }
  return { names, labels };
}

/** Strings out, so that label values ("hit|stale", route templates) are not read as names. */
function withoutStrings(expr: string): string {
  return expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
}

/** The Innkeep, Node.js and process metric names an expression selects (recording rules excluded). */
export function metricNames(expr: string): string[] {
  const found = withoutStrings(expr).matchAll(/(?<![\w:$])(?:innkeep|nodejs|process)_\w+(?![\w:])/g);
  return [...new Set([...found].map((m) => m[0]))];
}

/** Recording-rule names (`level:metric:operations`) an expression reads. */
export function recordedNames(expr: string): string[] {
  const found = withoutStrings(expr).matchAll(/(?<![\w:])[a-zA-Z_]\w*:[\w:]+(?![\w:])/g);
  return [...new Set([...found].map((m) => m[0]))];
}

/** Label names an expression matches on or groups by. */
export function labelNames(expr: string): string[] {
  const names = new Set<string>();
  for (const m of expr.matchAll(/([a-zA-Z_]\w*)\s*(?:=~|!~|!=|=)\s*"/g)) names.add(m[1]!);
  const clauses = withoutStrings(expr).matchAll(
    /\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g,
  );
  for (const m of clauses) {
    for (const l of m[1]!.split(',')) if (l.trim()) names.add(l.trim());
  }
  return [...names];
}

/** What Grafana substitutes before a query reaches Prometheus, with values valid in PromQL. */
export function substituteGrafanaVariables(expr: string): string {
  return expr
    .replaceAll('$__rate_interval', '5m')
    .replaceAll('$__interval', '1m')
    .replaceAll('$__range', '1h')
    .replace(/\$\{?(job|instance)\}?/g, '.*');
}

export interface DashboardTarget {
  expr?: string;
  datasource?: { type?: string; uid?: string };
}
export interface DashboardPanel {
  id: number;
  type: string;
  title: string;
  datasource?: { type?: string; uid?: string };
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: DashboardTarget[];
  panels?: DashboardPanel[];
}
export interface DashboardVariable {
  type: string;
  name: string;
  query: string | { query: string };
  datasource?: { type?: string; uid?: string };
}
/** The parts of a Grafana dashboard JSON the tests read. */
export interface Dashboard {
  schemaVersion: number;
  uid: string;
  title: string;
  panels: DashboardPanel[];
  templating: { list: DashboardVariable[] };
}

export interface RuleFile {
  readonly records: string[];
  readonly alerts: { name: string; block: string; expr: string }[];
  /** Every `expr:` of the file, recording rules and alerts. */
  readonly exprs: string[];
}

/**
 * The rules of a Prometheus rule file: enough of YAML for the files in ops/prometheus (one key per
 * line; `expr:` inline or as a `|` block). promtool validates the full syntax.
 */
export function parseRuleFile(text: string): RuleFile {
  const lines = text.split('\n');
  const exprs: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^(\s*)expr:\s*(.*)$/.exec(lines[i]!);
    if (!m) continue;
    if (!/^[|>]/.test(m[2]!)) {
      exprs.push(m[2]!);
      continue;
    }
    const block: string[] = [];
    while (i + 1 < lines.length && (lines[i + 1]!.trim() === '' || indent(lines[i + 1]!) > m[1]!.length)) {
      block.push(lines[++i]!.trim());
    }
    exprs.push(block.join('\n').trim());
  }
  const records = [...text.matchAll(/^\s*- record:\s*(\S+)\s*$/gm)].map((m) => m[1]!);
  const alerts = text
    .split(/^(?=[ \t]*- alert:)/m)
    .slice(1)
    .map((block) => {
      const name = /- alert:\s*(\S+)/.exec(block)![1]!;
      return { name, block, expr: parseRuleFile(block.replace(/- alert:.*/, '')).exprs[0] ?? '' };
    });
  return { records, alerts, exprs };
}

function indent(line: string): number {
  return line.length - line.trimStart().length;
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
export function headingAnchor(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** Whether promtool is on PATH (CI installs it: .ci/run). */
export function promtoolAvailable(): boolean {
  return spawnSync('promtool', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** Runs promtool; stdout and stderr together, as it prints its findings on either. */
export function promtool(args: string[], input?: string): { code: number | null; output: string } {
  const res = spawnSync('promtool', args, { input, encoding: 'utf8', timeout: 60_000 });
  if (res.error) throw res.error;
  return { code: res.status, output: `${res.stdout}${res.stderr}` };
}
