// The audit trail's hash chain on a real database: appends chain in id
// order (one by one, in batches, from a client or inside a transaction),
// tampering with the table is found at exactly the entry tampered with, and
// on PostgreSQL two processes' worth of clients appending at once still make
// one linear chain.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createDb, type Db as DbHandle } from "@/server/db/client";
import { createScratchPostgresDatabase, createTestDatabase, testDatabases, type ScratchDatabase, type TestDb } from "@/server/db/testing";
import { audit, auditMany } from "./audit";
import { canonicalJson, entryHash, verifyChain } from "./audit-chain";

type Prisma = TestDb["prisma"];

async function rows(prisma: Prisma) {
  return prisma.auditLog.findMany({ orderBy: { id: "asc" } });
}

/** n entries, each in its own transaction, as the services write them. */
async function appendSome(prisma: Prisma, n: number, tag = "test") {
  for (let i = 0; i < n; i++) {
    await prisma.$transaction(async (tx) => {
      await audit(tx, { action: `${tag}.step`, entityType: "thing", entityId: `${tag}-${i}`, details: { i, tag }, ip: "192.0.2.1" });
    });
  }
}

describe.each(testDatabases())("audit hash chain on %s", (kind) => {
  let db: TestDb;
  beforeEach(async () => {
    db = await createTestDatabase(kind);
  });
  afterEach(async () => {
    await db?.dispose();
  });

  it("links each entry to the one before it, from the first (prevHash null), and verifies intact", async () => {
    await appendSome(db.prisma, 3);
    await audit(db.prisma, { action: "outside.transaction", entityType: "thing" });
    const all = await rows(db.prisma);
    expect(all).toHaveLength(4);
    expect(all[0]!.prevHash).toBeNull();
    for (let i = 1; i < all.length; i++) expect(all[i]!.prevHash).toBe(all[i - 1]!.hash);
    for (const row of all) expect(row.hash).toBe(entryHash(row));
    const result = await verifyChain(db.prisma);
    expect(result).toMatchObject({ intact: true, broken: null, checked: 4, beforeChain: 0, nextFrom: null });
    expect(result.head).toEqual({ id: all[3]!.id, hash: all[3]!.hash, at: all[3]!.at });
  });

  it("chains a batch of 2,500 in one transaction in id order, across its inserts of a thousand", async () => {
    await appendSome(db.prisma, 1);
    await db.prisma.$transaction(async (tx) => {
      await auditMany(
        tx,
        Array.from({ length: 2500 }, (_, i) => ({ action: "payout.approve", entityType: "payout", entityId: `p-${i}`, details: i % 7 === 0 ? undefined : { batch: 2500, i } })),
      );
    });
    const all = await rows(db.prisma);
    expect(all).toHaveLength(2501);
    // The insert's order is the id order: entry i of the batch has id first + i, and absent details are NULL.
    expect(all.slice(1).map((r) => r.entityId)).toEqual(Array.from({ length: 2500 }, (_, i) => `p-${i}`));
    expect(all.slice(1).filter((r) => r.details === null)).toHaveLength(Math.ceil(2500 / 7));
    expect(await verifyChain(db.prisma, { pageSize: 377 })).toMatchObject({ intact: true, checked: 2501 });
  });

  it("stores details in canonical form (sorted keys, bigint as text, dates as ISO, unstorable characters replaced) that hash the same read back", async () => {
    await audit(db.prisma, {
      action: "payout.create",
      entityType: "payout",
      entityId: "x",
      details: { z: 1, a: { amountMinor: 12345678901234567890n, when: new Date("2026-03-01T10:00:00.123Z") }, note: "a\u0000b\uD800", skipped: undefined, list: [undefined, 2] },
    });
    const [row] = await rows(db.prisma);
    expect(row!.details).toEqual({ a: { amountMinor: "12345678901234567890", when: "2026-03-01T10:00:00.123Z" }, list: [null, 2], note: "a\uFFFDb\uFFFD", z: 1 });
    expect(canonicalJson(row!.details)).toBe('{"a":{"amountMinor":"12345678901234567890","when":"2026-03-01T10:00:00.123Z"},"list":[null,2],"note":"a\uFFFDb\uFFFD","z":1}');
    expect(row!.hash).toBe(entryHash(row!));
    expect((await verifyChain(db.prisma)).intact).toBe(true);
  });

  it("writes nothing when the transaction rolls back, and the next entry links to the last committed one", async () => {
    await appendSome(db.prisma, 2);
    await expect(
      db.prisma.$transaction(async (tx) => {
        await audit(tx, { action: "doomed", entityType: "thing" });
        throw new Error("the mutation failed after auditing");
      }),
    ).rejects.toThrow("the mutation failed");
    await appendSome(db.prisma, 1, "after");
    const all = await rows(db.prisma);
    expect(all.map((r) => r.action)).toEqual(["test.step", "test.step", "after.step"]);
    expect((await verifyChain(db.prisma)).intact).toBe(true);
  });

  it("starts the chain at the first hashed entry: older entries without a hash are counted as before the chain", async () => {
    for (let i = 0; i < 3; i++) await db.prisma.auditLog.create({ data: { action: "legacy", entityType: "thing" } });
    await appendSome(db.prisma, 2);
    const all = await rows(db.prisma);
    expect(all[3]!.prevHash).toBeNull();
    expect(await verifyChain(db.prisma)).toMatchObject({ intact: true, checked: 5, beforeChain: 3 });
  });

  it("finds exactly the entry edited in the database", async () => {
    await appendSome(db.prisma, 10);
    const all = await rows(db.prisma);
    const victim = all[6]!;
    await db.prisma.$executeRaw`UPDATE "AuditLog" SET "details" = '{"i": 600, "tag": "test"}'::jsonb WHERE "id" = ${victim.id}`;
    const result = await verifyChain(db.prisma, { pageSize: 4 });
    expect(result.intact).toBe(false);
    expect(result.broken).toMatchObject({ kind: "edited", id: victim.id });
    expect(result.broken!.message).toContain(`Entry #${victim.id}`);
    // The entries before it were all checked and found sound.
    expect(result.checked).toBe(7);
  });

  it("finds an edit of any covered column: the time, the actor's address, the action", async () => {
    await appendSome(db.prisma, 5);
    const all = await rows(db.prisma);
    await db.prisma.$executeRaw`UPDATE "AuditLog" SET "ip" = '198.51.100.7' WHERE "id" = ${all[2]!.id}`;
    expect((await verifyChain(db.prisma)).broken).toMatchObject({ kind: "edited", id: all[2]!.id });
    await db.prisma.$executeRaw`UPDATE "AuditLog" SET "ip" = '192.0.2.1', "at" = "at" + interval '1 second' WHERE "id" = ${all[2]!.id}`;
    expect((await verifyChain(db.prisma)).broken).toMatchObject({ kind: "edited", id: all[2]!.id });
  });

  it("finds a deleted entry: the one after it follows an entry that is no longer there", async () => {
    await appendSome(db.prisma, 8);
    const all = await rows(db.prisma);
    await db.prisma.auditLog.delete({ where: { id: all[4]!.id } });
    const result = await verifyChain(db.prisma, { pageSize: 3 });
    expect(result.broken).toMatchObject({ kind: "missing", id: all[5]!.id, afterId: all[3]!.id });
    expect(result.broken!.message).toContain(`between #${all[3]!.id} and #${all[5]!.id}`);
  });

  it("finds the first entries deleted: the new first entry does not start the chain", async () => {
    await appendSome(db.prisma, 4);
    const all = await rows(db.prisma);
    await db.prisma.auditLog.delete({ where: { id: all[0]!.id } });
    expect((await verifyChain(db.prisma)).broken).toMatchObject({ kind: "missing", id: all[1]!.id, afterId: null });
  });

  it("finds an entry appended without the lock (chained to a stale head) and one inserted with no hash at all", async () => {
    await appendSome(db.prisma, 5);
    const all = await rows(db.prisma);
    // What a second writer without the lock would do: read the head before the last entry committed.
    const stale = all[3]!;
    const at = new Date();
    const content = { actorId: null, action: "forked.write", entityType: "thing", entityId: null, details: null, ip: null, at, prevHash: stale.hash };
    const forked = await db.prisma.auditLog.create({ data: { ...content, details: undefined, hash: entryHash(content) } });
    const result = await verifyChain(db.prisma);
    expect(result.broken).toMatchObject({ kind: "out_of_order", id: forked.id, linksTo: stale.id, afterId: all[4]!.id });

    await db.prisma.auditLog.delete({ where: { id: forked.id } });
    expect((await verifyChain(db.prisma)).intact).toBe(true);
    const raw = await db.prisma.auditLog.create({ data: { action: "raw.insert", entityType: "thing" } });
    expect((await verifyChain(db.prisma)).broken).toMatchObject({ kind: "unsealed", id: raw.id });
  });

  it("finds two entries swapped in place", async () => {
    await appendSome(db.prisma, 6);
    const all = await rows(db.prisma);
    const [a, b] = [all[2]!, all[3]!];
    // Move each row's whole content (hash included) to the other's id.
    await db.prisma.$transaction(async (tx) => {
      for (const [target, source] of [
        [a, b],
        [b, a],
      ] as const) {
        await tx.$executeRaw`UPDATE "AuditLog" SET "action" = ${source.action}, "entityId" = ${source.entityId}, "details" = ${JSON.stringify(source.details)}::jsonb, "at" = ${source.at}, "prevHash" = ${source.prevHash}, "hash" = ${source.hash} WHERE "id" = ${target.id}`;
      }
    });
    expect((await verifyChain(db.prisma)).broken).toMatchObject({ kind: "out_of_order", id: a.id, linksTo: b.id });
  });

  it("verifies a range in slices (limit, then nextFrom) with the same verdict as one walk", async () => {
    await appendSome(db.prisma, 12);
    const all = await rows(db.prisma);
    const first = await verifyChain(db.prisma, { limit: 5, pageSize: 2 });
    expect(first).toMatchObject({ intact: true, checked: 5, nextFrom: all[4]!.id + 1n });
    const rest = await verifyChain(db.prisma, { from: first.nextFrom, to: first.nextFrom! + 100n, pageSize: 2 });
    expect(rest).toMatchObject({ intact: true, checked: 7, nextFrom: null, lastId: all[11]!.id });

    // A slice starting just after a deleted entry still sees the missing link.
    await db.prisma.auditLog.delete({ where: { id: all[7]!.id } });
    expect((await verifyChain(db.prisma, { from: all[8]!.id })).broken).toMatchObject({ kind: "missing", id: all[8]!.id, afterId: all[6]!.id });
  });
});

