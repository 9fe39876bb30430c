// The latest balance from BalanceLatest (kept by a trigger in the snapshot's
// own transaction) and the thinning of old snapshots, on real databases
// (PGlite, and PostgreSQL when TEST_DATABASE_URL is set).
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDatabases } from "@/server/db/testing";
import { startTestDesk, type TestDesk } from "@/server/testing/desk";
import { balanceOverview, latestBalanceRows } from "./balances";
import { thinBalanceSnapshots } from "./balance-thinning";

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

describe.each(testDatabases())("balance latest and thinning on %s", (kind) => {
  let t: TestDesk;
  beforeAll(async () => {
    t = await startTestDesk(kind);
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  async function freshConnection() {
    const { id } = await t.caller("admin").connections.create({
      provider: "pawapay",
      name: `Latest ${randomUUID().slice(0, 8)}`,
      environment: "sandbox",
      baseUrl: "sandbox://pawapay",
      credentials: { apiToken: `tok-${randomUUID()}` },
    });
    return id;
  }

  const snap = (connectionId: string, currency: string, label: string, amountMinor: bigint, at: Date) =>
    t.desk.db.balanceSnapshot.create({ data: { connectionId, currency, label, amountMinor, at } });

  it("keeps the newest read's wallets in the same transaction as each snapshot, never moved back by an older one", async () => {
    const id = await freshConnection();
    const t0 = new Date("2026-11-01T10:00:00Z");
    const t1 = new Date("2026-11-01T10:05:00Z");
    await snap(id, "ZMW", "MTN", 100n, t0);
    await snap(id, "ZMW", "AIRTEL", 50n, t0);
    expect(sum(await mine(id, "ZMW"))).toBe(150n);

    // The next read reports MTN only: AIRTEL drops out rather than being added in forever.
    await snap(id, "ZMW", "MTN", 120n, t1);
    let rows = await mine(id, "ZMW");
    expect(rows.map((r) => [r.label, r.amountMinor])).toEqual([["MTN", 120n]]);

    // A late, older row (a slow process, a backfill) changes nothing.
    await snap(id, "ZMW", "MTN", 999n, t0);
    await snap(id, "ZMW", "AIRTEL", 999n, t0);
    rows = await mine(id, "ZMW");
    expect(rows.map((r) => [r.label, r.amountMinor])).toEqual([["MTN", 120n]]);

    // Two rows of one wallet in one read add up, as the snapshots' sum always did.
    await snap(id, "ZMW", "MTN", 5n, t1);
    expect(sum(await mine(id, "ZMW"))).toBe(125n);

    // A rolled-back snapshot leaves no trace in the latest.
    await t.desk.db
      .$transaction(async (tx) => {
        await tx.balanceSnapshot.create({ data: { connectionId: id, currency: "ZMW", label: "MTN", amountMinor: 1n, at: new Date("2026-11-02T00:00:00Z") } });
        throw new Error("roll back");
      })
      .catch(() => undefined);
    expect(sum(await mine(id, "ZMW"))).toBe(125n);

    const overview = (await balanceOverview(t.desk)).find((c) => c.connectionId === id)!;
    expect(overview.currencies).toEqual([expect.objectContaining({ currency: "ZMW", balanceMinor: 125n, at: t1, wallets: [{ label: "MTN", amountMinor: 125n }] })]);
  });

  it("thins reads to last/lowest/highest per local hour after 7 days and per local day after 90, keeping every day's closing balance", async () => {
    const id = await freshConnection();
    // Kolkata is UTC+05:30: local hours and days are not UTC's.
    await t.desk.db.setting.upsert({ where: { key: "general.timeZone" }, create: { key: "general.timeZone", value: "Asia/Kolkata" }, update: { value: "Asia/Kolkata" } });
    try {
      const now = new Date("2026-12-01T12:02:00Z");
      const reads = 100 * 288; // 100 days, one read every 5 minutes, two wallets each
      await t.desk.db.$executeRaw`
        INSERT INTO "BalanceSnapshot" ("connectionId", "currency", "amountMinor", "label", "at")
        SELECT ${id}::uuid, 'ZMW', (1000000 + ((g * 7919) % 1013) * 100)::bigint, w.label, ${now}::timestamptz - g * interval '5 minutes'
        FROM generate_series(0, ${reads - 1}::int) g CROSS JOIN (VALUES ('MTN'), ('AIRTEL')) w(label)`;
      const before = await readsOf(id);
      expect(before.length).toBe(reads);
      const latestBefore = await mine(id, "ZMW");

      const outcome = await thinBalanceSnapshots(t.desk, now);
      expect(outcome.timeZone).toMatch(/^Asia\/(Kolkata|Calcutta)$/);
      expect(outcome.hourlyDeleted).toBeGreaterThan(0);
      expect(outcome.dailyDeleted).toBeGreaterThan(0);
      const verify = async (asOf: Date) => {
        const after = await readsOf(id);
        const kept = new Set(after.map((r) => r.at.getTime()));

        // Reads are kept or dropped whole: every kept read still has both wallets.
        const rowCount = await t.desk.db.balanceSnapshot.count({ where: { connectionId: id } });
        expect(rowCount).toBe(after.length * 2);

        // The last 7 days are untouched.
        const recentCut = asOf.getTime() - 7 * DAY;
        expect(after.filter((r) => r.at.getTime() >= recentCut).length).toBe(before.filter((r) => r.at.getTime() >= recentCut).length);

        // Whole local hours before the cut: at most 3 reads, and the last, lowest and highest are among them.
        const hourOf = (d: Date) => Math.floor((d.getTime() + 5.5 * 3600_000) / 3600_000);
        const dayOf = (d: Date) => Math.floor((d.getTime() + 5.5 * 3600_000) / DAY);
        const dailyCut = asOf.getTime() - 90 * DAY;
        const checkBuckets = (bucketOf: (d: Date) => number, from: number, to: number) => {
          const buckets = new Map<number, { at: Date; total: bigint }[]>();
          for (const r of before) {
            const ms = r.at.getTime();
            if (ms < from || ms >= to) continue;
            const list = buckets.get(bucketOf(r.at)) ?? [];
            list.push(r);
            buckets.set(bucketOf(r.at), list);
          }
          let checked = 0;
          for (const [, list] of buckets) {
            const keptHere = list.filter((r) => kept.has(r.at.getTime()));
            const last = list.reduce((a, b) => (b.at > a.at ? b : a));
            const low = list.reduce((a, b) => (b.total < a.total ? b : a)).total;
            const high = list.reduce((a, b) => (b.total > a.total ? b : a)).total;
            expect(kept.has(last.at.getTime())).toBe(true);
            expect(keptHere.some((r) => r.total === low)).toBe(true);
            expect(keptHere.some((r) => r.total === high)).toBe(true);
            expect(keptHere.length).toBeLessThanOrEqual(3);
            checked++;
          }
          return checked;
        };
        // Whole buckets only: skip the partial buckets at each end of a tier.
        const hourStart = (hourOf(new Date(dailyCut)) + 1) * 3600_000 - 5.5 * 3600_000;
        const hourEnd = hourOf(new Date(recentCut)) * 3600_000 - 5.5 * 3600_000;
        expect(checkBuckets(hourOf, hourStart, hourEnd)).toBeGreaterThan(80 * 24);
        const dayEnd = dayOf(new Date(dailyCut)) * DAY - 5.5 * 3600_000;
        expect(checkBuckets(dayOf, 0, dayEnd)).toBeGreaterThanOrEqual(9);

        // A statement's balance at every local midnight (the latest read at or before it) is unchanged.
        for (let day = dayOf(before[0]!.at) + 1; day <= dayOf(asOf); day++) {
          const midnight = day * DAY - 5.5 * 3600_000;
          expect(balanceAt(after, midnight)).toBe(balanceAt(before, midnight));
        }
      };
      await verify(now);

      // The latest balance is untouched, and a second run deletes nothing.
      expect(await mine(id, "ZMW")).toEqual(latestBefore);
      expect(await thinBalanceSnapshots(t.desk, now)).toMatchObject({ hourlyDeleted: 0, dailyDeleted: 0 });
      // Two days and three hours later (the schedule's later runs, which start from where this process got to):
      // the hours and days that crossed the cut-offs are thinned too, by the same rules.
      const later = new Date(now.getTime() + 2 * DAY + 3 * 3600_000);
      const next = await thinBalanceSnapshots(t.desk, later);
      expect(next.hourlyDeleted).toBeGreaterThan(0);
      expect(next.dailyDeleted).toBeGreaterThan(0);
      await verify(later);
      expect(await mine(id, "ZMW")).toEqual(latestBefore);
    } finally {
      await t.desk.db.setting.delete({ where: { key: "general.timeZone" } });
    }
  }, 180_000);

  async function mine(connectionId: string, currency: string) {
    return (await latestBalanceRows(t.desk)).filter((r) => r.connectionId === connectionId && r.currency === currency).sort((a, b) => a.label.localeCompare(b.label));
  }

  async function readsOf(connectionId: string) {
    const rows = await t.desk.db.balanceSnapshot.groupBy({ by: ["at"], where: { connectionId }, _sum: { amountMinor: true }, orderBy: { at: "asc" } });
    return rows.map((r) => ({ at: r.at, total: r._sum.amountMinor ?? 0n }));
  }
});

function sum(rows: { amountMinor: bigint }[]): bigint {
  return rows.reduce((a, r) => a + r.amountMinor, 0n);
}

function balanceAt(reads: { at: Date; total: bigint }[], instant: number): bigint | null {
  let found: bigint | null = null;
  for (const r of reads) if (r.at.getTime() <= instant) found = r.total;
  return found;
}
