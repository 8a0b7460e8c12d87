import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

/** One span as an OTLP receiver sees it (opentelemetry/proto/trace/v1/trace.proto), ids as hex. */
export interface ReceivedSpan {
  readonly traceId: string;
  readonly spanId: string;
  /** Undefined for a root span. */
  readonly parentSpanId: string | undefined;
  readonly name: string;
  /** OTLP's SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  readonly kind: number;
  /** The instrumentation scope's name (`@opentelemetry/instrumentation-pg`, `@fastify/otel`, ...). */
  readonly scope: string;
  readonly attributes: Readonly<Record<string, unknown>>;
  readonly resource: Readonly<Record<string, unknown>>;
  /** 0 unset, 1 ok, 2 error. */
  readonly statusCode: number;
}

export const SPAN_KIND = { internal: 1, server: 2, client: 3 } as const;

export interface OtlpReceiver {
  /** Base URL, for OTEL_EXPORTER_OTLP_ENDPOINT (the exporter posts to `<url>/v1/traces`). */
  readonly url: string;
  /** Every span received so far, in arrival order (empty when `keepSpans` is false). */
  readonly spans: ReceivedSpan[];
  /** Spans received, kept or not. */
  spanCount(): number;
  close(): Promise<void>;
}

/**
 * A local OTLP/HTTP traces receiver, as an OpenTelemetry Collector would be: accepts OTLP/JSON
 * `ExportTraceServiceRequest`s (gzip or not) on POST /v1/traces, so a test can look at the spans an
 * app exported. With `keepSpans: false` it only counts them, without parsing (a benchmark's sink,
 * which must take as little as possible from the load generator it shares a process with).
 *
 * @example
 * const receiver = await startOtlpReceiver();
 * // start the app with OTEL_EXPORTER_OTLP_ENDPOINT=receiver.url, make requests, stop it, then:
 * receiver.spans.filter((s) => s.scope === '@opentelemetry/instrumentation-pg');
 */
export async function startOtlpReceiver(options: { keepSpans?: boolean } = {}): Promise<OtlpReceiver> {
  const keepSpans = options.keepSpans ?? true;
  const spans: ReceivedSpan[] = [];
  let count = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/traces') {
        res.writeHead(404).end();
        return;
      }
      try {
        if (!String(req.headers['content-type']).startsWith('application/json')) {
          throw new Error(`expected OTLP/JSON, got ${req.headers['content-type']}`);
        }
        let body = Buffer.concat(chunks);
        if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
        if (keepSpans) {
          const decoded = decodeExportTraceServiceRequest(JSON.parse(body.toString('utf8')));
          count += decoded.length;
          spans.push(...decoded);
        } else count += occurrences(body, SPAN_ID_KEY);
        // An empty ExportTraceServiceResponse: everything accepted.
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      } catch (err) {
        res.writeHead(400, { 'content-type': 'text/plain' }).end(String(err));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    spanCount: () => count,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Every span has one `spanId` key (its parent's is `parentSpanId`; Innkeep's spans have no links). */
const SPAN_ID_KEY = Buffer.from('"spanId":');

function occurrences(haystack: Buffer, needle: Buffer): number {
  let n = 0;
  for (let at = haystack.indexOf(needle); at >= 0; at = haystack.indexOf(needle, at + needle.length)) n++;
  return n;
}

interface JsonKeyValue {
  key: string;
  value?: JsonAnyValue;
}
interface JsonAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: number | string;
  doubleValue?: number;
  arrayValue?: { values?: JsonAnyValue[] };
  kvlistValue?: { values?: JsonKeyValue[] };
}
interface JsonSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: JsonKeyValue[];
  status?: { code?: number };
}
interface JsonExportTraceServiceRequest {
  resourceSpans?: {
    resource?: { attributes?: JsonKeyValue[] };
    scopeSpans?: { scope?: { name?: string }; spans?: JsonSpan[] }[];
  }[];
}

/** Flattens an OTLP/JSON ExportTraceServiceRequest into spans, each with its resource and scope. */
function decodeExportTraceServiceRequest(request: JsonExportTraceServiceRequest): ReceivedSpan[] {
  return (request.resourceSpans ?? []).flatMap((rs) => {
    const resource = attributes(rs.resource?.attributes);
    return (rs.scopeSpans ?? []).flatMap((ss) =>
      (ss.spans ?? []).map((s) => ({
        traceId: s.traceId,
        spanId: s.spanId,
        parentSpanId: s.parentSpanId || undefined,
        name: s.name,
        kind: s.kind,
        scope: ss.scope?.name ?? '',
        attributes: attributes(s.attributes),
        resource,
        statusCode: s.status?.code ?? 0,
      })),
    );
  });
}

function attributes(list: JsonKeyValue[] | undefined): Record<string, unknown> {
  return Object.fromEntries((list ?? []).map((kv) => [kv.key, kv.value && anyValue(kv.value)]));
}

function anyValue(v: JsonAnyValue): unknown {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  // OTLP/JSON allows an int64 as a number or a decimal string.
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(anyValue);
  if (v.kvlistValue) return attributes(v.kvlistValue.values);
  return undefined;
}
