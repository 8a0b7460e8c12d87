import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../src/platform/config/index.ts';
import { tracesUrl } from '../src/platform/observability/tracing.ts';
import { TEST_JWT_SECRET } from './support/app.ts';
import { createTestDatabase, type TestDatabase } from './support/database.ts';
import { type ReceivedSpan, SPAN_KIND, startOtlpReceiver } from './support/otlp-receiver.ts';
import { NODE, spawnCapture } from './support/process.ts';
import { ensureTestServer } from './support/test-server.ts';

const MAIN = join(import.meta.dirname, '../src/main.ts');
const RECORD_LOADS = join(import.meta.dirname, 'support/record-module-loads.ts');
const TRACE_ID = /^[0-9a-f]{32}$/;
const SCOPE = {
  http: '@opentelemetry/instrumentation-http',
  fastify: '@fastify/otel',
  pg: '@opentelemetry/instrumentation-pg',
};

const cleanups: (() => Promise<unknown>)[] = [];
let db: TestDatabase;
before(async () => {
  cleanups.push(await ensureTestServer());
  db = await createTestDatabase();
  cleanups.push(() => db.drop());
});
after(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

/** `src/main.ts start` in its own process, as `npm start` runs it, once it is ready. */
async function startInnkeep(env: Record<string, string>, nodeArgs: string[] = []) {
  const dataDir = await mkdtemp(join(tmpdir(), 'innkeep-tracing-'));
  cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
  const proc = spawnCapture(NODE, [...nodeArgs, MAIN, 'start'], {
    cwd: tmpdir(),
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DATABASE_URL: db.url,
      INNKEEP_DATA_DIR: dataDir,
      HOST: '127.0.0.1',
      PORT: '0',
      // A metrics listener is being added beside the API; let it pick a free port too.
      METRICS_PORT: '0',
      LOG_LEVEL: 'info',
      DB_SEED_ON_EMPTY: 'none',
      JWT_SECRET: TEST_JWT_SECRET,
      ...env,
    },
  });
  const deadline = Date.now() + 60_000;
  let url: string | undefined;
  while (!url) {
    url = /Innkeep is ready at (http:\/\/\S+)/.exec(proc.out())?.[1];
    assert.ok(Date.now() < deadline && proc.child.exitCode === null, `did not come up: ${proc.err()}`);
    if (!url) await new Promise((r) => setTimeout(r, 50));
  }
  const stop = async () => {
    proc.child.kill('SIGTERM');
    assert.equal(await proc.exited, 0, proc.err());
  };
  const logLines = () =>
    proc
      .out()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { url: url.replace('localhost', '127.0.0.1'), stop, logLines };
}

/** The spans of `trace` by id, and the chain of ancestors of one of them (nearest first). */
function ancestry(spans: readonly ReceivedSpan[], span: ReceivedSpan): ReceivedSpan[] {
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const chain: ReceivedSpan[] = [];
  for (let p = span.parentSpanId; p !== undefined; p = byId.get(p)?.parentSpanId) {
    const parent = byId.get(p);
    assert.ok(parent, `span ${span.name} has a parent ${p} outside its trace`);
    chain.push(parent);
  }
  return chain;
}

