// Fails when domain-free code (src/platform) imports the domain (src/app) or the entry points.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const platform = join(root, 'src/platform');
const forbidden = [join(root, 'src/app'), join(root, 'src/cli'), join(root, 'src/main.ts')];
const IMPORT = /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

const violations: string[] = [];
for (const file of walk(platform)) {
  const text = readFileSync(file, 'utf8');
  for (const match of text.matchAll(IMPORT)) {
    const spec = match[1] ?? match[2];
    if (!spec?.startsWith('.')) continue;
    const target = resolve(file, '..', spec);
    if (forbidden.some((f) => target === f || target.startsWith(`${f}/`))) {
      violations.push(`${relative(root, file)} imports ${spec}`);
    }
  }
}

if (violations.length > 0) {
  console.error(
    `src/platform must not import src/app, src/cli or src/main.ts:\n  ${violations.join('\n  ')}`,
  );
  process.exit(1);
}
console.log('boundaries: src/platform imports nothing from the app');

function* walk(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else if (/\.(ts|js|mts)$/.test(entry.name)) yield path;
  }
}
