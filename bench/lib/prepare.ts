// The datasets of the before/after table: today's template (seeded or reused) copied twice, the
// "before" copy stripped to its keys.
import {
  AFTER_DB,
  BEFORE_DB,
  cloneDatabase,
  type DatasetInfo,
  ensureTemplate,
  type StrippedSchema,
  secondaryIndexCount,
  stripToKeys,
  templateName,
} from './datasets.ts';
import type { BenchRun } from './run-context.ts';

export interface PreparedDatasets {
  readonly dataset: DatasetInfo;
  /** Keys-only copy, served by the naive code. */
  readonly beforeUrl: string;
  /** Real-schema copy, served by Innkeep. */
  readonly afterUrl: string;
  readonly stripped: StrippedSchema;
  readonly afterIndexes: number;
}

export async function prepareDatasets(run: BenchRun): Promise<PreparedDatasets> {
  const { cluster, options, log } = run;
  const { scale, seed } = options;
  const dataset = await ensureTemplate(cluster, {
    scale,
    seed,
    today: run.today,
    fresh: options.fresh,
    logger: run.logger,
  });
  log(
    `dataset ${scale}: ${dataset.reused ? 'reused today’s template' : `seeded in ${(dataset.seedMs / 1000).toFixed(0)} s`}`,
  );
  const template = templateName(scale, seed);
  await cloneDatabase(cluster, template, AFTER_DB);
  await cloneDatabase(cluster, template, BEFORE_DB);
  const beforeUrl = cluster.urlFor(BEFORE_DB);
  const afterUrl = cluster.urlFor(AFTER_DB);
  const stripped = await stripToKeys(beforeUrl);
  log(
    `before: dropped ${stripped.dropped.length} indexes, kept ${stripped.primaryKeys} primary keys and ${stripped.foreignKeys} foreign keys`,
  );
  const afterIndexes = await secondaryIndexCount(afterUrl);
  return { dataset, beforeUrl, afterUrl, stripped, afterIndexes };
}
