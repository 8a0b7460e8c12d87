import type { TracingConfig } from '../config/index.ts';
import type { Tracing } from './tracing-handle.ts';

export type { Tracing };

/**
 * The URL traces go to, or undefined when tracing is off (the OTLP exporter's own precedence).
 *
 * @example
 * tracesUrl({ otlpEndpoint: 'http://collector:4318', serviceName: 'innkeep' }); // 'http://collector:4318/v1/traces'
 */
export function tracesUrl(config: TracingConfig): string | undefined {
  if (config.otlpTracesEndpoint) return config.otlpTracesEndpoint;
  if (!config.otlpEndpoint) return undefined;
  return `${config.otlpEndpoint.replace(/\/+$/, '')}/v1/traces`;
}

/**
 * Starts OpenTelemetry tracing when an OTLP endpoint is configured; otherwise does nothing and loads
 * nothing (the SDK is imported only here, dynamically). pg, ioredis and node:http are instrumented by
 * patching them as they load, so call this before anything imports them: `src/main.ts` does, then
 * imports the rest of the program.
 *
 * @example
 * const tracing = await startTracing(loadConfig().tracing);
 * const { runCli } = await import('./cli/run.ts'); // fastify and pg load now, and are instrumented
 */
export async function startTracing(config: TracingConfig): Promise<Tracing | undefined> {
  const url = tracesUrl(config);
  if (!url) return undefined;
  const { startOpenTelemetry } = await import('./open-telemetry.ts');
  return startOpenTelemetry({
    url,
    serviceName: config.serviceName,
    sampler: config.sampler,
    samplerArg: config.samplerArg,
  });
}
