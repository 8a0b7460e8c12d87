import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Database, Queryable } from '../../platform/db/index.ts';
import { EXPORT_SECTIONS, type ExportRepository, exportRepository } from './export-repository.ts';
import { EXPORT_TTL_DAYS } from './export-schema.ts';

export interface BuildUserExportOptions {
  /** INNKEEP_DATA_DIR: the file goes to `<dataDir>/exports/<id>.json`. */
  readonly dataDir: string;
  /** Told each new percentage once it is stored on the row (0 first, 100 last). */
  readonly onProgress?: (pct: number) => Promise<void> | void;
  /** Checked between sections: the export goes back to queued, and the signal's reason is thrown. */
  readonly signal?: AbortSignal;
}

export interface BuiltExport {
  /** The absolute path of the JSON file. */
  readonly file: string;
  readonly bytes: number;
}

/**
 * The export cannot be built and retrying will not change that: it does not exist, or it was
 * superseded (the user asked for a new one after it failed). A job handler fails the job for good.
 */
export class ExportNotBuildableError extends Error {
  override readonly name = 'ExportNotBuildableError';
  /** The job queue dead-letters it at once instead of retrying. */
  readonly permanent = true;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Payload keys that could carry a credential (a reset link's token): never exported. */
const SECRET_KEY = /token|secret|password|hash/i;
/** The profile, each section, then the file. */
const STEPS = 1 + EXPORT_SECTIONS.length + 1;
const MAX_ERROR_LENGTH = 500;

/** The file's place under the data directory (what data_exports.file_path holds). */
export function exportFilePath(exportId: string): string {
  return join('exports', `${exportId}.json`);
}

/**
 * Builds the export `exportId` (the job a POST /api/me/export queued): marks it running, reads the
 * user's own rows section by section (one repeatable-read snapshot, progress stored on the row after
 * each), writes `<dataDir>/exports/<id>.json` atomically (a 0600 temp file renamed over it, in a 0700
 * folder) and marks it completed. Any failure marks it failed with the error and is rethrown.
 * Idempotent: a completed export whose file is in place is returned as it is; a running or failed one
 * (a retried job) is built again from scratch.
 *
 * @example
 * const { file, bytes } = await buildUserExport(db, exportId, { dataDir: config.db.dataDir });
 */
export async function buildUserExport(
  db: Database,
  exportId: string,
  options: BuildUserExportOptions,
): Promise<BuiltExport> {
  if (!UUID.test(exportId)) throw new ExportNotBuildableError(`export ${exportId} is not a UUID`);
  const repo = (q: Queryable) => exportRepository(q);
  const record = await db.read((q) => repo(q).find(exportId));
  if (!record) throw new ExportNotBuildableError(`export ${exportId} does not exist`);
  const relative = exportFilePath(exportId);
  const file = join(options.dataDir, relative);
  if (record.status === 'completed' && record.filePath === relative) {
    const bytes = await fileSize(file);
    if (bytes === record.fileBytes) return { file, bytes };
  }
  // Anything else (queued, a retried running or failed one, a completed one whose file is gone) is
  // built from scratch.
  if (!(await db.write((q) => repo(q).markRunning(exportId)))) {
    throw new ExportNotBuildableError(`export ${exportId} was superseded by a newer export of its user`);
  }
  try {
    const report = async (step: number) => {
      const pct = Math.floor((step * 100) / STEPS);
      await db.write((q) => repo(q).setProgress(exportId, pct));
      await options.onProgress?.(pct);
    };
    await options.onProgress?.(0);
    const content = await collect(db, record.userId, exportId, report, options.signal);
    const bytes = await writeAtomically(options.dataDir, relative, content);
    await db.write((q) => repo(q).markCompleted(exportId, relative, bytes, EXPORT_TTL_DAYS));
    await options.onProgress?.(100);
    return { file, bytes };
  } catch (err) {
    if (options.signal?.aborted) {
      await db.write((q) => repo(q).requeue(exportId));
    } else {
      const message = err instanceof Error ? err.message : String(err);
      await db.write((q) => repo(q).markFailed(exportId, message.slice(0, MAX_ERROR_LENGTH)));
    }
    throw err;
  }
}

/** The file's JSON text: every section read in one snapshot, so they agree with each other. */
async function collect(
  db: Database,
  userId: number,
  exportId: string,
  report: (step: number) => Promise<void>,
  signal: AbortSignal | undefined,
): Promise<string> {
  return db.transaction(
    async (tx) => {
      const repo: ExportRepository = exportRepository(tx);
      signal?.throwIfAborted();
      const profile = await repo.profile(userId);
      if (!profile) throw new ExportNotBuildableError(`the user of export ${exportId} no longer exists`);
      await report(1);
      const sections: Record<string, unknown> = {};
      for (const [i, section] of EXPORT_SECTIONS.entries()) {
        signal?.throwIfAborted();
        const rows = await repo.section(section, userId);
        sections[section] = section === 'notifications' ? rows.map(withoutSecrets) : rows;
        await report(i + 2);
      }
      signal?.throwIfAborted();
      return JSON.stringify(
        { exportId, generatedAt: new Date().toISOString(), profile, ...sections },
        null,
        2,
      );
    },
    { isolation: 'repeatable read' },
  );
}

/** A copy of the row with every key that could hold a credential left out, at any depth. */
function withoutSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutSecrets);
  if (value === null || typeof value !== 'object' || value instanceof Date) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key]) => !SECRET_KEY.test(key))
      .map(([key, v]) => [key, withoutSecrets(v)]),
  );
}

/** Writes a 0600 temp file beside the target, flushes it and renames it over the target. */
async function writeAtomically(dataDir: string, relative: string, content: string): Promise<number> {
  const target = join(dataDir, relative);
  const folder = join(target, '..');
  await mkdir(folder, { recursive: true, mode: 0o700 });
  // mkdir leaves an existing folder's mode alone.
  await chmod(folder, 0o700);
  const temp = `${target}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(temp, 'wx', 0o600);
  try {
    await handle.writeFile(content, 'utf8');
    await handle.sync();
  } catch (err) {
    await handle.close();
    await unlink(temp).catch(() => undefined);
    throw err;
  }
  await handle.close();
  try {
    await rename(temp, target);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw err;
  }
  return Buffer.byteLength(content, 'utf8');
}

async function fileSize(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch {
    return undefined;
  }
}
