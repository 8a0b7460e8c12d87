import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { NODE, spawnCapture } from './support/process.ts';

const ROOT = join(import.meta.dirname, '..');
const DEPCRUISE = join(ROOT, 'node_modules/dependency-cruiser/bin/dependency-cruiser.mjs');

/** Small module trees, one folder each; `npm run cycles` must pass the first and fail the others. */
const FIXTURES: Record<string, Record<string, string>> = {
  acyclic: {
    'main.ts': "import { b } from './b.ts';\nimport { c } from './lib/c.ts';\nexport const a = b + c;\n",
    'b.ts': "import { c } from './lib/c.ts';\nexport const b = c;\n",
    'lib/c.ts': 'export const c = 1;\n',
  },
  'module-cycle': {
    'a.ts': "import { b } from './b.ts';\nexport const a = () => b();\n",
    'b.ts': "import { c } from './c.ts';\nexport const b = () => c();\n",
    'c.ts': "import { a } from './a.ts';\nexport const c = () => a;\n",
  },
  'type-only-cycle': {
    'a.ts': "import type { B } from './b.ts';\nexport interface A { b: B }\n",
    'b.ts': "import type { A } from './a.ts';\nexport interface B { a?: A }\n",
  },
  // Like src/platform/db/pg-errors.ts → http/errors.ts with http/error-handler.ts → db/pg-errors.ts:
  // no module reaches itself, but the two folders import each other.
  'folder-cycle': {
    'db/pg-errors.ts': "import { appError } from '../http/errors.ts';\nexport const translate = appError;\n",
    'http/errors.ts': 'export const appError = (code: string) => new Error(code);\n',
    'http/handler.ts': "import { translate } from '../db/pg-errors.ts';\nexport const handle = translate;\n",
  },
};

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'innkeep-cycles-'));
  for (const [fixture, files] of Object.entries(FIXTURES)) {
    for (const [file, text] of Object.entries(files)) {
      await mkdir(dirname(join(dir, fixture, file)), { recursive: true });
      await writeFile(join(dir, fixture, file), text);
    }
  }
});
after(() => rm(dir, { recursive: true, force: true }));

/** The cycle check of `npm run cycles` (same tool, same configuration) on one fixture folder. */
async function checkCycles(fixture: string) {
  const run = spawnCapture(NODE, [DEPCRUISE, '--config', '.dependency-cruiser.js', join(dir, fixture)], {
    cwd: ROOT,
  });
  const code = await run.exited;
  return { code, output: run.out() + run.err() };
}

describe('npm run cycles', () => {
  it('when no module or folder imports itself back, then the check passes', async () => {
    const run = await checkCycles('acyclic');
    assert.equal(run.code, 0, run.output);
    assert.match(run.output, /no dependency violations found \(3 modules/);
  });

  it('when three modules import each other in a ring, then the check fails and names the cycle', async () => {
    const run = await checkCycles('module-cycle');
    assert.notEqual(run.code, 0, run.output);
    assert.match(
      run.output,
      /error no-circular: \S*module-cycle\/a\.ts → \s*\S*b\.ts →\s*\S*c\.ts →\s*\S*a\.ts/,
    );
  });

  it('when the cycle is made of type-only imports, then the check fails too', async () => {
    const run = await checkCycles('type-only-cycle');
    assert.notEqual(run.code, 0, run.output);
    assert.match(run.output, /error no-circular: \S*type-only-cycle\/a\.ts/);
  });

  it('when two folders import each other through different files, then the check fails', async () => {
    const run = await checkCycles('folder-cycle');
    assert.notEqual(run.code, 0, run.output);
    assert.match(run.output, /error no-circular-folders: \S*folder-cycle\/(db|http) →/);
    assert.doesNotMatch(run.output, /error no-circular:/, 'no single module is in a cycle');
  });
});

describe('npm run cycles: the platform folders’ direction', () => {
  /** A tree shaped like the project (`src/platform/<from>` importing `src/platform/<to>`), checked from its root. */
  async function checkDirection(from: string, to: string) {
    const root = await mkdtemp(join(tmpdir(), 'innkeep-direction-'));
    try {
      await mkdir(join(root, 'src/platform', from), { recursive: true });
      await mkdir(join(root, 'src/platform', to), { recursive: true });
      await writeFile(
        join(root, 'src/platform', from, 'a.ts'),
        `import { b } from '../${to}/b.ts';\nexport const a = b;\n`,
      );
      await writeFile(join(root, 'src/platform', to, 'b.ts'), 'export const b = 1;\n');
      await writeFile(join(root, 'tsconfig.json'), await readFile(join(ROOT, 'tsconfig.json'), 'utf8'));
      const run = spawnCapture(NODE, [DEPCRUISE, '--config', join(ROOT, '.dependency-cruiser.js'), 'src'], {
        cwd: root,
      });
      return { code: await run.exited, output: run.out() + run.err() };
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  }

  it('when a platform folder imports one to its left, then the check passes', async () => {
    for (const [from, to] of [
      ['ops', 'http'],
      ['http', 'db'],
      ['db', 'observability'],
      ['observability', 'config'],
    ]) {
      const run = await checkDirection(from!, to!);
      assert.equal(run.code, 0, `${from} → ${to}: ${run.output}`);
    }
  });

  it('when a platform folder imports one to its right, then the check fails naming the rule', async () => {
    for (const [from, to] of [
      ['db', 'http'],
      ['http', 'ops'],
      ['observability', 'db'],
      ['config', 'observability'],
    ]) {
      const run = await checkDirection(from!, to!);
      assert.notEqual(run.code, 0, `${from} → ${to} passed`);
      assert.match(run.output, /error platform-direction-\w+: src\/platform\//, run.output);
    }
  });
});
