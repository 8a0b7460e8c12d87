import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { type App, listenInternal } from '../src/app/build-app.ts';
import { startTestApp } from './support/app.ts';
import { registerUser } from './support/auth.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { createHotel, isoDate } from './support/fixtures.ts';
import {
  type Dashboard,
  headingAnchor,
  type KnownSeries,
  knownSeries,
  labelNames,
  metricNames,
  parseRuleFile,
  promtool,
  promtoolAvailable,
  recordedNames,
  substituteGrafanaVariables,
} from './support/monitoring.ts';
import { ensureTestServer } from './support/test-server.ts';

const ROOT = join(import.meta.dirname, '..');
const ALERTS = join(ROOT, 'ops/prometheus/alerts.yml');
const ALERT_TESTS = join(ROOT, 'ops/prometheus/alerts.test.yml');
const PROMETHEUS_CONFIG = join(ROOT, 'ops/prometheus/prometheus.yml');
const DASHBOARD = join(ROOT, 'ops/grafana/innkeep.json');
const CI = ['1', 'true'].includes((process.env.CI ?? '').toLowerCase());
const HAVE_PROMTOOL = promtoolAvailable();
/** How every panel and query names its datasource: Grafana's `datasource` variable (a literal `${…}`). */
const DATASOURCE = { type: 'prometheus', uid: '$' + '{datasource}' };

/**
 * What `promtool check metrics` reports on a scrape that we accept, each for a stated reason. Any
 * other finding fails the test.
 */
const TOLERATED_LINT = new Map([
  // prom-client's default metrics: gauges named *_total (prometheus/client_js#283, open).
  ['nodejs_active_handles_total', 'prom-client default'],
  ['nodejs_active_requests_total', 'prom-client default'],
  ['nodejs_active_resources_total', 'prom-client default'],
]);

/** True when promtool can run; otherwise fails the test under CI=true and skips it elsewhere. */
function needPromtool(t: TestContext): boolean {
  if (HAVE_PROMTOOL) return true;
  assert.ok(
    !CI,
    "promtool is not on PATH: .ci/run installs Debian's prometheus package; under CI=true this fails, never skips",
  );
  t.skip('promtool is not on PATH (apt-get install prometheus provides it; .ci/run does so)');
  return false;
}

const dashboard = JSON.parse(await readFile(DASHBOARD, 'utf8')) as Dashboard;
const rules = parseRuleFile(await readFile(ALERTS, 'utf8'));
const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
/** Panels with their rows' nested panels (collapsed rows keep theirs inside). */
const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
const queryPanels = panels.filter((p) => p.type !== 'row');
const dashboardExprs = queryPanels.flatMap((p) => (p.targets ?? []).map((t) => t.expr ?? ''));
const variableQueries = dashboard.templating.list
  .filter((v) => v.type === 'query')
  .map((v) => (typeof v.query === 'string' ? v.query : v.query.query));

