// Reconciliation against the built-in emulators over real HTTP, on both
// databases: Paytota by its company statement, pawaPay by rate-limited status
// queries; payouts deliberately mismatched in the desk's database and one paid
// at Paytota outside the desk; resolution with a note (audited); carry-over
// into the connection's next runs.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDatabases } from "@/server/db/testing";
import { refusal, startTestDesk, type TestDesk } from "@/server/testing/desk";
import { approveAsRead } from "@/server/testing/approvals";
import { openCredentials } from "@/server/services/connections";
import { dailyPeriod, executeRun, takeRun, type ReconciliationSettings } from "@/server/services/reconciliation";
import type { ResultKind } from "@/server/domain/reconciliation";

const SETTINGS: ReconciliationSettings = { queriesPerSecond: 2, dailyAt: null, statementWaitMinutes: 1 };
const FINAL = ["succeeded", "failed", "cancelled", "rejected", "reversed"];

describe.each(testDatabases())("reconciliation on %s", (kind) => {
  let t: TestDesk;
  let paytotaId: string;
  let pawapayId: string;
  const started = new Date(Date.now() - 60_000);

  beforeAll(async () => {
    t = await startTestDesk(kind);
    paytotaId = (await t.desk.db.connection.findFirstOrThrow({ where: { provider: "paytota" } })).id;
    pawapayId = t.pawapayConnectionId;
  });
  afterAll(async () => {
    await t?.close();
  });

  /** Made by the maker, approved by the approver: its id. */
  async function approvedPayout(connectionId: string, fields: { amount: string; currency: string; recipientPhone: string }): Promise<string> {
    const created = await t.caller("maker").payouts.create({ id: randomUUID(), connectionId, description: "Reconciliation test", ...fields });
    await approveAsRead(t.caller("approver"), created.id);
    return created.id;
  }

  /** Works the payouts as a worker would until each is final, or (for those in `waiting`) sent and still in flight once the rest are final. */
  async function settle(ids: string[], waiting: string[] = []) {
    for (let round = 0; round < 200; round++) {
      for (const id of ids) await t.work.run({ payoutId: id, all: true, max: 1 });
      const rows = await t.desk.db.payout.findMany({ where: { id: { in: ids } }, select: { id: true, status: true } });
      if (rows.every((r) => FINAL.includes(r.status) || (waiting.includes(r.id) && r.status === "processing"))) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error("The payouts did not settle");
  }

  /** A payout the desk believes paid that no provider ever saw (written straight into the desk's database). */
  async function paidOnlyAtTheDesk(connectionId: string, currency: string, amountMinor: bigint, providerReference: string | null): Promise<string> {
    const id = randomUUID();
    const now = new Date();
    await t.desk.db.payout.create({
      data: {
        id,
        connectionId,
        amountMinor,
        currency,
        recipientPhone: currency === "UGX" ? "256772000001" : "260763456789",
        description: "Never reached the provider",
        status: "succeeded",
        providerReference,
        createdById: t.users.maker.id,
        submittedAt: now,
        finalizedAt: now,
        approvedAt: now,
      },
    });
    return id;
  }

  /** Runs a queued run to its end as a worker would: take it with a lease, then do it. */
  async function runQueued(runId: string, settings = SETTINGS) {
    const taken = await takeRun(t.desk.db, { owner: "test-reconciler" });
    expect(taken?.id).toBe(runId);
    expect(await executeRun(t.desk, runId, "test-reconciler", { settings })).toBe("done");
    return t.desk.db.reconciliationRun.findUniqueOrThrow({ where: { id: runId } });
  }

  async function items(runId: string) {
    return t.desk.db.reconciliationItem.findMany({ where: { runId }, orderBy: { createdAt: "asc" } });
  }

  function ofKind<T extends { kind: string }>(list: T[], kind: ResultKind): T[] {
    return list.filter((i) => i.kind === kind);
  }

  describe("Paytota, by its company statement", () => {
    const ids = {} as Record<"paid" | "amount" | "failed" | "pending" | "fee" | "missing", string>;
    let outsideReference: string;
    let firstRunId: string;
    const period = () => ({ periodFrom: started, periodTo: new Date(Date.now() + 60_000) });

    beforeAll(async () => {
      const ugx = (recipientPhone: string) => approvedPayout(paytotaId, { amount: "5000", currency: "UGX", recipientPhone });
      ids.paid = await ugx("256772123456");
      ids.amount = await ugx("256772123457");
      ids.failed = await ugx("256772123111"); // insufficient_funds at execute
      ids.pending = await ugx("256772123444"); // stays pending at Paytota
      ids.fee = await ugx("256772123458");
      await settle([ids.paid, ids.amount, ids.failed, ids.pending, ids.fee], [ids.pending]);
      ids.missing = await paidOnlyAtTheDesk(paytotaId, "UGX", 9000n, "paytota-id-nobody-issued");

      // The deliberate mismatches, made in the desk's database.
      await t.desk.db.payout.update({ where: { id: ids.amount }, data: { amountMinor: 5001n } });
      await t.desk.db.payout.update({ where: { id: ids.fee }, data: { feeMinor: 987_654n, feeCurrency: "UGX" } });

      // A payout made and executed at Paytota by someone else with the same account.
      const connection = await t.desk.db.connection.findUniqueOrThrow({ where: { id: paytotaId } });
      const credentials = openCredentials(t.desk, connection);
      outsideReference = `outside-the-desk-${randomUUID().slice(0, 8)}`;
      const initiated = await fetch(`${t.url}/api/sandbox/paytota/api/v1/payouts/`, {
        method: "POST",
        headers: { Authorization: `Bearer ${credentials.secretKey}`, "Content-Type": "application/json" },
        body: JSON.stringify({
          client: { email: "someone@example.com", phone: "256772999888", country: "UG" },
          payment: { currency: "UGX", amount: "7000", description: "Paid outside the desk" },
          brand_id: credentials.brandId,
          reference: outsideReference,
        }),
      });
      expect(initiated.status).toBe(201);
      const { execution_url } = (await initiated.json()) as { execution_url: string };
      const executed = await fetch(execution_url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ payout_type: "mobile" }) });
      expect(executed.status).toBe(200);
    });

    it("is started by an approver (audited), not by a maker, and refuses a period that ends before it starts, naming the field", async () => {
      expect((await refusal(t.caller("maker").reconciliation.start({ connectionId: paytotaId, ...period() }))).code).toBe("FORBIDDEN");
      const backwards = await refusal(t.caller("approver").reconciliation.start({ connectionId: paytotaId, periodFrom: new Date(), periodTo: started }));
      expect(backwards).toMatchObject({ code: "BAD_REQUEST", periodTo: "The period must end after it starts" });

      const { run, existing } = await t.caller("approver").reconciliation.start({ connectionId: paytotaId, ...period() });
      expect(existing).toBe(false);
      expect(run).toMatchObject({ status: "queued", method: "statement", requestedById: t.users.approver.id, scheduled: false });
      // Pressing again while it waits gives the same run, not a second one.
      const again = await t.caller("admin").reconciliation.start({ connectionId: paytotaId, periodFrom: run.periodFrom, periodTo: run.periodTo });
      expect(again).toMatchObject({ existing: true, run: { id: run.id } });
      const audited = await t.desk.db.auditLog.findFirst({ where: { action: "reconciliation.start", entityId: run.id } });
      expect(audited?.actorId).toBe(t.users.approver.id);
      firstRunId = run.id;
    });

    it("compares the statement line by line: matched, the amount and fee mismatches with both sides, missing at Paytota, unknown to the desk", async () => {
      const run = await runQueued(firstRunId);
      expect(run).toMatchObject({ status: "done", method: "statement", leaseOwner: null, error: null });
      expect(run.done).toBe(run.total);
      const found = await items(firstRunId);

      expect(ofKind(found, "matched").map((i) => i.payoutId).sort()).toEqual([ids.paid, ids.failed].sort());
      const amount = ofKind(found, "amount_mismatch");
      expect(amount.map((i) => i.payoutId)).toEqual([ids.amount]);
      expect(amount[0]!.desk).toMatchObject({ status: "succeeded", amount: { minor: "5001", currency: "UGX" } });
      expect(amount[0]!.provider).toMatchObject({ status: "success", amount: { minor: "5000", currency: "UGX" } });
      expect(amount[0]!.detail).toContain("5,001 UGX");

      const fee = ofKind(found, "fee_mismatch");
      expect(fee.map((i) => i.payoutId)).toEqual([ids.fee]);
      expect(fee[0]!.desk).toMatchObject({ fee: { minor: "987654", currency: "UGX" } });
      expect((fee[0]!.provider as { fee: { minor: string } }).fee.minor).not.toBe("987654");

      const missing = ofKind(found, "missing_at_provider");
      expect(missing.map((i) => i.payoutId)).toEqual([ids.missing]);
      expect(missing[0]!.provider).toBeNull();

      const unknown = ofKind(found, "unknown_to_desk");
      expect(unknown).toHaveLength(1);
      expect(unknown[0]).toMatchObject({ payoutId: null, desk: null, provider: { reference: outsideReference, amount: { minor: "7000", currency: "UGX" } } });

      // Still pending at Paytota and in flight at the desk: neither matched nor an exception.
      expect(found.some((i) => i.payoutId === ids.pending)).toBe(false);
      expect(ofKind(found, "status_mismatch")).toEqual([]);
      expect(run.summary).toMatchObject({ inFlight: 1, counts: { matched: 2, amount_mismatch: 1, fee_mismatch: 1, missing_at_provider: 1, unknown_to_desk: 1 } });

      const reconciled = await t.desk.db.payout.findMany({ where: { id: { in: Object.values(ids) } }, select: { id: true, reconciledAt: true } });
      const at = new Map(reconciled.map((p) => [p.id, p.reconciledAt]));
      expect(at.get(ids.paid)).toBeInstanceOf(Date);
      expect(at.get(ids.failed)).toBeInstanceOf(Date);
      for (const id of [ids.amount, ids.fee, ids.missing, ids.pending]) expect(at.get(id)).toBeNull();
      // The payout page shows it: payouts.byId returns reconciledAt.
      expect((await t.caller("viewer").payouts.byId({ id: ids.paid })).payout.reconciledAt).toBeInstanceOf(Date);
    });

    it("lists the run with counts and its exceptions page by page, filtered by kind and unresolved", async () => {
      const detail = await t.caller("viewer").reconciliation.run({ runId: firstRunId });
      expect(detail.counts).toMatchObject({ matched: 2, amount_mismatch: 1, fee_mismatch: 1, status_mismatch: 0, missing_at_provider: 1, unknown_to_desk: 1 });
      expect(detail.unresolvedTotal).toBe(4);
      expect(detail.canResolve).toBe(false);
      const page1 = await t.caller("viewer").reconciliation.items({ runId: firstRunId, kind: "exceptions", pageSize: 3, page: 1 });
      const page2 = await t.caller("viewer").reconciliation.items({ runId: firstRunId, kind: "exceptions", pageSize: 3, page: 2 });
      expect([page1.total, page1.pages, page1.items.length, page2.items.length]).toEqual([4, 2, 3, 1]);
      expect(new Set([...page1.items, ...page2.items].map((i) => i.kind))).toEqual(new Set(["amount_mismatch", "fee_mismatch", "missing_at_provider", "unknown_to_desk"]));
      expect(page1.items.every((i) => !i.canResolve)).toBe(true);
      const fees = await t.caller("approver").reconciliation.items({ runId: firstRunId, kind: "fee_mismatch", unresolvedOnly: true });
      expect(fees.items.map((i) => [i.payoutId, i.canResolve])).toEqual([[ids.fee, true]]);
      const runs = await t.caller("viewer").reconciliation.runs({ connectionId: paytotaId });
      expect(runs.runs[0]).toMatchObject({ id: firstRunId, status: "done", counts: { matched: 2 } });
      expect(runs.canStart).toBe(false);
    });

    it("resolves an exception only with a note, by an approver or admin, audited; once", async () => {
      const [missing] = ofKind(await items(firstRunId), "missing_at_provider");
      expect((await refusal(t.caller("viewer").reconciliation.resolve({ itemId: missing!.id, note: "Seen" }))).code).toBe("FORBIDDEN");
      const blank = await refusal(t.caller("approver").reconciliation.resolve({ itemId: missing!.id, note: "   " }));
      expect(blank.code).toBe("BAD_REQUEST");
      expect(blank.note).toMatch(/A note is required/);
      const [matched] = ofKind(await items(firstRunId), "matched");
      expect((await refusal(t.caller("approver").reconciliation.resolve({ itemId: matched!.id, note: "Nothing to do" }))).code).toBe("CONFLICT");

      const note = "Booked by hand before the desk existed; Paytota confirmed by email";
      await t.caller("admin").reconciliation.resolve({ itemId: missing!.id, note });
      const resolved = await t.desk.db.reconciliationItem.findUniqueOrThrow({ where: { id: missing!.id } });
      expect(resolved).toMatchObject({ resolvedById: t.users.admin.id, resolutionNote: note });
      expect(resolved.resolvedAt).toBeInstanceOf(Date);
      const audited = await t.desk.db.auditLog.findFirst({ where: { action: "reconciliation.resolve", entityId: missing!.id } });
      expect(audited).toMatchObject({ actorId: t.users.admin.id, details: { note, kind: "missing_at_provider", payoutId: ids.missing } });
      expect((await refusal(t.caller("approver").reconciliation.resolve({ itemId: missing!.id, note: "Again" }))).code).toBe("CONFLICT");
    });

    it("carries what is unresolved into the connection's next run, and a re-run continues the chain; resolving one item closes its chain", async () => {
      const first = await items(firstRunId);
      const later = new Date(Date.now() + 2 * 60_000);
      const second = await t.caller("approver").reconciliation.start({ connectionId: paytotaId, periodFrom: later, periodTo: new Date(later.getTime() + 60_000) });
      await runQueued(second.run.id);
      const carried = await items(second.run.id);
      // Nothing of its own in that period: only the three exceptions still open, each pointing at the first run's.
      expect(carried.map((i) => i.kind).sort()).toEqual(["amount_mismatch", "fee_mismatch", "unknown_to_desk"]);
      for (const item of carried) {
        const source = first.find((f) => f.id === item.carriedFromId);
        expect(source, item.kind).toBeDefined();
        expect(source).toMatchObject({ kind: item.kind, payoutId: item.payoutId, providerReference: item.providerReference });
      }
      expect(carried.some((i) => i.payoutId === ids.missing)).toBe(false); // resolved: not carried
      const view = await t.caller("viewer").reconciliation.items({ runId: second.run.id });
      expect(view.items.every((i) => i.carriedFrom?.run?.id === firstRunId)).toBe(true);

      // The first period again: found afresh, the amount mismatch continues its chain from the carried copy.
      const third = await t.caller("approver").reconciliation.start({ connectionId: paytotaId, ...period(), periodFrom: started });
      await runQueued(third.run.id);
      const fresh = await items(third.run.id);
      const amount = ofKind(fresh, "amount_mismatch");
      expect(amount).toHaveLength(1);
      const copy = ofKind(carried, "amount_mismatch")[0]!;
      expect(amount[0]!.carriedFromId).toBe(copy.id);
      expect(ofKind(fresh, "missing_at_provider")).toHaveLength(1); // resolved once, still missing: found again, as new
      expect(ofKind(fresh, "missing_at_provider")[0]!.carriedFromId).toBeNull();

      await t.caller("approver").reconciliation.resolve({ itemId: amount[0]!.id, note: "Amount corrected at the desk by mistake; Paytota's 5,000 stands" });
      const chain = await t.desk.db.reconciliationItem.findMany({ where: { id: { in: [amount[0]!.id, copy.id, copy.carriedFromId!] } } });
      expect(chain).toHaveLength(3);
      expect(chain.every((i) => i.resolvedAt !== null && i.resolvedById === t.users.approver.id)).toBe(true);
    });
  });

  describe("pawaPay, by status queries at most N a second", () => {
    const ids = {} as Record<"paid" | "status" | "failed" | "pending" | "missing", string>;
    const calls: number[] = [];
    let runId: string;

    beforeAll(async () => {
      const zmw = (recipientPhone: string) => approvedPayout(pawapayId, { amount: "15", currency: "ZMW", recipientPhone });
      ids.paid = await zmw("260763456789");
      ids.status = await zmw("260763456789");
      ids.failed = await zmw("260763456079");
      ids.pending = await zmw("260763456129"); // stays SUBMITTED
      await settle([ids.paid, ids.status, ids.failed, ids.pending], [ids.pending]);
      ids.missing = await paidOnlyAtTheDesk(pawapayId, "ZMW", 1500n, null);
      // The deliberate mismatch: the desk says failed what pawaPay paid (a status is changed in the desk's database).
      await t.desk.db.payout.update({ where: { id: ids.status }, data: { status: "failed", failureCode: "EDITED_BY_TEST" } });

      // Count the status queries as they leave for pawaPay.
      const base = t.desk.connectorDeps?.fetch ?? globalThis.fetch;
      t.desk.connectorDeps = {
        ...t.desk.connectorDeps,
        fetch: (url, init) => {
          const method = (init?.method ?? "GET").toUpperCase();
          if (method === "GET" && /\/api\/sandbox\/pawapay\/payouts\/[0-9a-f-]{36}$/.test(url)) calls.push(Date.now());
          return base(url, init);
        },
      };
      const { run } = await t.caller("admin").reconciliation.start({ connectionId: pawapayId, periodFrom: started, periodTo: new Date(Date.now() + 60_000) });
      runId = run.id;
    });
    afterAll(() => {
      t.desk.connectorDeps = { timeoutMs: 5_000 };
    });

    it("asks about each payout settled in the period or still in flight: matched, the status mismatch with both sides, missing at pawaPay", async () => {
      const run = await runQueued(runId);
      expect(run).toMatchObject({ status: "done", method: "status_queries", total: 5, done: 5 });
      const found = await items(runId);
      expect(ofKind(found, "matched").map((i) => i.payoutId).sort()).toEqual([ids.paid, ids.failed].sort());
      const status = ofKind(found, "status_mismatch");
      expect(status.map((i) => i.payoutId)).toEqual([ids.status]);
      expect(status[0]!.desk).toMatchObject({ status: "failed" });
      expect(status[0]!.provider).toMatchObject({ state: "succeeded", status: "COMPLETED" });
      expect(ofKind(found, "missing_at_provider").map((i) => i.payoutId)).toEqual([ids.missing]);
      expect(ofKind(found, "unknown_to_desk")).toEqual([]);
      expect(found.some((i) => i.payoutId === ids.pending)).toBe(false);
      expect(run.summary).toMatchObject({ inFlight: 1 });
    });

    it("never makes more than N status queries in any one-second window", () => {
      // One query per payout asked about, and however they are spread, never 3 within a second (N = 2). Without the
      // limit the five leave within milliseconds of each other. (900 ms: the limiter's clock runs a moment before the wire's.)
      expect(calls).toHaveLength(5);
      const most = Math.max(...calls.map((at) => calls.filter((other) => other >= at && other - at < 900).length));
      expect(most).toBeLessThanOrEqual(2);
    });
  });

  it("covers, each day, the desk's previous day in the desk's zone", () => {
    const at = { hour: 2, minute: 0 };
    // 03:30 on 5 May in Kampala (UTC+3): the 4th, local midnight to midnight.
    expect(dailyPeriod(new Date("2026-05-05T00:30:00Z"), at, "Africa/Kampala")).toEqual({
      periodFrom: new Date("2026-05-03T21:00:00Z"),
      periodTo: new Date("2026-05-04T21:00:00Z"),
    });
    // 01:30 on the 5th: today's 02:00 has not come, so the latest due run is still the 3rd's.
    expect(dailyPeriod(new Date("2026-05-04T22:30:00Z"), at, "Africa/Kampala")).toEqual({
      periodFrom: new Date("2026-05-02T21:00:00Z"),
      periodTo: new Date("2026-05-03T21:00:00Z"),
    });
  });
});
