// Balances: read from the built-in pawaPay emulator over real HTTP into
// snapshots, and set against payouts the desk has committed, on a real
// database (PGlite, and PostgreSQL when TEST_DATABASE_URL is set).
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDatabases } from "@/server/db/testing";
import { refusal, startTestDesk, type TestDesk } from "@/server/testing/desk";
import type { PayoutStatus } from "@/server/domain/payout-state";
import { openCredentials, resolveBaseUrl } from "./connections";
import { BALANCE_REFRESH_EVERY_MS, balanceHistory, balanceOverview, refreshBalances } from "./balances";

describe.each(testDatabases())("balances on %s", (kind) => {
  let t: TestDesk;
  beforeAll(async () => {
    t = await startTestDesk(kind);
  });
  afterAll(async () => {
    await t?.close();
  });

  /** A connection of its own at the built-in emulator: its own sandbox wallet, untouched by other tests. */
  async function freshConnection(name = `Wallet ${randomUUID().slice(0, 8)}`) {
    const { id } = await t.caller("admin").connections.create({
      provider: "pawapay",
      name,
      environment: "sandbox",
      baseUrl: "sandbox://pawapay",
      credentials: { apiToken: `tok-${randomUUID()}` },
    });
    return id;
  }

  /** A payout row in the given state, written directly: the overview only reads states and amounts. */
  async function payoutIn(connectionId: string, status: PayoutStatus, amountMinor: bigint, currency = "ZMW") {
    await t.desk.db.payout.create({
      data: {
        id: randomUUID(),
        connectionId,
        amountMinor,
        currency,
        recipientPhone: "260763456789",
        description: `Test ${status}`,
        status,
        createdById: t.users.maker.id,
      },
    });
  }

  it("stores one snapshot per wallet the pawaPay emulator reports", async () => {
    const outcomes = await refreshBalances(t.desk, t.pawapayConnectionId);
    expect(outcomes).toEqual([expect.objectContaining({ connectionId: t.pawapayConnectionId, ok: true, balances: expect.any(Number) })]);

    const snapshots = await t.desk.db.balanceSnapshot.findMany({ where: { connectionId: t.pawapayConnectionId } });
    expect(snapshots.length).toBe((outcomes[0] as { balances: number }).balances);
    const zmw = snapshots.find((s) => s.currency === "ZMW")!;
    // The emulator's opening wallet: "1000000.00" ZMW, kept exactly in minor units.
    expect(zmw.amountMinor).toBe(100_000_000n);
    expect(zmw.label).toBe("ZMB");
    expect(zmw.raw).toMatchObject({ currency: "ZMW", balance: "1000000.00" });
    // One read, one moment.
    expect(new Set(snapshots.map((s) => s.at.getTime())).size).toBe(1);
  });

  it("sets reserved and in-flight payouts against the latest balance", async () => {
    const id = await freshConnection();
    await payoutIn(id, "approved", 1_500n);
    await payoutIn(id, "approved", 2_550n);
    await payoutIn(id, "submitting", 100n);
    await payoutIn(id, "processing", 200n);
    await payoutIn(id, "provider_pending_approval", 300n);
    await payoutIn(id, "unknown", 400n);
    // Not committed against the wallet: waiting for approval, or over.
    await payoutIn(id, "pending_approval", 9_000n);
    await payoutIn(id, "succeeded", 9_000n);
    await payoutIn(id, "failed", 9_000n);
    await payoutIn(id, "rejected", 9_000n);
    await payoutIn(id, "approved", 700n, "UGX");

    const before = (await balanceOverview(t.desk)).find((c) => c.connectionId === id)!;
    // Commitments are shown before any balance is read; "available" needs a balance.
    expect(before.currencies.find((p) => p.currency === "ZMW")).toMatchObject({ balanceMinor: null, reservedMinor: 4_050n, availableMinor: null });

    await refreshBalances(t.desk, id);
    const overview = (await balanceOverview(t.desk)).find((c) => c.connectionId === id)!;
    expect(overview).toMatchObject({ name: expect.any(String), enabled: true, reportsBalances: true, lastError: null });
    const zmw = overview.currencies.find((p) => p.currency === "ZMW")!;
    expect(zmw).toMatchObject({
      balanceMinor: 100_000_000n,
      wallets: [{ label: "ZMB", amountMinor: 100_000_000n }],
      reservedMinor: 4_050n,
      reservedCount: 2,
      inFlightMinor: 1_000n,
      inFlightCount: 4,
      availableMinor: 100_000_000n - 4_050n - 1_000n,
    });
    expect(typeof zmw.reservedMinor).toBe("bigint");
    expect(zmw.at).toBeInstanceOf(Date);
    expect(overview.currencies.find((p) => p.currency === "UGX")).toMatchObject({ reservedMinor: 700n, inFlightMinor: 0n });
  });

  it("records one provider's failure and still reads the others", async () => {
    const healthy = await freshConnection();
    const failing = await freshConnection();
    // The emulator's fault switch: its next balance answer for this merchant is an HTTP 500.
    const connection = await t.desk.db.connection.findUniqueOrThrow({ where: { id: failing } });
    const fault = await fetch(`${resolveBaseUrl(t.desk, connection.baseUrl)}/_sandbox/faults`, {
      method: "POST",
      headers: { authorization: `Bearer ${openCredentials(t.desk, connection).apiToken}`, "content-type": "application/json" },
      body: JSON.stringify({ mode: "500", operation: "balances", count: 1 }),
    });
    expect(fault.status).toBe(200);

    const outcomes = await refreshBalances(t.desk);
    expect(outcomes.find((o) => o.connectionId === healthy)).toMatchObject({ ok: true });
    expect(outcomes.find((o) => o.connectionId === failing)).toMatchObject({ ok: false, error: expect.stringContaining("HTTP 500") });

    let overview = await balanceOverview(t.desk);
    expect(overview.find((c) => c.connectionId === failing)?.lastError?.message).toContain("HTTP 500");
    // Stored, so the page shows it whichever process read (the worker, or another web process).
    expect(await t.desk.db.balanceReadFailure.findUnique({ where: { connectionId: failing } })).toMatchObject({ message: expect.stringContaining("HTTP 500") });
    expect(overview.find((c) => c.connectionId === healthy)?.currencies.find((p) => p.currency === "ZMW")?.balanceMinor).toBe(100_000_000n);

    // The next good read clears the error.
    await refreshBalances(t.desk, failing);
    overview = await balanceOverview(t.desk);
    expect(overview.find((c) => c.connectionId === failing)?.lastError).toBeNull();
  });

  it("reads paused connections only when asked for by name", async () => {
    const id = await freshConnection();
    await t.caller("admin").connections.pause({ id });
    expect((await refreshBalances(t.desk)).map((o) => o.connectionId)).not.toContain(id);
    expect(await refreshBalances(t.desk, id)).toEqual([expect.objectContaining({ connectionId: id, ok: true })]);
  });

  it("gives the history of one connection and currency, one point per read, oldest first", async () => {
    const id = await freshConnection();
    await refreshBalances(t.desk, id);
    await refreshBalances(t.desk, id);
    const history = await balanceHistory(t.desk, id, "ZMW", 30);
    expect(history.points).toHaveLength(2);
    expect(history.points[0]!.at.getTime()).toBeLessThan(history.points[1]!.at.getTime());
    expect(history.points.map((p) => p.amountMinor)).toEqual([100_000_000n, 100_000_000n]);
    expect((await balanceHistory(t.desk, id, "KWD", 30)).points).toEqual([]);
  });

  /** As if the last on-demand read of `id` was `secondsAgo` seconds ago. */
  async function lastAskedAgo(id: string, secondsAgo: number) {
    await t.desk.db.$executeRaw`UPDATE "Connection" SET "balanceRequestedAt" = ${new Date(Date.now() - secondsAgo * 1000)} WHERE "id" = ${id}::uuid`;
  }

  it("lets every signed-in role read and refresh balances through tRPC, and audits a refresh", async () => {
    for (const role of ["viewer", "maker", "approver", "admin"] as const) {
      const balances = t.caller(role).balances;
      // Each role's refresh comes after the throttle's interval, as four people an hour apart would.
      await lastAskedAgo(t.pawapayConnectionId, BALANCE_REFRESH_EVERY_MS / 1000 + 1);
      const outcomes = await balances.refresh({ connectionId: t.pawapayConnectionId });
      expect(outcomes[0]).toMatchObject({ ok: true });
      const overview = await balances.overview();
      expect(overview.find((c) => c.connectionId === t.pawapayConnectionId)?.currencies.length).toBeGreaterThan(0);
      const history = await balances.history({ connectionId: t.pawapayConnectionId, currency: "zmw", days: 7 });
      expect(history.points.length).toBeGreaterThan(0);
    }
    const entries = await t.desk.db.auditLog.findMany({ where: { action: "balances.refresh", entityId: t.pawapayConnectionId } });
    expect(entries.map((e) => e.actorId).sort()).toEqual(Object.values(t.users).map((u) => u.id).sort());
    await expect(t.caller(null).balances.overview()).rejects.toMatchObject({ code: "UNAUTHORIZED" });
  });

  it("throttles a person's refresh per connection, says when the next is possible, and calls no provider meanwhile", async () => {
    const id = await freshConnection();
    const before = await t.desk.db.connection.findUniqueOrThrow({ where: { id } });
    expect(await t.caller("viewer").balances.refresh({ connectionId: id })).toEqual([expect.objectContaining({ connectionId: id, ok: true })]);
    const snapshots = await t.desk.db.balanceSnapshot.count({ where: { connectionId: id } });
    const calls = await t.desk.db.providerCall.count({ where: { connectionId: id } });
    expect(calls).toBeGreaterThan(0);

    // Another person, another role, right after: refused with the time of the next possible read.
    const refused = await refusal(t.caller("maker").balances.refresh({ connectionId: id }));
    expect(refused.code).toBe("TOO_MANY_REQUESTS");
    const error = await t.caller("maker").balances.refresh({ connectionId: id }).catch((e: Error) => e);
    expect((error as Error).message).toMatch(/^Wallet \w+'s balances were read less than 30 s ago; the next read is possible in \d+ s \(at \d\d:\d\d:\d\d UTC\)$/);
    expect(await t.desk.db.balanceSnapshot.count({ where: { connectionId: id } })).toBe(snapshots);
    expect(await t.desk.db.providerCall.count({ where: { connectionId: id } })).toBe(calls);

    // Scheduled reads are not throttled, and do not use up a person's turn.
    expect(await refreshBalances(t.desk, id)).toEqual([expect.objectContaining({ ok: true })]);
    await lastAskedAgo(id, 31);
    expect(await t.caller("maker").balances.refresh({ connectionId: id })).toEqual([expect.objectContaining({ ok: true })]);

    // Taking a turn is not an edit: the connection's version (updatedAt) is what the Connections form saves against.
    const after = await t.desk.db.connection.findUniqueOrThrow({ where: { id } });
    expect(after.updatedAt).toEqual(before.updatedAt);
    expect(after.balanceRequestedAt!.getTime()).toBeGreaterThan(before.createdAt.getTime());
  });

  it("on a refresh of every connection, leaves out and names those read moments ago; refuses only when all were", async () => {
    const enabled = await t.desk.db.connection.findMany({ where: { enabled: true }, select: { id: true } });
    for (const c of enabled) await lastAskedAgo(c.id, 60);
    await lastAskedAgo(t.pawapayConnectionId, 5);
    const outcomes = await t.caller("viewer").balances.refresh({});
    const pawapay = outcomes.find((o) => o.connectionId === t.pawapayConnectionId);
    expect(pawapay).toMatchObject({ ok: false, error: expect.stringMatching(/^Read less than 30 s ago; the next read is possible in 2\d s/) });
    expect(outcomes.filter((o) => o.ok).length).toBeGreaterThan(0);
    // No failure is recorded for a read that was not made.
    expect(await t.desk.db.balanceReadFailure.findUnique({ where: { connectionId: t.pawapayConnectionId } })).toBeNull();

    expect(await refusal(t.caller("viewer").balances.refresh({}))).toMatchObject({ code: "TOO_MANY_REQUESTS" });
    await expect(t.caller("viewer").balances.refresh({})).rejects.toThrow(/^Every connection's balances were read less than 30 s ago; the next read is possible in/);
  });
});
