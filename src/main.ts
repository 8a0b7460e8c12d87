#!/usr/bin/env node
// The entry point (`npm start`, `bin/innkeep`, `node src/main.ts`). It loads the CLI, and through it
// fastify and pg, with a dynamic import, so that what must run before those modules load (module
// patching for tracing) can run here first: static ES module imports are all hoisted.
const { runCli } = await import('./cli/run.ts');
await runCli(process.argv.slice(2));
