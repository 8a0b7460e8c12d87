// The layering rules `npm run check` enforces (README, Design):
// - domain-free code (src/platform) imports neither the domain (src/app) nor the entry points;
// - the domain (src/app) goes through the database port: it imports no driver (`pg`) and never
//   reaches a pool (`.pool`): Database.read/write/transaction/session and the owned Queryable types.
//
//   node scripts/check-boundaries.ts [root]     (root defaults to the project; tests pass a fixture)
import { type Dirent, readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const root = resolve(process.argv[2] ?? join(import.meta.dirname, '..'));
const platform = join(root, 'src/platform');
const app = join(root, 'src/app');
const forbidden = [app, join(root, 'src/cli'), join(root, 'src/main.ts')];
const IMPORT = /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;
const DRIVERS = /^(pg|pg-pool|pg-cursor|pg-query-stream)(\/|$)/;
const POOL = /\.pool\b/;

const violations: string[] = [];
for (const file of walk(platform)) {
  for (const spec of importsOf(file)) {
    if (!spec.startsWith('.')) continue;
    const target = resolve(file, '..', spec);
    if (forbidden.some((f) => target === f || target.startsWith(`${f}/`))) {
      violations.push(`${relative(root, file)} imports ${spec} (src/platform must not import the app)`);
    }
  }
}
for (const file of walk(app)) {
  for (const spec of importsOf(file)) {
    if (DRIVERS.test(spec)) {
      violations.push(`${relative(root, file)} imports '${spec}' (use the database port in src/platform/db)`);
    }
  }
  readFileSync(file, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      const code = line.replace(/\/\/.*$/, '');
      if (POOL.test(code) && !/^\s*\*/.test(code)) {
        violations.push(`${relative(root, file)}:${i + 1} reaches .pool (use db.read/write/transaction)`);
      }
    });
}

if (violations.length > 0) {
  console.error(`boundary violations:\n  ${violations.join('\n  ')}`);
  process.exit(1);
}
console.log('boundaries: src/platform imports nothing from the app; src/app uses only the database port');

function importsOf(file: string): string[] {
  return [...readFileSync(file, 'utf8').matchAll(IMPORT)].flatMap((m) => {
    const spec = m[1] ?? m[2];
    return spec ? [spec] : [];
  });
}

function* walk(dir: string): Generator<string> {
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else if (/\.(ts|js|mts)$/.test(entry.name)) yield path;
  }
}
