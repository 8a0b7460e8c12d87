#!/usr/bin/env node
// The entry point (`npm start`, `bin/innkeep`, `node src/main.ts`). Tracing instruments pg, ioredis
// and node:http by patching them as they load, so it has to start before anything imports them. ES
// module imports are hoisted (they all load before this file's first line runs), so this file
// imports only what decides whether to trace (argv, the configuration: typebox and node builtins)
// and loads the rest of the program, fastify and pg included, with a dynamic import afterwards.
import { startsServer } from './cli/command-line.ts';
import { ConfigError, loadConfig } from './platform/config/index.ts';
import { startTracing, type Tracing } from './platform/observability/tracing.ts';

const argv = process.argv.slice(2);

/** Only the server is traced; with no OTLP endpoint configured this loads nothing. */
async function tracingFor(args: string[]): Promise<Tracing | undefined> {
  if (!startsServer(args)) return undefined;
  try {
    return await startTracing(loadConfig().tracing);
  } catch (err) {
    // An invalid configuration is reported by the CLI, which names every bad variable (exit 2).
    if (err instanceof ConfigError) return undefined;
    throw err;
  }
}

const tracing = await tracingFor(argv);
const { runCli } = await import('./cli/run.ts');
await runCli(argv, { tracing });
