// The server of the overload row (bench/lib/overload-phase.ts): Innkeep's HTTP platform (the same
// hooks as the app: request context, time budget, security headers, load shedding) with one route
// that costs a fixed amount of CPU and waits like a database call, so that what the server sustains is known and 4x of it is
// overload. Settings come from the environment like the app's (HTTP_MAX_IN_FLIGHT, SHED_*).
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '../src/platform/config/index.ts';
import {
  createHttpServer,
  registerEdgeProtection,
  registerLoadShedding,
} from '../src/platform/http/index.ts';

const config = loadConfig();
const workMs = Number(process.env.BENCH_WORK_MS ?? '2');
const app = createHttpServer(config);
await registerEdgeProtection(app, {
  production: false,
  corsOrigins: undefined,
  authBodyLimitBytes: config.http.authBodyLimitBytes,
});
await registerLoadShedding(app, config.shedding);
app.get('/healthz', async () => ({ status: 'ok' }));
// Like an app route: some CPU (parsing, serialising: BENCH_WORK_MS) and a wait for the database
// (BENCH_WAIT_MS) during which other requests run.
const waitMs = Number(process.env.BENCH_WAIT_MS ?? '5');
app.get('/work', async () => {
  const until = performance.now() + workMs;
  let digest = '';
  while (performance.now() < until) digest = createHash('sha256').update(digest).digest('hex');
  await sleep(waitMs);
  return { digest };
});
await app.listen({ host: config.http.host, port: config.http.port });
process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
