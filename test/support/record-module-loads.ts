// A preload for tests (`node --import test/support/record-module-loads.ts app.ts`): records the URL of
// every module the process loads, ES module imports and CommonJS requires alike (synchronous module
// hooks see both), and writes them, one a line, to $LOADED_MODULES_FILE when the process exits.
import { writeFileSync } from 'node:fs';
import { registerHooks } from 'node:module';

const file = process.env.LOADED_MODULES_FILE;
const loaded = new Set<string>();
registerHooks({
  load(url, context, nextLoad) {
    loaded.add(url);
    return nextLoad(url, context);
  },
});
process.on('exit', () => {
  if (file) writeFileSync(file, [...loaded].join('\n'));
});
