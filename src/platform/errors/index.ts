export type {
  AppErrorOptions,
  CatalogEntry,
  ErrorCodeName,
  ErrorDetail,
  ErrorTranslator,
} from './catalogue.ts';
export { AppError, appError, catalogError, ErrorCodes } from './catalogue.ts';
