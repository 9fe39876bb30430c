// Keyset pagination for exports: rows are read a page at a time after the
// last row's key (ORDER BY finalizedAt, id with a row-value comparison, say),
// never with OFFSET (which rereads everything skipped) and never all at once.
// While the writer formats one page the next is already being fetched, so
// the database's latency overlaps the writing; at most two pages are held.

export interface PagedRowsOptions<Row, Cursor> {
  /** Fetches up to `limit` rows strictly after `after` (null: from the start), in the export's order. */
  fetchPage: (after: Cursor | null, limit: number) => Promise<Row[]>;
  /** The key of a row, handed back to fetchPage to read what follows it. */
  cursorOf: (row: Row) => Cursor;
  /**
   * Rows per page; a few thousand keeps round trips few and memory small.
   * Default 3,000: in bench:export on 2 cores, 3,000 and 5,000 wrote a CSV
   * equally fast, and 3,000 kept the XLSX writer's peak RSS ~25 MB lower.
   */
  pageSize?: number;
}

export const DEFAULT_PAGE_SIZE = 3_000;

/**
 * The rows of a keyset-paged query as an async iterable (an ExportRows when
 * Row is ExportRow). Each iteration reads afresh from the first page.
 */
export function pagedRows<Row, Cursor>(options: PagedRowsOptions<Row, Cursor>): AsyncIterable<Row> {
  const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(pageSize) || pageSize < 1) throw new RangeError(`pageSize must be a positive integer, not ${pageSize}`);
  return {
    async *[Symbol.asyncIterator]() {
      let pending: Promise<Row[]> | null = options.fetchPage(null, pageSize);
      try {
        while (pending) {
          const page: Row[] = await pending;
          pending = null;
          // A short page is the last one: nothing follows it.
          if (page.length === pageSize) {
            pending = options.fetchPage(options.cursorOf(page[page.length - 1]!), pageSize);
            // If the consumer stops early, a failure of this read must not go unhandled.
            pending.catch(() => undefined);
          } else if (page.length > pageSize) {
            throw new Error(`fetchPage returned ${page.length} rows for a page of ${pageSize}`);
          }
          for (const row of page) yield row;
        }
      } finally {
        // Let an abandoned read finish before the caller closes its connection.
        await pending?.catch(() => undefined);
      }
    },
  };
}
