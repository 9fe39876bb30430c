// A statement worked out by hand: payouts, fees, reversals and balance
// snapshots written straight into a real database (PGlite, and PostgreSQL
// when TEST_DATABASE_URL is set) for a fresh pawaPay connection, over a
// custom period in Europe/London that holds the spring-forward (28–29 March
// 2026: [2026-03-28T00:00Z, 2026-03-29T23:00Z)). Every figure below is
// written out in the comments and checked to the minor unit.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDatabases } from "@/server/db/testing";
import { refusal, startTestDesk, type TestDesk } from "@/server/testing/desk";
import type { PayoutStatus } from "@/server/domain/payout-state";
import { prepareStatementExport, resolveStatementQuery, statement, statementLines, type StatementQuery } from "./statements";

const at = (iso: string) => new Date(iso);

describe.each(testDatabases())("statements on %s", (kind) => {
  let t: TestDesk;
  let connectionId: string;
  let otherPawapayId: string;
  let praxisId: string;
  const ids: Record<string, string> = {};

  /** A payout row as a status history would have left it, with its events. */
  async function payout(
    name: string,
    p: {
      connection?: string;
      status: PayoutStatus;
      amountMinor: bigint;
      currency?: string;
      approvedAt?: string;
      finalizedAt?: string;
      /** Events after approval: [status, time]. */
      events?: Array<[PayoutStatus, string]>;
      feeMinor?: bigint;
      feeCurrency?: string;
    },
  ) {
    const id = randomUUID();
    ids[name] = id;
    await t.desk.db.payout.create({
      data: {
        id,
        connectionId: p.connection ?? connectionId,
        amountMinor: p.amountMinor,
        currency: p.currency ?? "ZMW",
        recipientPhone: "260763456789",
        recipientName: `Recipient ${name}`,
        description: `Payout ${name}`,
        status: p.status,
        createdById: t.users.maker.id,
        createdAt: at("2026-03-01T00:00:00Z"),
        approvedAt: p.approvedAt ? at(p.approvedAt) : null,
        finalizedAt: p.finalizedAt ? at(p.finalizedAt) : null,
        feeMinor: p.feeMinor ?? null,
        feeCurrency: p.feeMinor === undefined ? null : (p.feeCurrency ?? p.currency ?? "ZMW"),
        providerReference: `ref-${name}`,
      },
    });
    const events: Array<[PayoutStatus, string]> = [
      ["pending_approval", "2026-03-01T00:00:00Z"],
      ...(p.approvedAt ? ([["approved", p.approvedAt]] as Array<[PayoutStatus, string]>) : []),
      ...(p.events ?? []),
    ];
    let from: PayoutStatus | null = null;
    for (const [to, when] of events) {
      await t.desk.db.payoutEvent.create({ data: { payoutId: id, fromStatus: from, toStatus: to, source: "system", at: at(when) } });
      from = to;
    }
  }

  async function snapshot(connection: string, label: string, amountMinor: bigint, when: string, currency = "ZMW") {
    await t.desk.db.balanceSnapshot.create({ data: { connectionId: connection, currency, label, amountMinor, at: at(when) } });
  }

  function ask(input: Record<string, unknown>) {
    return resolveStatementQuery(t.desk, { currency: "ZMW", period: "custom", from: "2026-03-28", to: "2026-03-29", timeZone: "Europe/London", ...input });
  }

  beforeAll(async () => {
    t = await startTestDesk(kind);
    connectionId = (
      await t.caller("admin").connections.create({
        provider: "pawapay",
        name: "Statement pawaPay",
        environment: "sandbox",
        baseUrl: "sandbox://pawapay",
        credentials: { apiToken: `tok-${randomUUID()}` },
      })
    ).id;
    otherPawapayId = t.pawapayConnectionId;
    praxisId = (await t.desk.db.connection.findFirstOrThrow({ where: { provider: "praxis" } })).id;

    // Balances in two wallets. Opening = per wallet, the latest at or before 2026-03-28T00:00Z:
    //   MTN 50,100,000 (23:59 on the 27th; the 10:00 read is older) + AIRTEL 20,050,000 (exactly at the start) = 70,150,000.
    await snapshot(connectionId, "MTN", 50_000_000n, "2026-03-27T10:00:00Z");
    await snapshot(connectionId, "AIRTEL", 20_000_000n, "2026-03-27T10:00:00Z");
    await snapshot(connectionId, "MTN", 50_100_000n, "2026-03-27T23:59:00Z");
    await snapshot(connectionId, "AIRTEL", 20_050_000n, "2026-03-28T00:00:00Z");
    await snapshot(connectionId, "MTN", 999n, "2026-03-27T12:00:00Z", "USD"); // another currency: never in a ZMW statement
    // Closing = the latest at or before 2026-03-29T23:00Z (midnight in London, BST):
    //   MTN 48,000,000 (exactly at the end) + AIRTEL 19,990,000 (12:00 on the 29th) = 67,990,000.
    await snapshot(connectionId, "MTN", 49_000_000n, "2026-03-29T22:59:59Z");
    await snapshot(connectionId, "AIRTEL", 19_990_000n, "2026-03-29T12:00:00Z");
    await snapshot(connectionId, "MTN", 48_000_000n, "2026-03-29T23:00:00Z");
    await snapshot(connectionId, "MTN", 1n, "2026-03-29T23:30:00Z"); // after the end

    // Settled in the period (finalizedAt in [from, to)), status as at the end:
    await payout("A", { status: "succeeded", amountMinor: 1_000_000n, approvedAt: "2026-03-28T08:30:00Z", finalizedAt: "2026-03-28T09:00:00Z", events: [["processing", "2026-03-28T08:31:00Z"], ["succeeded", "2026-03-28T09:00:00Z"]], feeMinor: 2_500n });
    // 22:30 UTC on the 29th is 23:30 BST: still the 29th in London.
    await payout("B", { status: "succeeded", amountMinor: 250_050n, approvedAt: "2026-03-29T22:00:00Z", finalizedAt: "2026-03-29T22:30:00Z", events: [["succeeded", "2026-03-29T22:30:00Z"]] });
    await payout("C", { status: "failed", amountMinor: 300_000n, approvedAt: "2026-03-28T11:00:00Z", finalizedAt: "2026-03-28T12:00:00Z", events: [["failed", "2026-03-28T12:00:00Z"]], feeMinor: 100n });
    // Paid in the period and taken back in it.
    await payout("D", { status: "reversed", amountMinor: 400_000n, approvedAt: "2026-03-28T14:00:00Z", finalizedAt: "2026-03-28T15:00:00Z", events: [["succeeded", "2026-03-28T15:00:00Z"], ["reversed", "2026-03-29T10:00:00Z"]], feeMinor: 1_000n });
    // Paid before the period, taken back in it.
    await payout("E", { status: "reversed", amountMinor: 70_000n, approvedAt: "2026-03-20T09:00:00Z", finalizedAt: "2026-03-20T10:00:00Z", events: [["succeeded", "2026-03-20T10:00:00Z"], ["reversed", "2026-03-28T20:00:00Z"]], feeMinor: 500n });
    // Paid in the period, taken back after it: succeeded as at the end.
    await payout("F", { status: "reversed", amountMinor: 123_400n, approvedAt: "2026-03-28T10:00:00Z", finalizedAt: "2026-03-28T11:00:00Z", events: [["succeeded", "2026-03-28T11:00:00Z"], ["reversed", "2026-03-30T08:00:00Z"]], feeMinor: 600n });
    // Paid at 23:30 UTC on the 29th, 00:30 BST on the 30th: after the period; in flight at its end (approved 22:00, processing 22:05).
    await payout("G", { status: "succeeded", amountMinor: 999_900n, approvedAt: "2026-03-29T22:00:00Z", finalizedAt: "2026-03-29T23:30:00Z", events: [["processing", "2026-03-29T22:05:00Z"], ["succeeded", "2026-03-29T23:30:00Z"]], feeMinor: 9n });
    // Still processing: in flight at the end.
    await payout("H", { status: "processing", amountMinor: 55_500n, approvedAt: "2026-03-29T20:00:00Z", events: [["processing", "2026-03-29T20:01:00Z"]] });
    // Approved after the end: not in flight then.
    await payout("I", { status: "processing", amountMinor: 44_400n, approvedAt: "2026-03-30T01:00:00Z", events: [["processing", "2026-03-30T01:01:00Z"]] });
    // Withdrawn by the maker in the period: settled as cancelled; never sent, so its missing fee is no "not reported".
    await payout("J", { status: "cancelled", amountMinor: 10_000n, finalizedAt: "2026-03-28T08:00:00Z", events: [["cancelled", "2026-03-28T08:00:00Z"]] });
    // Waiting for approval: nothing yet.
    await payout("K", { status: "pending_approval", amountMinor: 33_300n });
    // A USD payout whose fee was charged in ZMW: the fee leaves the ZMW balance.
    await payout("L", { status: "succeeded", currency: "USD", amountMinor: 5_000n, approvedAt: "2026-03-28T16:00:00Z", finalizedAt: "2026-03-28T17:00:00Z", events: [["succeeded", "2026-03-28T17:00:00Z"]], feeMinor: 700n, feeCurrency: "ZMW" });
    // A ZMW payout whose fee was charged in USD: reported, but not a ZMW fee.
    await payout("M", { status: "succeeded", amountMinor: 10_000n, approvedAt: "2026-03-29T05:00:00Z", finalizedAt: "2026-03-29T06:00:00Z", events: [["succeeded", "2026-03-29T06:00:00Z"]], feeMinor: 30n, feeCurrency: "USD" });
    // Another connection's payout: only in the all-connections statement.
    await payout("N", { connection: otherPawapayId, status: "succeeded", amountMinor: 77_700n, approvedAt: "2026-03-28T12:00:00Z", finalizedAt: "2026-03-28T13:00:00Z", events: [["succeeded", "2026-03-28T13:00:00Z"]], feeMinor: 77n });
    // Praxis reports no balances (a snapshot somehow stored for it changes nothing).
    await payout("P", { connection: praxisId, status: "succeeded", currency: "USD", amountMinor: 12_345n, approvedAt: "2026-03-28T12:00:00Z", finalizedAt: "2026-03-28T13:00:00Z", events: [["succeeded", "2026-03-28T13:00:00Z"]], feeMinor: 45n });
    await snapshot(praxisId, "", 1_000_000n, "2026-03-27T00:00:00Z", "USD");
  });
  afterAll(async () => {
    await t?.close();
  });

  it("works out every figure of a connection's statement, and the identity holds to the minor unit", async () => {
    const view = await statement(t.desk, await ask({ connectionId }), at("2026-04-15T00:00:00Z"));
    expect(view.period.from).toEqual(at("2026-03-28T00:00:00Z"));
    expect(view.period.to).toEqual(at("2026-03-29T23:00:00Z"));
    expect(view.openUntil).toBeNull();
    expect(view.sections).toHaveLength(1);
    const s = view.total;
    expect(s).toBe(view.sections[0]!.figures);

    expect(s.balanceReported).toBe(true);
    expect(s.opening).toEqual({ amountMinor: 70_150_000n, at: at("2026-03-28T00:00:00Z") });
    expect(s.closing).toEqual({ amountMinor: 67_990_000n, at: at("2026-03-29T23:00:00Z") });
    // Succeeded: A 1,000,000 + B 250,050 + F 123,400 (reversed only after the end) + M 10,000 = 1,383,450.
    expect(s.settled).toEqual([
      { status: "succeeded", count: 4, amountMinor: 1_383_450n },
      { status: "reversed", count: 1, amountMinor: 400_000n },
      { status: "failed", count: 1, amountMinor: 300_000n },
      { status: "cancelled", count: 1, amountMinor: 10_000n },
    ]);
    expect(s.settledCount).toBe(7);
    // Paid: the succeeded 1,383,450 + D 400,000 (paid in the period, reversed since) = 1,783,450 over 5 payouts.
    expect(s.paidMinor).toBe(1_783_450n);
    expect(s.paidCount).toBe(5);
    // Fees in ZMW on payouts settled in the period: A 2,500 + C 100 + D 1,000 + F 600 + L 700 = 4,900 (M's is USD; E's was charged before).
    expect(s.feesMinor).toBe(4_900n);
    // Paid without a reported fee: B only (J was never sent; M's fee is reported, in USD).
    expect(s.feesNotReported).toBe(1);
    // Reversed in the period: D 400,000 + E 70,000 = 470,000 (F's reversal came after the end).
    expect(s.reversalsMinor).toBe(470_000n);
    expect(s.reversalsCount).toBe(2);
    // In flight at the end: G 999,900 (paid half an hour later) + H 55,500 = 1,055,400 (I was approved after).
    expect(s.inFlightAtEnd).toEqual({ count: 2, amountMinor: 1_055_400n });
    // 67,990,000 − (70,150,000 − 1,783,450 − 4,900 + 470,000) = 67,990,000 − 68,831,650 = −841,650.
    expect(s.unexplainedMinor).toBe(-841_650n);
    expect(s.opening!.amountMinor - s.paidMinor - s.feesMinor + s.reversalsMinor + s.unexplainedMinor!).toBe(s.closing!.amountMinor);
    // Lines: 7 settled + E (reversed here, paid before) + 2 in flight.
    expect(s.lineCount).toBe(10);
  });

  it("reads the detail lines in keyset pages, each payout as it stood at the period's end", async () => {
    const query = await ask({ connectionId });
    const pages: string[][] = [];
    const seen: Awaited<ReturnType<typeof statementLines>>["lines"] = [];
    let cursor: string | null = null;
    do {
      const page: Awaited<ReturnType<typeof statementLines>> = await statementLines(t.desk, query, { cursor, limit: 3 });
      pages.push(page.lines.map((l) => l.description.replace("Payout ", "")));
      seen.push(...page.lines);
      cursor = page.nextCursor;
    } while (cursor);
    // The reversal of an earlier payout, then settled by finalizedAt, then in flight by approval.
    expect(pages).toEqual([["E", "J", "A"], ["F", "C", "D"], ["M", "B", "H"], ["G"]]);
    const line = (name: string) => seen.find((l) => l.payoutId === ids[name])!;
    expect(line("E")).toMatchObject({ kind: "reversal", status: "reversed", reversedAt: at("2026-03-28T20:00:00Z"), finalizedAt: at("2026-03-20T10:00:00Z") });
    expect(line("F")).toMatchObject({ kind: "settled", status: "succeeded", currentStatus: "reversed", reversedAt: null });
    expect(line("D")).toMatchObject({ kind: "settled", status: "reversed", reversedAt: at("2026-03-29T10:00:00Z"), feeMinor: 1_000n, feeCurrency: "ZMW" });
    expect(line("G")).toMatchObject({ kind: "in_flight", status: "processing", currentStatus: "succeeded", finalizedAt: null });
    expect(line("B")).toMatchObject({ feeMinor: null, feeCurrency: null, providerReference: "ref-B", recipientName: "Recipient B", connectionName: "Statement pawaPay", provider: "pawapay" });
    // The same lines in one page.
    const whole = await statementLines(t.desk, query, { limit: 200 });
    expect(whole.lines.map((l) => l.payoutId)).toEqual(seen.map((l) => l.payoutId));
    expect(whole.nextCursor).toBeNull();
    // A forged cursor is a field error, never a database cast.
    expect(await refusal(t.caller("viewer").statements.lines({ connectionId, currency: "ZMW", period: "custom", from: "2026-03-28", to: "2026-03-29", timeZone: "Europe/London", cursor: "bm90LWEtY3Vyc29y" }))).toMatchObject({
      code: "BAD_REQUEST",
      cursor: "The page link is broken; start from the first page",
    });
  });

  it("feeds an export page by page, in the same order, with only the contract's fields", async () => {
    const prepared = await prepareStatementExport(t.desk, t.users.viewer, await ask({ connectionId }), { pageRows: 2, now: at("2026-04-15T00:00:00Z") });
    const rows = [];
    for await (const row of prepared.input.rows()) rows.push(row);
    expect(rows.map((r) => r.description.replace("Payout ", ""))).toEqual(["E", "J", "A", "F", "C", "D", "M", "B", "H", "G"]);
    expect(Object.keys(rows[0]!)).not.toContain("kind");
    expect(prepared.rowCount).toBe(10);
    expect(prepared.fileName("csv")).toBe("statement-pawapay-zmw-2026-03-28-2026-03-29.csv");
    expect(prepared.input.meta).toMatchObject({ kind: "statement", connectionLabel: "Statement pawaPay", currency: "ZMW", timeZone: "Europe/London", generatedBy: "viewer (viewer@test.desk)" });
    expect(prepared.input.total?.unexplainedMinor).toBe(-841_650n);
    const sectionRows = [];
    for await (const row of prepared.input.sections[0]!.rows()) sectionRows.push(row.payoutId);
    expect(sectionRows).toEqual(rows.map((r) => r.payoutId));
  });

  it("covers every connection with the currency, and totals balances only when every one reports them", async () => {
    const view = await statement(t.desk, await ask({}), at("2026-04-15T00:00:00Z"));
    expect(view.connectionLabel).toBe("All connections");
    const names = view.sections.map((s) => s.connectionName);
    expect(names).toEqual(["pawaPay sandbox", "Statement pawaPay"]);
    const sandbox = view.sections[0]!.figures;
    // The sandbox connection reports balances but has none stored: no opening, no closing, nothing worked out.
    expect(sandbox).toMatchObject({ balanceReported: true, opening: null, closing: null, unexplainedMinor: null, paidMinor: 77_700n, feesMinor: 77n });
    // Both report balances; one was never read, so the total is "not known" (not "not reported").
    expect(view.total).toMatchObject({ balanceReported: true, opening: null, closing: null, unexplainedMinor: null });
    expect(view.total.paidMinor).toBe(1_783_450n + 77_700n);
    expect(view.total.feesMinor).toBe(4_900n + 77n);
    expect(view.total.settled[0]).toEqual({ status: "succeeded", count: 5, amountMinor: 1_383_450n + 77_700n });
    expect(view.total.lineCount).toBe(11);
    const lines = await statementLines(t.desk, await ask({}), { limit: 200 });
    expect(lines.lines.map((l) => l.description.replace("Payout ", ""))).toEqual(["N", "E", "J", "A", "F", "C", "D", "M", "B", "H", "G"]);
  });

  it("gives a provider without balances a statement of the desk's own movements that says so", async () => {
    const view = await statement(t.desk, await ask({ connectionId: praxisId, currency: "USD" }), at("2026-04-15T00:00:00Z"));
    expect(view.total).toMatchObject({
      balanceReported: false,
      opening: null,
      closing: null,
      unexplainedMinor: null,
      paidMinor: 12_345n,
      feesMinor: 45n,
      settled: [{ status: "succeeded", count: 1, amountMinor: 12_345n }],
    });
  });

  it("counts a period by the zone's days: in UTC the 29th ends an hour later and takes G", async () => {
    const utc = await statement(t.desk, await ask({ connectionId, timeZone: "UTC" }), at("2026-04-15T00:00:00Z"));
    expect(utc.period.to).toEqual(at("2026-03-30T00:00:00Z"));
    // G (paid 23:30 UTC on the 29th) is settled now, and no longer in flight at the end.
    expect(utc.total.settled[0]).toEqual({ status: "succeeded", count: 5, amountMinor: 1_383_450n + 999_900n });
    expect(utc.total.inFlightAtEnd).toEqual({ count: 1, amountMinor: 55_500n });
    // Closing: MTN's 23:30 read of 1 is now the latest at or before the end.
    expect(utc.total.closing).toEqual({ amountMinor: 1n + 19_990_000n, at: at("2026-03-29T23:30:00Z") });
  });

  it("says a period with nothing in it is empty", async () => {
    const view = await statement(t.desk, await ask({ connectionId, from: "2025-01-01", to: "2025-01-31" }), at("2026-04-15T00:00:00Z"));
    expect(view.total).toMatchObject({ settled: [], settledCount: 0, lineCount: 0, paidMinor: 0n, opening: null, closing: null });
    expect((await statementLines(t.desk, await ask({ connectionId, from: "2025-01-01", to: "2025-01-31" }))).lines).toEqual([]);
  });

  it("uses the desk's default zone from Settings unless the user sends their own", async () => {
    const before = await resolveStatementQuery(t.desk, { currency: "ZMW", period: "today" });
    expect(before.period.timeZone).toBe("UTC");
    await t.caller("admin").settings.updateGeneral({ merchantName: "Acme Payouts Ltd", timeZone: "europe/london" });
    const query: StatementQuery = await resolveStatementQuery(t.desk, { currency: "zmw", period: "custom", from: "2026-03-29", to: "2026-03-29" });
    expect(query.period).toMatchObject({ timeZone: "Europe/London", from: at("2026-03-29T00:00:00Z"), to: at("2026-03-29T23:00:00Z") });
    expect(query.currency).toBe("ZMW");
    const own = await resolveStatementQuery(t.desk, { currency: "ZMW", period: "custom", from: "2026-03-29", to: "2026-03-29", timeZone: "Asia/Kolkata" });
    expect(own.period.from).toEqual(at("2026-03-28T18:30:00Z"));
    const prepared = await prepareStatementExport(t.desk, t.users.admin, own);
    expect(prepared.input.meta.merchantName).toBe("Acme Payouts Ltd");
  });

  it("names each field and the rule it broke", async () => {
    const viewer = t.caller("viewer");
    expect(await refusal(viewer.statements.summary({ currency: "ZMW", period: "custom", from: "2026-03-29", to: "2026-03-28" }))).toMatchObject({
      code: "BAD_REQUEST",
      to: "The last day cannot be before the first day (2026-03-29)",
    });
    const many = await refusal(viewer.statements.summary({ currency: "XYZ", period: "fortnight", timeZone: "Mars/Olympus" }));
    expect(many.currency).toMatch(/ISO 4217/);
    expect(many.period).toMatch(/^Choose a period: today, yesterday/);
    expect(many.timeZone).toMatch(/IANA time zone/);
    expect(await refusal(viewer.statements.summary({ connectionId: randomUUID(), currency: "ZMW", period: "today" }))).toMatchObject({ connectionId: expect.stringMatching(/No such connection/) });
    // Every role reads statements.
    for (const role of ["viewer", "maker", "approver", "admin"] as const) {
      const view = await t.caller(role).statements.summary({ connectionId, currency: "ZMW", period: "custom", from: "2026-03-28", to: "2026-03-29", timeZone: "Europe/London" });
      expect(view.total.unexplainedMinor).toBe(-841_650n);
    }
  });

  it("offers the connections and the currencies they have payouts or balances in", async () => {
    const options = await t.caller("viewer").statements.options();
    const mine = options.connections.find((c) => c.id === connectionId)!;
    expect(mine).toMatchObject({ name: "Statement pawaPay", reportsBalances: true, currencies: ["USD", "ZMW"] });
    expect(options.connections.find((c) => c.id === praxisId)).toMatchObject({ reportsBalances: false, currencies: ["USD"] });
    expect(options.currencies).toEqual(expect.arrayContaining(["USD", "ZMW"]));
  });
});
