import Type, { type Static } from 'typebox';
import { EXPORT_STATUSES } from '../db/schema/exports.ts';

/** A completed export's file is served for this long. */
export const EXPORT_TTL_DAYS = 7;

export const ExportId = Type.String({ format: 'uuid', description: 'The export’s id (a UUID)' });

export const ExportIdParams = Type.Object({ id: ExportId }, { additionalProperties: false });
export type ExportIdParams = Static<typeof ExportIdParams>;

export const ExportStatus = Type.Union(
  EXPORT_STATUSES.map((s) => Type.Literal(s)),
  { description: 'queued → running → completed (or failed)' },
);
export type ExportStatus = Static<typeof ExportStatus>;

const Timestamp = Type.Union([Type.String({ format: 'date-time' }), Type.Null()]);

export const DataExport = Type.Object({
  id: ExportId,
  status: ExportStatus,
  progress: Type.Integer({ minimum: 0, maximum: 100, description: 'Percent of the sections written' }),
  createdAt: Type.String({ format: 'date-time' }),
  startedAt: Timestamp,
  finishedAt: Timestamp,
  expiresAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], {
    description: `Completed exports: the file is served until then (${EXPORT_TTL_DAYS} days after completion)`,
  }),
  expired: Type.Boolean({ description: 'Completed and past expiresAt: the file is no longer served' }),
  fileBytes: Type.Union([Type.Integer(), Type.Null()], { description: 'The file’s size once completed' }),
  error: Type.Union([Type.String(), Type.Null()], {
    description: 'Why a failed export failed, in general terms (the details are in the logs)',
  }),
  links: Type.Object({
    self: Type.String({ description: 'This status' }),
    download: Type.Optional(
      Type.String({ description: 'The JSON file; present while the export is completed and not expired' }),
    ),
  }),
});
export type DataExport = Static<typeof DataExport>;

const Rows = (description: string) =>
  Type.Array(Type.Object({}, { additionalProperties: true }), { description });

/** The downloaded file: only the caller's own data, no password hash, token or other user's data. */
export const UserExportFile = Type.Object(
  {
    exportId: ExportId,
    generatedAt: Type.String({ format: 'date-time' }),
    profile: Type.Object(
      {
        id: Type.Integer(),
        email: Type.String(),
        name: Type.String(),
        role: Type.String(),
        createdAt: Type.String({ format: 'date-time' }),
        updatedAt: Type.String({ format: 'date-time' }),
      },
      { description: 'The account (without its password hash)' },
    ),
    bookings: Rows('Every booking, oldest first, with its hotel and room type'),
    payments: Rows('Every payment of those bookings'),
    trips: Rows('Every trip'),
    waitlist: Rows('Every waitlist entry'),
    reviews: Rows('Every review written'),
    notifications: Rows('Every notification (payload keys that could hold credentials are left out)'),
  },
  { description: 'A JSON file (Content-Disposition: attachment)' },
);
