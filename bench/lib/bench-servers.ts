// The servers a bench run measures, each in its own process: the hello-world ceiling, Innkeep and the
// naive app on the compared copies, and one Innkeep per dataset size for the scaling curve.
import { Target } from './measure.ts';
import type { BenchRun } from './run-context.ts';
import { startServer } from './servers.ts';

/** A started server and the keep-alive client that measures it (`runLoad` takes it as it is). */
export interface Endpoint {
  readonly name: string;
  readonly url: string;
  readonly target: Target;
  /** The server's process id (its CPU time and memory are read from /proc). */
  readonly pid: number;
}

export interface ComparedServers {
  readonly hello: Endpoint;
  /** Innkeep on the real schema ("after"). */
  readonly innkeep: Endpoint;
  /** The naive app on the keys-only copy ("before"). */
  readonly naive: Endpoint;
}

/** Settings shared by every app server of a run: production mode, the run's secret, no seeding. */
export function appEnv(run: BenchRun, databaseUrl: string): Record<string, string> {
  return {
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    DATABASE_URL: databaseUrl,
    JWT_SECRET: run.jwtSecret,
    INNKEEP_DATA_DIR: run.scratch,
    DB_SEED_ON_EMPTY: 'none',
    // The before/after and scaling rows measure the code paths themselves (what every cache miss
    // runs); the cache rows start their own servers with it on.
    CACHE_ENABLED: 'false',
    // One load generator is one client address sending thousands of requests a second; the cost of
    // the limiter has its own row (bench/lib/rate-limit-phase.ts).
    RATE_LIMIT_ENABLED: 'false',
  };
}

export async function startComparedServers(
  run: BenchRun,
  urls: { readonly beforeUrl: string; readonly afterUrl: string },
): Promise<ComparedServers> {
  const env = (databaseUrl: string): Record<string, string> => ({
    ...appEnv(run, databaseUrl),
    // The naive reports run for seconds; the same limits apply to both sides.
    DB_STATEMENT_TIMEOUT_MS: '120000',
    HTTP_REQUEST_TIMEOUT_MS: '0',
  });
  const [hello, innkeep, naive] = await Promise.all([
    startServer({ name: 'hello', script: 'bench/hello-server.ts', env: {}, readyPath: '/healthz' }),
    startServer({
      name: 'innkeep',
      script: 'src/main.ts',
      args: ['start'],
      env: env(urls.afterUrl),
      readyPath: '/ready',
    }),
    startServer({
      name: 'naive',
      script: 'bench/naive/server.ts',
      env: env(urls.beforeUrl),
      readyPath: '/healthz',
    }),
  ]);
  run.servers.push(hello, innkeep, naive);
  const endpoint = (server: { name: string; url: string; pid: number }): Endpoint => {
    const target = new Target(server.name, server.url, 512);
    run.targets.push(target);
    return { name: server.name, url: server.url, target, pid: server.pid };
  };
  return { hello: endpoint(hello), innkeep: endpoint(innkeep), naive: endpoint(naive) };
}

/** Innkeep on a template database as it is (read-only operations: no copy, no migration). */
export async function startScalingServer(
  run: BenchRun,
  scale: string,
  databaseUrl: string,
): Promise<Endpoint> {
  const server = await startServer({
    name: `innkeep-${scale}`,
    script: 'src/main.ts',
    args: ['start'],
    env: { ...appEnv(run, databaseUrl), DB_MIGRATE_ON_START: 'false' },
    readyPath: '/healthz',
  });
  run.servers.push(server);
  const target = new Target(`innkeep-${scale}`, server.url);
  run.targets.push(target);
  return { name: server.name, url: server.url, target, pid: server.pid };
}
