// Keyset (cursor) pagination, the one shape every list in db/ takes: rows in the order of one
// unique column, `after` is that column's value on the last row of the previous page, never an
// OFFSET, so a page costs the same deep in a list of millions and rows added meanwhile are
// neither skipped nor repeated. One row past the page is read to know whether another follows.
import type { Knex } from 'knex';

export interface Page<T> {
  readonly items: readonly T[];
  /** Pass as `after` for the next page; null on the last page. */
  readonly next: string | null;
}

export interface PageRequest {
  readonly after?: string | undefined;
  readonly limit: number;
}

/**
 * Orders `query` by `column`, starts it after `page.after` (already validated by the caller: it
 * is compared with the column as is) and reads one row past the page.
 */
export function keyset<Q extends Knex.QueryBuilder>(query: Q, column: string, page: PageRequest): Q {
  void query.orderBy(column).limit(page.limit + 1);
  if (page.after !== undefined) void query.where(column, '>', page.after);
  return query;
}

/** The page of `rows` read by {@link keyset}: the first `limit` as views, and the cursor if more follow. */
export function pageOf<R, T>(
  rows: readonly R[],
  limit: number,
  view: (row: R) => T,
  cursor: (item: T) => string,
): Page<T> {
  const items = rows.slice(0, limit).map(view);
  const last = items.at(-1);
  return { items, next: rows.length > limit && last !== undefined ? cursor(last) : null };
}
