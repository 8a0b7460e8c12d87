// A node:test reporter that counts results from the runner's structured events and, when the run
// ends, writes them as one JSON line (a `TestCounts`) to its destination. scripts/test.ts runs it
// next to `spec` (which is for humans) and reads the file, so the totals never depend on parsing
// text that tests and their failure messages can also print.
//
//   node --test --test-reporter=spec --test-reporter-destination=stdout \
//     --test-reporter=./scripts/lib/count-reporter.ts --test-reporter-destination=counts.json
import { relative } from 'node:path';
import type { EventData } from 'node:test';
import type { TestEvent } from 'node:test/reporters';

export interface TestCounts {
  passed: number;
  /** Failed tests, cancelled ones included (a failed hook cancels the tests it guards). */
  failed: number;
  cancelled: number;
  /** Skipped and todo tests. */
  skipped: number;
  /** `file: name (reason)` of each skipped test, so that a run that allows none can say which. */
  skips: string[];
}

/** The reporter: `--test-reporter=./scripts/lib/count-reporter.ts`. */
export default async function* countReporter(source: AsyncIterable<TestEvent>): AsyncGenerator<string> {
  const counts: TestCounts = { passed: 0, failed: 0, cancelled: 0, skipped: 0, skips: [] };
  for await (const event of source) {
    if (event.type === 'test:pass' || event.type === 'test:fail') count(counts, event.type, event.data);
  }
  yield `${JSON.stringify(counts)}\n`;
}

/**
 * Counts like node:test's own summary: tests, not suites (a describe block's pass or fail only
 * repeats its tests'), skip and todo before failure (a failing todo test fails nothing).
 */
function count(
  counts: TestCounts,
  type: 'test:pass' | 'test:fail',
  data: EventData.TestPass | EventData.TestFail,
): void {
  if (data.details.type === 'suite') return;
  if (marked(data.skip) || marked(data.todo)) {
    counts.skipped++;
    const reason = [data.skip, data.todo].find((r) => typeof r === 'string' && r !== '');
    const where = `${data.file ? relative(process.cwd(), data.file) : '?'}: ${data.name}`;
    counts.skips.push(reason ? `${where} (${reason})` : where);
  } else if (type === 'test:fail') {
    counts.failed++;
    const error = (data as EventData.TestFail).details.error as { failureType?: string };
    if (error.failureType === 'cancelledByParent') counts.cancelled++;
  } else {
    counts.passed++;
  }
}

const marked = (flag: string | boolean | undefined) => flag !== undefined && flag !== false;
