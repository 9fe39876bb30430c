import { describe, expect, it } from "vitest";
import { pagedRows } from "./paged-rows";

const ALL = Array.from({ length: 7 }, (_, i) => ({ id: i + 1 }));

function source(rows = ALL) {
  const calls: Array<number | null> = [];
  const fetchPage = async (after: number | null, limit: number) => {
    calls.push(after);
    return rows.filter((row) => after === null || row.id > after).slice(0, limit);
  };
  return { calls, fetchPage };
}

async function collect<T>(rows: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const row of rows) out.push(row);
  return out;
}

describe("pagedRows", () => {
  it("reads every row in order, page by page after the last key, and stops at a short page", async () => {
    const { calls, fetchPage } = source();
    const rows = await collect(pagedRows({ fetchPage, cursorOf: (row) => row.id, pageSize: 3 }));
    expect(rows.map((row) => row.id)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(calls).toEqual([null, 3, 6]);
  });

  it("asks once more after a full last page and ends on the empty one", async () => {
    const { calls, fetchPage } = source(ALL.slice(0, 6));
    const rows = await collect(pagedRows({ fetchPage, cursorOf: (row) => row.id, pageSize: 3 }));
    expect(rows).toHaveLength(6);
    expect(calls).toEqual([null, 3, 6]);
  });

  it("reads afresh each time it is iterated", async () => {
    const { calls, fetchPage } = source();
    const rows = pagedRows({ fetchPage, cursorOf: (row) => row.id, pageSize: 5 });
    expect(await collect(rows)).toHaveLength(7);
    expect(await collect(rows)).toHaveLength(7);
    expect(calls).toEqual([null, 5, null, 5]);
  });

  it("passes on a failed page read, and lets a consumer stop early without an unhandled failure", async () => {
    let n = 0;
    const failing = pagedRows<{ id: number }, number>({
      fetchPage: async (after) => {
        n += 1;
        if (after !== null) throw new Error("page read failed");
        return [{ id: 1 }, { id: 2 }];
      },
      cursorOf: (row) => row.id,
      pageSize: 2,
    });
    await expect(collect(failing)).rejects.toThrow("page read failed");
    for await (const row of failing) {
      expect(row.id).toBe(1);
      break; // the next page's read (already started) fails; nobody sees it
    }
    expect(n).toBe(4);
  });
});
