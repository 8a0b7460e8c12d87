import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CACHE_POLICIES } from '../src/app/common/cache.ts';
import { DomainErrors } from '../src/app/errors.ts';
import { ErrorCodes } from '../src/platform/errors/index.ts';

const readme = readFileSync(join(import.meta.dirname, '../README.md'), 'utf8');

describe('README', () => {
  it('when an error code exists, then the README error table lists it', () => {
    const table = readme.slice(readme.indexOf('| Code | HTTP | When |'));
    const missing = [...Object.values(ErrorCodes), ...Object.values(DomainErrors)]
      .map((e) => e.code)
      .filter((code) => !table.includes(`\`${code}\``));
    assert.deepEqual(missing, [], 'add these codes to the README error table');
  });

  it('when a cache namespace exists, then the README caching table lists it with its mode and TTL', () => {
    const table = readme.slice(readme.indexOf('| Namespace | Holds | Mode | TTL | Dropped by |'));
    const rows = table.split('\n\n')[0]!.split('\n');
    const wrong = Object.values(CACHE_POLICIES).filter((p) => {
      const row = rows.find((r) => r.startsWith(`| \`${p.name}\` |`));
      return !row?.includes(` ${p.mode} `) || !row.includes(p.ttl);
    });
    assert.deepEqual(
      wrong.map((p) => p.name),
      [],
      'the README caching table must list these namespaces as src/app/common/cache.ts defines them',
    );
  });

  it('when a benchmark result is committed, then the README shows its tables unchanged', () => {
    const results = readFileSync(join(import.meta.dirname, '../bench/results/medium.md'), 'utf8');
    const rows = results.split('\n').filter((line) => line.startsWith('| '));
    assert.ok(rows.length > 12, 'bench/results/medium.md has the before/after and scaling tables');
    const missing = rows.filter((row) => !readme.includes(row));
    assert.deepEqual(missing, [], 'copy the tables of bench/results/medium.md into the README');
  });
});
