import { createReadStream, type ReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Database, RepositoryFactory } from '../../platform/db/index.ts';
import { appError } from '../../platform/errors/index.ts';
import { domainError } from '../errors.ts';
import type { ExportJobs } from './export-jobs.ts';
import type { ExportRecord, ExportRepository } from './export-repository.ts';
import type { DataExport } from './export-schema.ts';

export interface ExportServiceDeps {
  readonly db: Database;
  readonly exports: RepositoryFactory<ExportRepository>;
  /** INNKEEP_DATA_DIR: the files are under `<dataDir>/exports/`. */
  readonly dataDir: string;
  /** Queues the build; unset, exports stay queued until something builds them. */
  readonly jobs?: ExportJobs | undefined;
}

export interface ExportDownload {
  readonly stream: ReadStream;
  readonly bytes: number;
  readonly filename: string;
}

/** What a failed export says to its user; the error itself stays on the row and in the logs. */
const FAILED = 'The export could not be built: request a new one';

export class ExportService {
  readonly #db: Database;
  readonly #exports: RepositoryFactory<ExportRepository>;
  readonly #dataDir: string;
  readonly #jobs: ExportJobs | undefined;
  constructor(deps: ExportServiceDeps) {
    this.#db = deps.db;
    this.#exports = deps.exports;
    this.#dataDir = deps.dataDir;
    this.#jobs = deps.jobs;
  }

  /**
   * A new queued export, its build queued in the same transaction; or, while the user has a queued or
   * running export, that one (nothing queued again).
   */
  async request(userId: number): Promise<DataExport> {
    // Twice at most: a concurrent request's row can be invisible to the first statement's snapshot.
    for (let attempt = 0; ; attempt++) {
      const found = await this.#db.transaction(async (tx) => {
        const outcome = await this.#exports(tx).createOrFindActive(userId);
        if (outcome?.created) await this.#jobs?.enqueue(tx, outcome.record.id);
        return outcome;
      });
      if (found) return toDataExport(found.record);
      if (attempt >= 1) throw appError('CONFLICT', 'Another export request is being processed: retry');
    }
  }

  async status(userId: number, id: string): Promise<DataExport> {
    return toDataExport(await this.#find(userId, id));
  }

  /** The completed file: 409 before completion, 410 once expired (or its file purged). */
  async download(userId: number, id: string): Promise<ExportDownload> {
    const record = await this.#find(userId, id);
    // Expired first: the purge job forgets an expired export's file, which must still answer 410.
    if (record.expired) throw domainError('EXPORT_EXPIRED');
    if (record.status !== 'completed' || !record.filePath) {
      throw domainError('EXPORT_NOT_READY', `Export ${id} is ${record.status}`);
    }
    const path = join(this.#dataDir, record.filePath);
    let bytes: number;
    try {
      bytes = (await stat(path)).size;
    } catch {
      throw domainError('EXPORT_EXPIRED', 'The export’s file is no longer kept: request a new one');
    }
    return { stream: createReadStream(path), bytes, filename: `innkeep-export-${id}.json` };
  }

  async #find(userId: number, id: string): Promise<ExportRecord> {
    const record = await this.#db.read((db) => this.#exports(db).findForUser(id, userId));
    if (!record) throw appError('NOT_FOUND', `Export ${id} not found`);
    return record;
  }
}

export function exportLinks(id: string, downloadable: boolean): DataExport['links'] {
  const self = `/api/me/export/${id}`;
  return downloadable ? { self, download: `${self}/download` } : { self };
}

function toDataExport(r: ExportRecord): DataExport {
  const downloadable = r.status === 'completed' && !r.expired;
  // Dates: the response schema's date-time format serializes them as ISO 8601.
  return {
    id: r.id,
    status: r.status,
    progress: r.progress,
    createdAt: r.createdAt as unknown as string,
    startedAt: r.startedAt as unknown as string | null,
    finishedAt: r.finishedAt as unknown as string | null,
    expiresAt: r.expiresAt as unknown as string | null,
    expired: r.expired,
    fileBytes: r.fileBytes,
    error: r.status === 'failed' ? FAILED : null,
    links: exportLinks(r.id, downloadable),
  };
}
