// The schedule: its period from the environment, and a tick that stores snapshots.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { eventually, startTestDesk, type TestDesk } from "@/server/testing/desk";
import { refreshBalances } from "@/server/services/balances";
import { balanceEverySeconds, startBalanceSnapshots } from "./balance-snapshots";

describe("balance snapshots on a schedule", () => {
  let t: TestDesk;
  beforeAll(async () => {
    t = await startTestDesk();
  });
  afterAll(async () => {
    vi.useRealTimers();
    await t?.close();
  });

  it("reads its period from DESK_BALANCE_EVERY_SECONDS, five minutes by default", () => {
    expect(balanceEverySeconds({})).toBe(300);
    expect(balanceEverySeconds({ DESK_BALANCE_EVERY_SECONDS: "60" })).toBe(60);
    expect(() => balanceEverySeconds({ DESK_BALANCE_EVERY_SECONDS: "often" })).toThrow(/DESK_BALANCE_EVERY_SECONDS/);
    expect(() => balanceEverySeconds({ DESK_BALANCE_EVERY_SECONDS: "1" })).toThrow(/10 or more/);
  });

  it("stores snapshots on each tick until stopped", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "setInterval", "clearTimeout", "clearInterval"] });
    const stop = startBalanceSnapshots(t.desk, 60);
    const count = () => t.desk.db.balanceSnapshot.count({ where: { connectionId: t.pawapayConnectionId } });
    expect(await count()).toBe(0);
    // The first read comes soon after start, not a whole period later.
    vi.advanceTimersByTime(15_000);
    vi.useRealTimers();
    const first = await eventually(async () => (await count()) || null);
    stop();
    expect(first).toBeGreaterThan(0);
    // Joins the read still under way (other connections), so nothing runs after the desk closes.
    await refreshBalances(t.desk);
  });
});
