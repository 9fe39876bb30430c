// The one writer of the audit trail. Every mutation calls audit() or
// auditMany() inside its own transaction, so the entry commits (or not) with
// the change it records.
//
// Entries are hash-chained (see audit-chain.ts). To keep the chain linear
// when several processes write, an append takes a transaction-scoped
// advisory lock (AUDIT_LOCK_CLASS, 0), then reads the last hash and the
// database clock, then inserts; the lock is held until the caller's
// transaction commits, so the next appender, in any process, sees this entry
// as the last one. A batch (auditMany) takes the lock once, reads once and
// inserts all its entries in one statement, chained among themselves.
//
// THE RULE FOR CALLERS: audit() is the last write of its transaction. After
// it, only plain reads (which wait on no lock) and the commit. Why that
// cannot deadlock: a transaction holding the audit lock then only inserts
// into AuditLog, which waits on nothing but the FOR KEY SHARE lock its
// foreign key takes on the actor's User row; no desk code holds a lock that
// conflicts with that (users are never deleted, their keys never change, and
// nothing locks them FOR UPDATE: the users service takes FOR NO KEY UPDATE,
// compatible with KEY SHARE). So whoever waits for the audit lock waits for a
// transaction that is waiting for nobody, and there is no cycle. A write
// after the audit call (say, a payout row update) would break this: it could
// wait on a row held by a transaction that is itself queued for the audit lock.
//
// Throughput: the lock is held from the audit call to commit, i.e. one read,
// one insert and the commit (a few milliseconds on PostgreSQL), so audited
// transactions queue only for their last step, not for their whole work.
import type { Db, Tx } from "./types";
import { AUDIT_LOCK_CLASS, canonicalValue, entryHash, storableText } from "./audit-chain";

/** Entries per INSERT: a bulk file's decision audits thousands of payouts; each statement's JSON stays near a megabyte. */
const INSERT_CHUNK = 1_000;

export interface AuditEntry {
  actorId?: string | null;
  action: string;
  entityType: string;
  entityId?: string | null;
  /** What happened: by convention `before` and `after` for a change. Bigints are stored as text. */
  details?: unknown;
  ip?: string | null;
}

/** Every mutation writes one of these inside its own transaction, as its last write. */
export async function audit(db: Tx | Db, entry: AuditEntry): Promise<void> {
  await auditMany(db, [entry]);
}

/** Several entries at once (a batch decision), inside its transaction, as its last write. */
export async function auditMany(db: Tx | Db, entries: readonly AuditEntry[]): Promise<void> {
  if (entries.length === 0) return;
  // A client outside any transaction (a read-only action recording itself): a short transaction of its own.
  if (isClient(db)) {
    await db.$transaction((tx) => appendChained(tx, entries));
    return;
  }
  await appendChained(db, entries);
}

// A transaction client has no $disconnect; a top-level PrismaClient does.
// ($transaction exists on both: on a transaction client it opens a savepoint.)
function isClient(db: Tx | Db): db is Db {
  return typeof (db as { $disconnect?: unknown }).$disconnect === "function";
}

async function appendChained(tx: Tx, entries: readonly AuditEntry[]): Promise<void> {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(${AUDIT_LOCK_CLASS}::int4, 0)`;
  // A separate statement from the lock: under READ COMMITTED each statement
  // sees what was committed when it began, so this one sees the entry of
  // whoever held the lock before us. The database's clock, read under the
  // lock, keeps `at` in chain order across processes whose clocks differ.
  const [head] = await tx.$queryRaw<Array<{ prevHash: string | null; now: Date }>>`
    SELECT (SELECT "hash" FROM "AuditLog" WHERE "hash" IS NOT NULL ORDER BY "id" DESC LIMIT 1) AS "prevHash",
           date_trunc('milliseconds', clock_timestamp()) AS "now"`;
  let prevHash = head!.prevHash;
  const at = head!.now;
  const rows = entries.map((entry) => {
    const content = {
      actorId: entry.actorId ?? null,
      action: storableText(entry.action),
      entityType: storableText(entry.entityType),
      entityId: entry.entityId == null ? null : storableText(entry.entityId),
      details: entry.details === undefined ? null : canonicalValue(entry.details),
      ip: entry.ip == null ? null : storableText(entry.ip),
      at,
      prevHash,
    };
    const hash = entryHash(content);
    prevHash = hash;
    return { actorId: content.actorId, action: content.action, entityType: content.entityType, entityId: content.entityId, details: content.details, ip: content.ip, prevHash: content.prevHash, hash };
  });
  // One INSERT per thousand entries, as one JSON array: Prisma's createMany
  // cost about 0.45 ms of CPU per entry here (its query compiler and JSON
  // handling), a quarter of what approving a batch cost. PostgreSQL takes the ids from
  // the sequence in the order the rows reach the insert, which ORDER BY makes
  // the order they were chained in (a JSON null details is SQL NULL, as before).
  for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
    await tx.$executeRaw`
      INSERT INTO "AuditLog" ("actorId", action, "entityType", "entityId", details, ip, at, "prevHash", hash)
      SELECT x."actorId", x.action, x."entityType", x."entityId", x.details, x.ip, ${at}::timestamptz, x."prevHash", x.hash
      FROM ROWS FROM (jsonb_to_recordset(${JSON.stringify(rows.slice(i, i + INSERT_CHUNK))}::jsonb)
        AS ("actorId" uuid, action text, "entityType" text, "entityId" text, details jsonb, ip text, "prevHash" text, hash text)) WITH ORDINALITY
        AS x("actorId", action, "entityType", "entityId", details, ip, "prevHash", hash, n)
      ORDER BY x.n`;
  }
}
