// The payouts list (issue 10) on PGlite and PostgreSQL: keyset pages hold every
// row once under each sort, each search kind finds its row, filters and their
// field errors, totals, and — on PostgreSQL, with a table large enough for the
// planner to prefer a scan if it could — plans that read through indexes only.
import { createHash, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Prisma } from "@/server/db/generated/client";
import { testDatabases } from "@/server/db/testing";
import { PAYOUT_STATUSES, type PayoutStatus } from "@/server/domain/payout-state";
import { listQueryFromUrl, listQueryToUrl } from "@/server/domain/payout-list-params";
import { refusal, startTestDesk, type TestDesk } from "@/server/testing/desk";
import { createSeedBatch, rebuildRollups, seedPayouts, seededId, seededRow, type ListSeed } from "@/server/testing/payout-list-seed";
import { listPageSql, listTotalsQuery, listTotalsSql, resolveListFilters } from "./payout-list";

const md5 = (text: string) => createHash("md5").update(text).digest("hex");

interface Row {
  id: string;
  createdAt: Date;
  amountMinor: bigint;
  currency: string;
  status: PayoutStatus;
}

type Sort = "created" | "amount" | "status";
type Dir = "asc" | "desc";

function compare(a: Row, b: Row, sort: Sort, dir: Dir): number {
  const sign = dir === "asc" ? 1 : -1;
  const byCreated = (x: Row, y: Row) => Math.sign(x.createdAt.getTime() - y.createdAt.getTime()) || (x.id < y.id ? -1 : x.id > y.id ? 1 : 0);
  if (sort === "created") return sign * byCreated(a, b);
  if (sort === "amount") {
    const c = a.currency < b.currency ? -1 : a.currency > b.currency ? 1 : a.amountMinor < b.amountMinor ? -1 : a.amountMinor > b.amountMinor ? 1 : 0;
    return sign * (c || byCreated(a, b));
  }
  // Status: in the list's order (reversed when descending), newest first within each.
  const s = PAYOUT_STATUSES.indexOf(a.status) - PAYOUT_STATUSES.indexOf(b.status);
  return sign * s || -byCreated(a, b);
}

