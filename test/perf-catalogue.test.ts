import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { SEARCH_SORTS } from '../src/app/hotels/search-schema.ts';
import { catalogueStatements, STATEMENT_CATALOGUE } from '../src/app/perf/statement-catalogue.ts';
import type { StatementSamples } from '../src/app/perf/statement-samples.ts';
import { REPORT_GROUPS } from '../src/app/reports/report-schema.ts';
import { REVIEW_SORTS } from '../src/app/reviews/review-schema.ts';

const APP = join(import.meta.dirname, '../src/app');
/** The catalogue names statements too (in `name:` fields of its own); it is not a sender. */
const CATALOGUE_DIR = join(APP, 'perf');

/** A statement's QueryConfig: `name: '…'` or `name: \`…\``, then (past comment lines) its `text`. */
const NAMED = /\bname:\s*(['`])((?:(?!\1)[^\n])*)\1,\s*(?:\/\/[^\n]*\n\s*)*text\b/g;
/**
 * The same with a name that is not a string literal, which this test could not read (a parameter list
 * `name: string, text: string` is not one).
 */
const UNREADABLE = /\bname:\s*(?!string\b)([^'`"\s][^,\n]*),\s*(?:\/\/[^\n]*\n\s*)*text\b/g;

interface SourceName {
  readonly file: string;
  readonly name: string;
  /** For a template literal: the names it can produce. */
  readonly pattern?: RegExp;
}

function sourceNames(): { names: SourceName[]; unreadable: string[] } {
  const names: SourceName[] = [];
  const unreadable: string[] = [];
  const files = readdirSync(APP, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name))
    .filter((f) => !f.startsWith(`${CATALOGUE_DIR}/`));
  for (const path of files) {
    const file = relative(APP, path);
    const source = readFileSync(path, 'utf8');
    for (const m of source.matchAll(NAMED)) {
      const [, quote, name = ''] = m;
      names.push(
        quote === '`' && name.includes('${')
          ? { file, name, pattern: templatePattern(name) }
          : { file, name },
      );
    }
    for (const m of source.matchAll(UNREADABLE)) unreadable.push(`${file}: name: ${m[1]}`);
  }
  return { names, unreadable };
}

/** `reviews_list_${sort}` -> /^reviews_list_(.+)$/ */
function templatePattern(template: string): RegExp {
  const parts = template.split(/\$\{[^}]*\}/).map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${parts.join('(.+)')}$`);
}

const SAMPLES: StatementSamples = {
  city: 'Paris',
  hotelId: 1,
  hotelName: 'The Velvet Hill',
  roomTypeId: 2,
  checkIn: '2030-01-02',
  checkOut: '2030-01-05',
  reportFrom: '2030-01-02',
  reportTo: '2030-02-01',
  userId: 3,
  bookingId: 4,
  tripId: 5,
  tripUserId: 3,
  waitlistId: 6,
  waitlistUserId: 3,
};

describe('the statement catalogue', () => {
  const { names, unreadable } = sourceNames();
  const catalogued = STATEMENT_CATALOGUE.map((e) => e.name);
  const templates = names.filter((n) => n.pattern);
  const literals = names.filter((n) => !n.pattern);

  it('when the app sources are read, then every named statement is found (none hides its name in a variable)', () => {
    assert.deepEqual(unreadable, []);
    // A sanity floor: the repositories send over 40 literal names and 3 families.
    assert.ok(literals.length >= 40, `found only ${literals.length} literal names`);
    // The families, by the text before their first placeholder.
    assert.deepEqual(templates.map((t) => t.name.split('$')[0]).sort(), [
      'hotel_search:',
      'reports_bookings_by_',
      'reviews_list_',
    ]);
  });

  it('when a repository sends a named statement, then the catalogue has an entry for it', () => {
    const missing = literals.filter((n) => !catalogued.includes(n.name)).map((n) => `${n.file}: ${n.name}`);
    assert.deepEqual(missing, [], 'add these statements to src/app/perf (statement-catalogue.ts)');
    for (const t of templates) {
      assert.ok(
        catalogued.some((c) => t.pattern?.test(c)),
        `${t.file}: no catalogue entry for the statements named ${t.name}`,
      );
    }
  });

  it('when the catalogue names a statement, then some repository sends it, once catalogued', () => {
    const known = (c: string) =>
      literals.some((n) => n.name === c) || templates.some((t) => t.pattern?.test(c));
    assert.deepEqual(
      catalogued.filter((c) => !known(c)),
      [],
    );
    assert.equal(new Set(catalogued).size, catalogued.length, 'duplicate catalogue entries');
  });

  it('when a statement name varies with a parameter, then every value of it is catalogued', () => {
    for (const sort of REVIEW_SORTS) assert.ok(catalogued.includes(`reviews_list_${sort}`), sort);
    for (const group of REPORT_GROUPS) assert.ok(catalogued.includes(`reports_bookings_by_${group}`), group);
    const searches = catalogued.filter((c) => c.startsWith('hotel_search:')).map((c) => c.split(':'));
    for (const sort of SEARCH_SORTS)
      assert.ok(
        searches.some(([, , s]) => s === sort),
        `search sort ${sort}`,
      );
    for (const filter of ['all', 'city', 'stars', 'rating', 'q', 'name']) {
      assert.ok(
        searches.some(([, shape]) => shape?.split('+').includes(filter)),
        `search filter ${filter}`,
      );
    }
  });

  it('when every entry runs its repository method, then it sends the statement of its own name', async () => {
    const statements = await catalogueStatements(SAMPLES);
    assert.equal(statements.length, STATEMENT_CATALOGUE.length);
    for (const { entry, statement } of statements) {
      assert.equal(statement.name, entry.name);
      assert.ok(statement.text.trim().length > 0, entry.name);
    }
    const search = statements.find((s) => s.entry.name === 'hotel_search:city:rating');
    assert.match(search?.statement.text ?? '', /lower\(h\.city\) = lower\(\$1\)/);
    assert.deepEqual(search?.statement.values, ['Paris', 21, 0]);
  });

  it('when an entry sends no statement of its name, then building the statements fails naming it', async () => {
    const wrong = { ...STATEMENT_CATALOGUE[0]!, name: 'no_such_statement' };
    await assert.rejects(catalogueStatements(SAMPLES, [wrong]), /no_such_statement sent hotel_search:/);
  });
});