describe('monitoring: the alert rules and their promtool checks', () => {
  it('when promtool checks ops/prometheus/alerts.yml, then every rule is valid', (t) => {
    if (!needPromtool(t)) return;
    const run = promtool(['check', 'rules', ALERTS]);
    assert.equal(run.code, 0, run.output);
    assert.match(run.output, /SUCCESS: \d+ rules found/);
  });

  it("when promtool runs the alerts' unit tests, then all pass", (t) => {
    if (!needPromtool(t)) return;
    const run = promtool(['test', 'rules', ALERT_TESTS]);
    assert.equal(run.code, 0, run.output);
    assert.match(run.output, /SUCCESS/);
  });

  it('when promtool checks the example Prometheus config, then it and the rule file it loads are valid', (t) => {
    if (!needPromtool(t)) return;
    const run = promtool(['check', 'config', PROMETHEUS_CONFIG]);
    assert.equal(run.code, 0, run.output);
    assert.match(run.output, /SUCCESS: 1 rule files found/);
  });

  it('when an alert is defined, then its unit tests have a firing and a not-firing case for it', async () => {
    const text = await readFile(ALERT_TESTS, 'utf8');
    const cases = text.split(/^(?=[ \t]*- alertname:)/m).slice(1);
    for (const { name } of rules.alerts) {
      const own = cases.filter((c) => new RegExp(`- alertname:\\s*${name}\\s`).test(c));
      assert.ok(
        own.some((c) => /exp_alerts:\s*\[\]/.test(c)),
        `${name} has no case where it must not fire`,
      );
      assert.ok(
        own.some((c) => /exp_alerts:\s*\n\s*- exp_labels:/.test(c)),
        `${name} has no case where it fires`,
      );
    }
    assert.ok(rules.alerts.length >= 6, rules.alerts.map((a) => a.name).join(', '));
  });

  it('when an alert is defined, then it has a for:, a severity, a summary and description showing the value, and a runbook the README has', () => {
    const anchors = new Set(
      [...readme.matchAll(/^#{1,6}\s+(.+)$/gm)].map((m) => headingAnchor(m[1]!.trim())),
    );
    for (const { name, block } of rules.alerts) {
      assert.match(block, /^\s*for:\s*\d+[smh]\s*$/m, `${name}: no for:`);
      assert.match(block, /^\s*severity:\s*(critical|warning)\s*$/m, `${name}: no severity`);
      assert.match(block, /^\s*summary:/m, `${name}: no summary`);
      assert.match(block, /^\s*description:/m, `${name}: no description`);
      assert.match(
        block.slice(block.indexOf('annotations:')),
        /\{\{ \$value/,
        `${name}: the value is not shown`,
      );
      const runbook = /^\s*runbook_url:\s*README\.md#(\S+)\s*$/m.exec(block)?.[1];
      assert.ok(runbook, `${name}: no runbook_url`);
      assert.ok(anchors.has(runbook), `${name}: README has no heading for #${runbook}`);
    }
  });

  it('when a rule reads a recorded series, then the file records it', () => {
    const used = rules.exprs.flatMap(recordedNames);
    assert.ok(used.length > 0);
    assert.deepEqual(
      used.filter((n) => !rules.records.includes(n)),
      [],
    );
  });
});

describe('monitoring: the Grafana dashboard', () => {
  it('when parsed, then it is a dashboard with a Prometheus datasource variable and job/instance variables', () => {
    assert.ok(dashboard.schemaVersion >= 36 && dashboard.schemaVersion <= 41, `${dashboard.schemaVersion}`);
    assert.equal(dashboard.uid, 'innkeep');
    const vars = new Map(dashboard.templating.list.map((v) => [v.name, v]));
    assert.equal(vars.get('datasource')?.type, 'datasource');
    assert.equal(vars.get('datasource')?.query, 'prometheus');
    for (const name of ['job', 'instance']) {
      assert.equal(vars.get(name)?.type, 'query', name);
      assert.deepEqual(vars.get(name)?.datasource, DATASOURCE);
    }
  });

  it('when a panel queries, then it and each of its queries use the datasource variable and filter by job and instance', () => {
    assert.ok(queryPanels.length >= 30, `${queryPanels.length} panels`);
    for (const p of queryPanels) {
      assert.deepEqual(p.datasource, DATASOURCE, p.title);
      assert.ok((p.targets ?? []).length > 0, `${p.title}: no query`);
      for (const t of p.targets ?? []) {
        assert.deepEqual(t.datasource, DATASOURCE, p.title);
        assert.ok(t.expr, `${p.title}: empty query`);
        // Every metric selector starts with the two variables' matchers.
        for (const m of t.expr.matchAll(/(?<![\w:$])(?:innkeep|nodejs|process)_\w+(?![\w:])/g)) {
          const rest = t.expr.slice(m.index + m[0].length);
          assert.ok(rest.startsWith('{job=~"$job", instance=~"$instance"'), `${p.title}: ${m[0]}${rest}`);
        }
      }
    }
  });

  it('when laid out, then panel ids are unique and no two panels overlap on the 24-column grid', () => {
    const ids = panels.map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length, `duplicate ids: ${ids}`);
    const cells = new Map<string, string>();
    for (const p of panels) {
      const { x, y, w, h } = p.gridPos;
      assert.ok(x >= 0 && w > 0 && x + w <= 24 && h > 0, `${p.title}: ${JSON.stringify(p.gridPos)}`);
      for (let i = x; i < x + w; i++) {
        for (let j = y; j < y + h; j++) {
          const other = cells.get(`${i},${j}`);
          assert.equal(other, undefined, `${p.title} overlaps ${other}`);
          cells.set(`${i},${j}`, p.title);
        }
      }
    }
  });

  it('when the rows are listed, then every area the issue names has one', () => {
    const rows = dashboard.panels.filter((p) => p.type === 'row').map((p) => p.title.toLowerCase());
    for (const area of ['latency', 'throughput', 'errors', 'database', 'pool', 'bookings', 'cache']) {
      assert.ok(
        rows.some((r) => r.includes(area)),
        `no ${area} row in ${rows}`,
      );
    }
    for (const area of ['breakers', 'rate limits', 'shedding', 'queues', 'node.js']) {
      assert.ok(
        rows.some((r) => r.includes(area)),
        `no ${area} row in ${rows}`,
      );
    }
  });

  it("when promtool parses every dashboard query (Grafana's variables substituted), then all are valid PromQL", async (t) => {
    if (!needPromtool(t)) return;
    const dir = await mkdtemp(join(tmpdir(), 'innkeep-dashboard-'));
    try {
      const file = join(dir, 'queries.yml');
      const records = dashboardExprs.map((expr, i) => ({
        record: `dashboard:query_${i}:check`,
        expr: substituteGrafanaVariables(expr),
      }));
      // JSON is YAML: promtool reads it as a rule file.
      await writeFile(file, JSON.stringify({ groups: [{ name: 'dashboard', rules: records }] }));
      const run = promtool(['check', 'rules', file]);
      assert.equal(run.code, 0, run.output);
      assert.match(run.output, new RegExp(`SUCCESS: ${records.length} rules found`));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('monitoring: against a real scrape of /metrics', () => {
  let db: TestDatabase;
  let app: App;
  let stopServer: () => Promise<void>;
  let scrape: string;
  let known: KnownSeries;
  const garbage: unknown[] = [];

  before(async () => {
    stopServer = await ensureTestServer();
    db = await createTestDatabase();
    app = await startTestApp(db.url, { METRICS_PORT: '0' });
    // Traffic first, so the request, statement and booking families have samples to lint.
    const hotel = await createHotel(db.pool, { rooms: [{ totalRooms: 1 }] });
    const user = await registerUser(app, 'Monitoring');
    await app.inject({ url: `/api/hotels/${hotel.id}` });
    await app.inject({ url: '/api/hotels/search?city=nowhere' });
    await app.inject({ url: '/no/such/route' });
    const booking = await app.inject({
      method: 'POST',
      url: '/api/bookings',
      headers: { ...user.headers, 'idempotency-key': randomUUID() },
      payload: { roomTypeId: hotel.roomTypes[0]!.id, checkIn: isoDate(5), checkOut: isoDate(6), guests: 1 },
    });
    assert.equal(booking.statusCode, 201, booking.body);
    // Over HTTP on the internal listener, as Prometheus scrapes it.
    const address = await listenInternal(app);
    const scrapeOnce = async () => {
      const res = await fetch(`${address}/metrics`);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
      return res.text();
    };
    // The GC histogram has its `kind` label only once a collection has been observed: make garbage
    // until one has (a young-generation collection takes a few MB; bounded at 10 s).
    scrape = await scrapeOnce();
    for (const deadline = Date.now() + 10_000; Date.now() < deadline; ) {
      if (/^nodejs_gc_duration_seconds_count\{/m.test(scrape)) break;
      for (let i = 0; i < 50; i++) garbage.push(new Array(10_000).fill(i));
      garbage.length = 0;
      await new Promise((resolve) => setTimeout(resolve, 20));
      scrape = await scrapeOnce();
    }
    known = knownSeries(scrape);
  });

  after(async () => {
    await app?.close();
    await db?.drop();
    await stopServer?.();
  });

  it('when promtool checks the scrape, then it parses and has no lint finding beyond the known ones', (t) => {
    if (!needPromtool(t)) return;
    const run = promtool(['check', 'metrics'], scrape);
    // 0: clean; 3: lint findings only (1 would be a scrape promtool cannot parse).
    assert.ok(run.code === 0 || run.code === 3, `exit ${run.code}: ${run.output}`);
    const findings = run.output.split('\n').filter((l) => l.trim() !== '');
    assert.equal(run.code === 3, findings.length > 0, run.output);
    const unexpected = findings.filter((l) => !TOLERATED_LINT.has(l.split(' ')[0]!));
    assert.deepEqual(unexpected, [], 'new promtool findings on the scrape');
    assert.match(scrape, /^innkeep_bookings_total\{outcome="created"\} 1$/m);
  });

  it('when the alert rules name a metric or label, then the scrape or the reserved list has it', () => {
    const names = rules.exprs.flatMap(metricNames);
    assert.ok(names.length > 5);
    assert.deepEqual([...new Set(names.filter((n) => !known.names.has(n)))], []);
    const labels = rules.exprs.flatMap(labelNames);
    assert.deepEqual([...new Set(labels.filter((l) => !known.labels.has(l)))], []);
  });

  it('when the dashboard names a metric or label, then the scrape or the reserved list has it', () => {
    const exprs = [...dashboardExprs, ...variableQueries];
    const names = exprs.flatMap(metricNames);
    assert.ok(names.length > 30);
    assert.deepEqual([...new Set(names.filter((n) => !known.names.has(n)))], []);
    const labels = exprs.flatMap(labelNames);
    assert.deepEqual([...new Set(labels.filter((l) => !known.labels.has(l)))], []);
    const legends = queryPanels.flatMap((p) =>
      (p.targets ?? []).flatMap((tg) =>
        [...JSON.stringify(tg).matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((m) => m[1]!),
      ),
    );
    assert.deepEqual([...new Set(legends.filter((l) => !known.labels.has(l)))], []);
  });

  it('when every metric the app exports is listed, then the dashboard shows each Innkeep family', () => {
    const families = [...scrape.matchAll(/^# TYPE (innkeep_\w+) /gm)].map((m) => m[1]!);
    assert.ok(families.length >= 10, families.join(', '));
    const used = new Set(
      dashboardExprs.flatMap(metricNames).map((n) => n.replace(/_(bucket|sum|count)$/, '')),
    );
    assert.deepEqual(
      families.filter((f) => !used.has(f)),
      [],
    );
  });
});