describe.runIf(testDatabases().includes("postgres"))("audit appends from several processes on PostgreSQL", () => {
  let scratch: ScratchDatabase;
  let a: DbHandle;
  let b: DbHandle;
  beforeEach(async () => {
    scratch = await createScratchPostgresDatabase();
    // Two clients with their own pools: two web or worker processes.
    a = await createDb({ databaseUrl: scratch.url, max: 4 });
    b = await createDb({ databaseUrl: scratch.url, max: 4 });
  });
  afterEach(async () => {
    await a?.close();
    await b?.close();
    await scratch?.drop();
  });

  it("keeps one linear chain while two clients append in parallel, singly and in batches", async () => {
    const writes: Promise<unknown>[] = [];
    for (let i = 0; i < 30; i++) {
      for (const [name, client] of [
        ["a", a],
        ["b", b],
      ] as const) {
        writes.push(
          client.prisma.$transaction(async (tx) => {
            if (i % 5 === 0) await auditMany(tx, Array.from({ length: 10 }, (_, j) => ({ action: `${name}.batch`, entityType: "thing", entityId: `${i}-${j}` })));
            else await audit(tx, { action: `${name}.single`, entityType: "thing", entityId: String(i) });
          }),
        );
      }
    }
    await Promise.all(writes);
    const all = await rows(a.prisma);
    expect(all).toHaveLength(2 * (24 + 6 * 10));
    // Linear: every hash is named as prevHash exactly once, by the entry right after it.
    expect(new Set(all.map((r) => r.prevHash)).size).toBe(all.length);
    for (let i = 1; i < all.length; i++) expect(all[i]!.prevHash).toBe(all[i - 1]!.hash);
    expect(await verifyChain(b.prisma, { pageSize: 50 })).toMatchObject({ intact: true, checked: all.length });
  });

  it("makes a second writer wait for the first one's commit, and chain after it", async () => {
    await audit(a.prisma, { action: "first", entityType: "thing" });
    const order: string[] = [];
    let releaseFirst!: () => void;
    const firstHolds = new Promise<void>((resolve) => (releaseFirst = resolve));
    let firstAudited!: () => void;
    const audited = new Promise<void>((resolve) => (firstAudited = resolve));

    const first = a.prisma.$transaction(async (tx) => {
      await audit(tx, { action: "holder", entityType: "thing" });
      firstAudited();
      await firstHolds; // the lock stays held until this transaction commits
      order.push("holder commits");
    });
    await audited;
    const second = audit(b.prisma, { action: "waiter", entityType: "thing" }).then(() => order.push("waiter done"));
    // The waiter is queued on the lock; give it every chance to (wrongly) finish first.
    await new Promise((resolve) => setTimeout(resolve, 300));
    order.push("release");
    releaseFirst();
    await Promise.all([first, second]);

    expect(order).toEqual(["release", "holder commits", "waiter done"]);
    const all = await rows(a.prisma);
    expect(all.map((r) => r.action)).toEqual(["first", "holder", "waiter"]);
    expect(all[2]!.prevHash).toBe(all[1]!.hash);
    expect((await verifyChain(a.prisma)).intact).toBe(true);
  });

  it("shows what the lock prevents: two writers that read the head at the same time fork the chain, and verification names the second", async () => {
    await audit(a.prisma, { action: "first", entityType: "thing" });
    // Both read the head before either inserts, as unlocked writers could.
    const head = await a.prisma.auditLog.findFirstOrThrow({ orderBy: { id: "desc" } });
    const at = new Date();
    const forkA = { actorId: null, action: "fork.a", entityType: "thing", entityId: null, details: null, ip: null, at, prevHash: head.hash };
    const forkB = { ...forkA, action: "fork.b" };
    await a.prisma.auditLog.create({ data: { ...forkA, details: undefined, hash: entryHash(forkA) } });
    const second = await b.prisma.auditLog.create({ data: { ...forkB, details: undefined, hash: entryHash(forkB) } });
    expect((await verifyChain(a.prisma)).broken).toMatchObject({ kind: "out_of_order", id: second.id, linksTo: head.id });
  });
});