describe('tracing (OpenTelemetry)', () => {
  it('when OTEL_EXPORTER_OTLP_ENDPOINT is set, then each request is one trace of HTTP, handler and SQL spans, its id in x-trace-id, the log and error bodies, and the last spans are exported on shutdown', async () => {
    const receiver = await startOtlpReceiver();
    cleanups.push(() => receiver.close());
    const app = await startInnkeep({
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_SERVICE_NAME: 'innkeep-tracing-test',
    });
    const startedAt = performance.now();

    const search = await fetch(`${app.url}/api/hotels/search?city=paris`);
    assert.equal(search.status, 200, await search.text());
    const searchTrace = search.headers.get('x-trace-id') ?? '';
    assert.match(searchTrace, TRACE_ID);

    const notFound = await fetch(`${app.url}/api/no-such-route`);
    const notFoundBody = (await notFound.json()) as { traceId?: string; code: string };
    assert.equal(notFound.status, 404);
    assert.match(notFoundBody.traceId ?? '', TRACE_ID);
    assert.equal(notFoundBody.traceId, notFound.headers.get('x-trace-id'));

    const invalid = await fetch(`${app.url}/api/hotels/search?sort=cheapest`);
    const invalidBody = (await invalid.json()) as { traceId?: string; code: string };
    assert.equal(invalid.status, 400);
    assert.equal(invalidBody.code, 'E_VALIDATION');
    assert.equal(invalidBody.traceId, invalid.headers.get('x-trace-id'));

    // Rejected by the router before any hook runs (bad percent-encoding): still its trace's id.
    const badUrl = await fetch(`${app.url}/api/hotels/%E0%A4%A`);
    const badUrlBody = (await badUrl.json()) as { traceId?: string };
    assert.equal(badUrl.status, 400);
    assert.match(badUrlBody.traceId ?? '', TRACE_ID);
    assert.equal(badUrlBody.traceId, badUrl.headers.get('x-trace-id'));

    // A caller's W3C traceparent: the request joins the caller's trace, under the caller's span.
    const callerTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
    const callerSpan = '00f067aa0ba902b7';
    const joined = await fetch(`${app.url}/api/hotels/search?city=rome`, {
      headers: { traceparent: `00-${callerTrace}-${callerSpan}-01` },
    });
    assert.equal(joined.status, 200);
    assert.equal(joined.headers.get('x-trace-id'), callerTrace);

    // Probes are not traced.
    const probe = await fetch(`${app.url}/healthz`);
    assert.equal(probe.status, 200);
    assert.equal(probe.headers.get('x-trace-id'), null);

    // Spans are batched every 5 s: when the requests took less, nothing has left before the shutdown,
    // and what arrives below was exported by it.
    const exportedBeforeStop = receiver.spans.length;
    if (performance.now() - startedAt < 4000) assert.equal(exportedBeforeStop, 0);
    await app.stop();

    const traces = new Map<string, ReceivedSpan[]>();
    for (const span of receiver.spans) traces.set(span.traceId, [...(traces.get(span.traceId) ?? []), span]);
    // One trace per request, and nothing else: no trace for the probe, the start-up SQL or the exports.
    assert.deepEqual(
      [...traces.keys()].sort(),
      [searchTrace, notFoundBody.traceId, invalidBody.traceId, badUrlBody.traceId, callerTrace].sort(),
    );

    const spans = traces.get(searchTrace) ?? [];
    const names = spans.map((s) => `${s.scope}: ${s.name}`).join('\n');
    const server = spans.find((s) => s.scope === SCOPE.http && s.kind === SPAN_KIND.server);
    assert.ok(server, names);
    assert.equal(server.parentSpanId, undefined, 'the HTTP server span is the root');
    assert.equal(server.name, 'GET /api/hotels/search');
    assert.equal(server.attributes['http.response.status_code'], 200);
    const request = spans.find((s) => s.scope === SCOPE.fastify && s.name === 'request');
    assert.equal(request?.parentSpanId, server.spanId, names);
    const handler = spans.find((s) => s.scope === SCOPE.fastify && s.name.startsWith('handler - '));
    assert.equal(handler?.parentSpanId, request?.spanId, names);
    const queries = spans.filter((s) => s.scope === SCOPE.pg && s.name.startsWith('pg.query'));
    assert.ok(queries.length >= 1, names);
    for (const query of queries) {
      assert.equal(query.kind, SPAN_KIND.client);
      assert.ok(ancestry(spans, query).includes(handler!), `${query.name} runs under the handler`);
      assert.match(String(query.attributes['db.query.text']), /FROM hotels/i);
    }
    for (const span of spans) ancestry(spans, span); // every parent is in the trace
    assert.equal(server.resource['service.name'], 'innkeep-tracing-test');

    const accessLog = app
      .logLines()
      .find((l) => l.msg === 'request completed' && l.url === '/api/hotels/search?city=paris');
    assert.equal(accessLog?.traceId, searchTrace, JSON.stringify(accessLog));
    assert.ok(spans.some((s) => s.spanId === accessLog?.spanId));

    const joinedServer = traces.get(callerTrace)?.find((s) => s.kind === SPAN_KIND.server);
    assert.equal(joinedServer?.parentSpanId, callerSpan);
    for (const id of [notFoundBody.traceId!, invalidBody.traceId!, badUrlBody.traceId!]) {
      assert.ok(traces.get(id)?.some((s) => s.scope === SCOPE.http && s.kind === SPAN_KIND.server));
    }
  });

  it('when tracing is off, then no OpenTelemetry module is loaded, and responses, error bodies and logs carry no trace id', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'innkeep-loads-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const loadsFile = join(dir, 'loaded.txt');
    const app = await startInnkeep({ LOADED_MODULES_FILE: loadsFile }, ['--import', RECORD_LOADS]);

    const res = await fetch(`${app.url}/api/no-such-route`);
    const body = (await res.json()) as Record<string, unknown>;
    assert.equal(res.status, 404);
    assert.equal(res.headers.get('x-trace-id'), null);
    assert.ok(!('traceId' in body), JSON.stringify(body));
    await app.stop();

    const accessLog = app.logLines().find((l) => l.msg === 'request completed');
    assert.ok(accessLog && !('traceId' in accessLog) && !('spanId' in accessLog), JSON.stringify(accessLog));
    const loaded = (await readFile(loadsFile, 'utf8')).split('\n');
    assert.ok(
      loaded.some((url) => url.includes('/node_modules/fastify/')),
      'the recorder saw the app load',
    );
    // @opentelemetry/api is prom-client's dependency (its exemplars): a no-op facade with no tracer
    // registered. Nothing of the SDK, the instrumentations or the loader hooks loads.
    const tracingModules = loaded.filter(
      (url) =>
        /\/node_modules\/(@opentelemetry|@fastify\/otel|import-in-the-middle|require-in-the-middle)\//.test(
          url,
        ) && !/\/node_modules\/@opentelemetry\/api\//.test(url),
    );
    assert.deepEqual(tracingModules, []);
  });

  it('when OTEL_TRACES_SAMPLER=parentbased_traceidratio with ratio 0, then only requests whose caller sampled them are recorded', async () => {
    const receiver = await startOtlpReceiver();
    cleanups.push(() => receiver.close());
    const app = await startInnkeep({
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0',
    });
    for (let i = 0; i < 5; i++) {
      assert.equal((await fetch(`${app.url}/api/hotels/search?city=paris`)).status, 200);
    }
    const parent = `00-${'4bf92f3577b34da6a3ce929d0e0e4736'}-00f067aa0ba902b7-01`;
    const sampled = await fetch(`${app.url}/api/hotels/search?city=rome`, {
      headers: { traceparent: parent },
    });
    assert.equal(sampled.status, 200);
    assert.equal(sampled.headers.get('x-trace-id'), '4bf92f3577b34da6a3ce929d0e0e4736');
    await app.stop();
    const traces = new Set(receiver.spans.map((s) => s.traceId));
    assert.deepEqual(
      [...traces],
      ['4bf92f3577b34da6a3ce929d0e0e4736'],
      'only the caller-sampled request was exported',
    );
  });

  it('when the OTLP endpoint settings are given, then the traces URL follows the exporter’s precedence and a bad one is a configuration error', () => {
    const tracing = (env: Record<string, string>) => loadConfig({ env, envFile: false }).tracing;
    assert.equal(tracesUrl(tracing({})), undefined);
    assert.equal(tracing({}).serviceName, 'innkeep');
    assert.equal(
      tracesUrl(tracing({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' })),
      'http://collector:4318/v1/traces',
    );
    assert.equal(
      tracesUrl(
        tracing({
          OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
          OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://traces.example/otlp',
        }),
      ),
      'https://traces.example/otlp',
    );
    assert.throws(
      () => tracing({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318', OTEL_SERVICE_NAME: '' }),
      /OTEL_EXPORTER_OTLP_ENDPOINT="collector:4318": must match/,
    );
  });
});