describe.each(testDatabases())("payouts list on %s", (kind) => {
  let t: TestDesk;
  let seed: ListSeed;
  let created: string;

  beforeAll(async () => {
    t = await startTestDesk(kind);
    const connections = await t.desk.db.connection.findMany({ select: { id: true }, orderBy: { name: "asc" } });
    seed = {
      connectionIds: connections.map((c) => c.id),
      makerId: t.users.maker.id,
      batchId: randomUUID(),
      batchRows: 12,
      newest: new Date("2026-11-20T12:00:00.000Z"),
      spacingSeconds: 5400,
    };
    await createSeedBatch(t.desk.db, seed);
    await seedPayouts(t.desk.db, seed, 1, 90, 1);
    // Twenty payouts created in the same millisecond: pages must still neither skip nor repeat.
    await seedPayouts(t.desk.db, { ...seed, spacingSeconds: 0, newest: new Date("2026-11-10T08:00:00.000Z") }, 91, 110, 0);
    // And one through the real create path, which writes the phone's reversed digits.
    created = (
      await t.caller("maker").payouts.create({
        id: randomUUID(),
        connectionId: t.pawapayConnectionId,
        amount: "15",
        currency: "ZMW",
        recipientPhone: "+260 76 345 6789",
        recipientName: "Created Through Form",
        description: "Rent invoice QR7781",
      })
    ).id;
  });
  afterAll(() => t?.close());

  async function allRows(): Promise<Row[]> {
    return t.desk.db.payout.findMany({ select: { id: true, createdAt: true, amountMinor: true, currency: true, status: true } });
  }

  async function readAll(input: Record<string, unknown>, limit = 7): Promise<string[]> {
    const ids: string[] = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < 200; pages++) {
      const page: { items: Array<{ id: string }>; nextCursor: string | null } = await t.caller("viewer").payouts.list({ ...input, limit, cursor });
      ids.push(...page.items.map((p) => p.id));
      cursor = page.nextCursor;
      if (!cursor) return ids;
    }
    throw new Error("too many pages");
  }

  it("pages hold every row once, in the sort's order, under each sort and direction", async () => {
    const rows = await allRows();
    expect(rows.length).toBe(111);
    for (const sort of ["created", "amount", "status"] as const) {
      for (const direction of ["desc", "asc"] as const) {
        const ids = await readAll({ sort, direction });
        expect(new Set(ids).size, `${sort} ${direction}`).toBe(ids.length);
        expect(ids, `${sort} ${direction}`).toEqual([...rows].sort((a, b) => compare(a, b, sort, direction)).map((r) => r.id));
      }
    }
  });

  it("filters by several statuses at once, under each sort, with pages that neither skip nor repeat", async () => {
    const rows = (await allRows()).filter((r) => r.status === "failed" || r.status === "expired" || r.status === "pending_approval");
    expect(rows.length).toBeGreaterThan(10);
    for (const sort of ["created", "amount", "status"] as const) {
      for (const direction of ["desc", "asc"] as const) {
        const ids = await readAll({ status: ["failed", "expired", "pending_approval"], sort, direction }, 4);
        expect(ids, `${sort} ${direction}`).toEqual([...rows].sort((a, b) => compare(a, b, sort, direction)).map((r) => r.id));
      }
    }
    // A page link made under one order is refused under another, never misread.
    const page = await t.caller("viewer").payouts.list({ sort: "amount", limit: 3 });
    expect(await refusal(t.caller("viewer").payouts.list({ sort: "created", cursor: page.nextCursor }))).toMatchObject({ code: "BAD_REQUEST", cursor: expect.stringMatching(/another order/) });
  });

  it("finds a payout by each kind of search", async () => {
    const search = async (q: string) => (await t.caller("viewer").payouts.list({ search: q, limit: 200 })).items.map((p) => p.id);
    const id7 = seededId(7, md5);
    expect(await search(id7)).toEqual([id7]);
    expect(await search(id7.toUpperCase())).toEqual([id7]);
    expect(await search(id7.slice(0, 8))).toContain(id7);
    expect(await search(`PRV-7`)).toEqual([id7]);
    expect(seededRow(7).reference).toBe("PRV-7");
    // The seed's phone of row 7 is 260700000007: found in every layout a person types it.
    for (const typed of ["260700000007", "+260 70 000 0007", "(0700) 000-007", "700000007", "00260700000007"]) {
      expect(await search(typed), typed).toEqual([id7]);
    }
    // The create path stored the reversed digits: a local layout finds the form's payout.
    expect(await search("0763 456 789")).toEqual([created]);
    expect(await search("rent INVOICE")).toEqual([created]);
    expect(await search("qr7781")).toEqual([created]);
    // Recipient name, any case, in part.
    const name = seededRow(7).name;
    const byName = await search(name.toLowerCase());
    expect(byName).toContain(id7);
    const named = await t.desk.db.payout.findMany({ where: { recipientName: { contains: name, mode: "insensitive" } }, select: { id: true } });
    expect(new Set(byName)).toEqual(new Set(named.map((p) => p.id)));
    // Description (invoice text).
    expect(await search("INV-0000042")).toEqual([seededId(42, md5)]);
    // Nothing found is an empty list, never an error; LIKE wildcards are text.
    expect(await search("%%%")).toEqual([]);
    expect(await search("-".repeat(36))).toEqual([]);
    expect(await search("zz")).toEqual([]);
  });

  it("filters by amount range in major units, currency, batch, dates and attention; refuses bad input on its field", async () => {
    const rows = await t.desk.db.payout.findMany({ select: { id: true, amountMinor: true, currency: true, batchId: true, createdAt: true, attentionSince: true } });
    const ids = async (input: Record<string, unknown>) => new Set(await readAll(input, 50));

    // 5,000.50 ZMW to 12,000 ZMW is 500,050 to 1,200,000 ngwee, exactly.
    const inRange = rows.filter((r) => r.currency === "ZMW" && r.amountMinor >= 500050n && r.amountMinor <= 1200000n).map((r) => r.id);
    expect(inRange.length).toBeGreaterThan(0);
    expect(await ids({ currency: "ZMW", amountMin: "5,000.50", amountMax: "12000" })).toEqual(new Set(inRange));
    expect(await ids({ currency: "zmw" })).toEqual(new Set(rows.filter((r) => r.currency === "ZMW").map((r) => r.id)));
    expect(await ids({ batchId: seed.batchId })).toEqual(new Set(rows.filter((r) => r.batchId === seed.batchId).map((r) => r.id)));
    expect(await ids({ attention: true })).toEqual(new Set(rows.filter((r) => r.attentionSince).map((r) => r.id)));
    // Days in the user's zone: 2026-11-10 in Africa/Lusaka (UTC+2) starts at 2026-11-09T22:00Z.
    const from = new Date("2026-11-09T22:00:00Z").getTime();
    const before = new Date("2026-11-10T22:00:00Z").getTime();
    expect(await ids({ createdFrom: "2026-11-10", createdTo: "2026-11-10", timeZone: "Africa/Lusaka" })).toEqual(
      new Set(rows.filter((r) => r.createdAt.getTime() >= from && r.createdAt.getTime() < before).map((r) => r.id)),
    );

    const list = (input: Record<string, unknown>) => t.caller("viewer").payouts.list(input);
    expect(await refusal(list({ amountMin: "10" }))).toMatchObject({ code: "BAD_REQUEST", amountMin: expect.stringMatching(/Choose a currency/) });
    expect(await refusal(list({ currency: "ZMW", amountMin: "1.234" }))).toMatchObject({ amountMin: "ZMW allows at most 2 decimal places" });
    expect(await refusal(list({ currency: "UGX", amountMax: "10.5" }))).toMatchObject({ amountMax: "UGX has no minor unit: enter a whole number" });
    expect(await refusal(list({ currency: "ZMW", amountMin: "-5" }))).toMatchObject({ amountMin: expect.stringMatching(/not an amount/) });
    expect(await refusal(list({ currency: "ZMW", amountMin: "20", amountMax: "10" }))).toMatchObject({ amountMax: expect.stringMatching(/below the smallest/) });
    expect(await refusal(list({ currency: "XXQ" }))).toMatchObject({ currency: expect.stringMatching(/ISO 4217/) });
    expect(await refusal(list({ createdFrom: "2026-11-21", createdTo: "2026-11-20" }))).toMatchObject({ createdFrom: expect.stringMatching(/after the to date/) });
    expect(await refusal(list({ createdFrom: "2026-02-31" }))).toMatchObject({ createdFrom: "Use a date like 2026-11-21" });
    expect(await refusal(list({ createdTo: "0000-01-01" }))).toMatchObject({ createdTo: "Use a date from 1970-01-01 to 9999-12-30" });
    expect(await refusal(list({ timeZone: "Mars/Olympus" }))).toMatchObject({ timeZone: expect.stringMatching(/IANA/) });
    expect(await refusal(list({ batchId: "batch-1" }))).toMatchObject({ batchId: expect.any(String) });
    // Every problem at once, each on its field.
    expect(Object.keys(await refusal(list({ currency: "ZMW", amountMin: "x", createdFrom: "2026-13-01" }))).sort()).toEqual(["amountMin", "code", "createdFrom"]);
  });

  it("totals the current filter: count, sum per currency and fees, from the rollups where they answer and from the payouts otherwise", async () => {
    // Seeded rows bypass the services that keep the rollups; the migration's backfill makes them again.
    await rebuildRollups(t.desk.db);
    const all = await t.desk.db.payout.findMany({ select: { amountMinor: true, currency: true, feeMinor: true, status: true, createdAt: true, recipientName: true } });
    const check = async (input: Record<string, unknown>, rows: typeof all, source: "rollups" | "payouts") => {
      const totals = await t.caller("viewer").payouts.totals(input);
      expect(totals.source, JSON.stringify(input)).toBe(source);
      expect(totals.more).toBe(false);
      expect(totals.count).toBe(rows.length);
      for (const currency of [...new Set(rows.map((r) => r.currency))]) {
        const mine = rows.filter((r) => r.currency === currency);
        const entry = totals.currencies.find((c) => c.currency === currency)!;
        expect(entry.count).toBe(mine.length);
        expect(entry.amountMinor).toBe(mine.reduce((s, r) => s + r.amountMinor, 0n));
        const reported = mine.filter((r) => r.feeMinor !== null);
        expect(entry.fees).toEqual(reported.length ? [{ currency, feeMinor: reported.reduce((s, r) => s + r.feeMinor!, 0n), count: reported.length }] : []);
      }
      expect(totals.currencies.length).toBe(new Set(rows.map((r) => r.currency)).size);
    };
    await check({}, all, "rollups");
    await check({ status: ["succeeded", "failed"] }, all.filter((r) => r.status === "succeeded" || r.status === "failed"), "rollups");
    const day = (from: string, to: string) => all.filter((r) => r.createdAt >= new Date(from) && r.createdAt < new Date(to));
    await check({ createdFrom: "2026-11-15", createdTo: "2026-11-16", timeZone: "UTC" }, day("2026-11-15T00:00:00Z", "2026-11-17T00:00:00Z"), "rollups");
    // Days in another zone, a search or an amount: counted from the matching payouts themselves.
    await check({ createdFrom: "2026-11-15", createdTo: "2026-11-16", timeZone: "Africa/Lusaka" }, day("2026-11-14T22:00:00Z", "2026-11-16T22:00:00Z"), "payouts");
    const name = seededRow(7).name;
    await check({ search: name }, all.filter((r) => r.recipientName?.toLowerCase().includes(name.toLowerCase())), "payouts");
    expect(await refusal(t.caller("viewer").payouts.totals({ amountMax: "3" }))).toMatchObject({ amountMax: expect.stringMatching(/Choose a currency/) });
  });

  it("reads the address bar the same way for the page and the export", () => {
    const parsed = listQueryFromUrl(new URLSearchParams("status=failed,expired&currency=zmw&min=10&max=20.5&q=%20Phiri%20&from=2026-11-01&tz=Africa/Lusaka&sort=amount&dir=asc&attention=1"));
    expect(parsed.errors).toEqual({});
    expect(parsed.filters).toEqual({ status: ["failed", "expired"], currency: "ZMW", amountMin: "10", amountMax: "20.5", search: "Phiri", createdFrom: "2026-11-01", timeZone: "Africa/Lusaka", attention: true });
    expect(parsed.order).toEqual({ sort: "amount", direction: "asc" });
    expect(listQueryFromUrl(listQueryToUrl(parsed.filters, parsed.order))).toEqual(parsed);
    expect(listQueryFromUrl(new URLSearchParams("status=paid&connection=x&sort=fee")).errors).toMatchObject({ status: expect.any(String), connectionId: expect.any(String), sort: expect.any(String) });
  });

  // A realistic table: the planner would pick a sequential scan for any query an index does not serve.
  it.runIf(kind === "postgres")("plans every list and totals query through indexes on a table of 60,000 payouts", async () => {
    await seedPayouts(t.desk.db, { ...seed, newest: new Date("2026-10-01T00:00:00Z"), spacingSeconds: 300 }, 1000, 61_000, 0);
    // Statistics from the whole table, not ANALYZE's random sample of 30,000 rows: with a sample, the estimate
    // for a name search (about 50 rows) came out at 600 one run in several, and the planner rightly chose a
    // sequential scan for that many; the test is about the indexes being there and usable, so it must not vary.
    await t.desk.db.$transaction(async (tx) => {
      await tx.$executeRawUnsafe(`SET LOCAL default_statistics_target = 1000`);
      await tx.$executeRawUnsafe(`ANALYZE "Payout"`);
    });
    const mid = seededId(30_000, md5);
    const [cursorRow] = await t.desk.db.$queryRaw<Array<{ createdAt: Date; id: string; currency: string; amountMinor: bigint }>>`SELECT "createdAt", "id", "currency", "amountMinor" FROM "Payout" WHERE "id" = ${mid}::uuid`;
    const cursorFor = (sort: Sort, status?: PayoutStatus) =>
      Buffer.from(JSON.stringify({ sort, direction: "desc", createdAt: cursorRow!.createdAt.toISOString(), id: mid, currency: cursorRow!.currency, amountMinor: cursorRow!.amountMinor.toString(), status })).toString("base64url");
    const cases: Array<[string, Record<string, unknown>, Record<string, unknown>, string | null]> = [
      ["first page", {}, {}, null],
      ["deep page", {}, {}, cursorFor("created")],
      ["status", { status: ["failed"] }, {}, cursorFor("created")],
      ["several statuses", { status: ["failed", "unknown", "expired"] }, {}, cursorFor("created")],
      ["connection", { connectionId: seed.connectionIds[1] }, {}, null],
      ["batch", { batchId: seed.batchId }, {}, null],
      ["dates", { createdFrom: "2026-09-01", createdTo: "2026-09-03" }, {}, null],
      ["amount range", { currency: "ZMW", amountMin: "100", amountMax: "150" }, {}, null],
      ["attention", { attention: true }, {}, null],
      ["sort by amount", {}, { sort: "amount" }, cursorFor("amount")],
      ["sort by status", {}, { sort: "status" }, cursorFor("status", "failed")],
      ["search id", { search: mid }, {}, null],
      ["search id prefix", { search: mid.slice(0, 8) }, {}, null],
      ["search reference", { search: "PRV-30000" }, {}, null],
      ["search phone", { search: "+260 70 003 0000" }, {}, null],
      ["search name", { search: "Mutale Banda" }, {}, null],
      ["search invoice", { search: "INV-0030000" }, {}, null],
    ];
    for (const [name, filters, order, cursor] of cases) {
      const resolved = resolveListFilters(filters);
      for (const [what, sql] of [
        ["page", listPageSql(resolved, order, cursor, 51)],
        ["totals", listTotalsSql(resolved)],
        ["totals as run", listTotalsQuery(resolved)],
      ] as const) {
        const plan = (await t.desk.db.$queryRaw<Array<{ "QUERY PLAN": string }>>(Prisma.sql`EXPLAIN ${sql}`)).map((r) => r["QUERY PLAN"]).join("\n");
        expect(plan, `${name} (${what}):\n${plan}`).not.toMatch(/Seq Scan on "Payout"/);
        // Totals the rollups answer read that small table (a few rows a day), never the payouts.
        if (/"Payout"/.test(plan)) expect(plan, `${name} (${what}):\n${plan}`).toMatch(/Index (Only )?Scan|Bitmap Index Scan/);
        else expect(plan).toMatch(/"PayoutRollup"/);
      }
    }
  }, 300_000);
});
