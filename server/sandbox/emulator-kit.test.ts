import { describe, expect, it } from "vitest";
import { faultBook } from "./emulator-kit";

const book = faultBook({ modes: ["500", "slow"] as const, operations: ["payout", "status"] as const, defaultOperation: "payout", refusals: ["500"] });

describe("faultBook", () => {
  it("counts a fault down on matching operations and drops it when spent", () => {
    const list = [book.normalise({ mode: "500", count: 2, operation: "status" })];
    expect(book.take([list], "payout")).toBeNull();
    expect(book.take([list], "status")?.mode).toBe("500");
    expect(book.take([list], "status")?.mode).toBe("500");
    expect(book.take([list], "status")).toBeNull();
    expect(list).toHaveLength(0);
  });

  it("drops a fault no request met before it lapsed, and keeps one that has not", () => {
    const list = [
      book.normalise({ mode: "500", operation: "status", lapsesAt: Date.now() - 1 }),
      book.normalise({ mode: "slow", operation: "status", lapsesAt: Date.now() + 60_000 }),
    ];
    expect(book.take([list], "status")?.mode).toBe("slow");
    expect(list).toHaveLength(0);
    const forever = [book.normalise({ mode: "500" })];
    expect(forever[0]!.lapsesAt).toBe(Number.POSITIVE_INFINITY);
    expect(book.take([forever], "payout")?.process).toBe(false);
  });
});
