/** A page as the API takes it: `page` counts from 1, `limit` rows per page. */
export interface PageRequest {
  readonly page: number;
  readonly limit: number;
}

/** What a repository reads for a page: one row more than the page holds, to learn if another follows. */
export interface PageWindow {
  readonly fetch: number;
  readonly offset: number;
}

/** The `{ data, page, limit, hasMore }` every list endpoint answers (the `Paged` schema). */
export interface Page<T> {
  readonly data: T[];
  readonly page: number;
  readonly limit: number;
  readonly hasMore: boolean;
}

/** The rows a repository fetches for `request`: `limit + 1` from the page's first row. */
export function pageWindow({ page, limit }: PageRequest): PageWindow {
  return { fetch: limit + 1, offset: (page - 1) * limit };
}

/** Shapes rows read with `pageWindow(request)` into the page (the extra row only says `hasMore`). */
export function toPage<T>(rows: readonly T[], { page, limit }: PageRequest): Page<T> {
  return { data: rows.slice(0, limit), page, limit, hasMore: rows.length > limit };
}
