export type {
  AppErrorOptions,
  CatalogEntry,
  ErrorCodeName,
  ErrorDetail,
  ErrorTranslator,
} from './catalogue.ts';
export { AppError, appError, ErrorCodes } from './catalogue.ts';
