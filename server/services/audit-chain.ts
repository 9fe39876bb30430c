// The audit trail's hash chain: what an entry's hash covers, and the walk
// that checks every link.
//
// Each entry stores the previous entry's hash (prevHash) and
//
//   hash = sha256_hex( canonicalJson({ action, actorId, at, details, entityId, entityType, ip, prevHash }) )
//
// where canonicalJson is JSON with object keys sorted (UTF-16 code-unit order,
// JavaScript's default sort), no whitespace, `at` as ISO 8601 UTC with
// milliseconds, absent values as null, bigints as decimal text, and any
// character PostgreSQL cannot store (NUL, a lone surrogate) as U+FFFD. The
// stored `details` are the canonical form read back, so the hash can be
// recomputed from the row alone, by this code or by an auditor's script.
//
// The chain is the entries in id order. Appends take one advisory lock (see
// audit.ts), so each new entry links to the entry written just before it in
// every process. Entries written before the chain existed (no hash) are
// "before the chain": the chain starts at the first hashed entry, whose
// prevHash is null.
import { createHash } from "node:crypto";
import type { Prisma } from "@/server/db/generated/client";
import type { Tx } from "./types";

/** Two-key advisory lock class of the audit appends ("audt" in ASCII); the second key is always 0. */
export const AUDIT_LOCK_CLASS = 0x61756474;

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

// A NUL, a high surrogate not followed by a low one, or a low one not preceded by a high one.
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Text PostgreSQL can store: an audit entry must never fail its mutation over a stray character. */
export function storableText(text: string): string {
  return text.replace(UNSTORABLE, "\uFFFD");
}

/**
 * Deterministic JSON: sorted keys, no whitespace, bigint as text, Date (and
 * anything with toJSON) as JSON.stringify would write it, non-finite numbers
 * as null, undefined members left out of objects and written null in arrays.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || value === undefined) return "null";
  switch (typeof value) {
    case "string":
      return JSON.stringify(storableText(value));
    case "number":
      return Number.isFinite(value) ? JSON.stringify(value) : "null";
    case "boolean":
      return value ? "true" : "false";
    case "bigint":
      return JSON.stringify(value.toString());
    case "object": {
      const withJson = value as { toJSON?: () => unknown };
      if (typeof withJson.toJSON === "function") return canonicalJson(withJson.toJSON());
      if (Array.isArray(value)) return `[${value.map((item) => (isAbsent(item) ? "null" : canonicalJson(item))).join(",")}]`;
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record)
        .filter((key) => !isAbsent(record[key]))
        .sort();
      return `{${keys.map((key) => `${JSON.stringify(storableText(key))}:${canonicalJson(record[key])}`).join(",")}}`;
    }
    default:
      return "null";
  }
}

function isAbsent(value: unknown): boolean {
  return value === undefined || typeof value === "function" || typeof value === "symbol";
}

/** The value as it will be stored and read back: canonical, JSON-only. */
export function canonicalValue(value: unknown): JsonValue {
  return JSON.parse(canonicalJson(value)) as JsonValue;
}

/** What an entry's hash covers. */
export interface ChainContent {
  action: string;
  actorId: string | null;
  entityType: string;
  entityId: string | null;
  details: unknown;
  ip: string | null;
  at: Date;
  prevHash: string | null;
}

export function entryHash(content: ChainContent): string {
  const canonical = canonicalJson({
    action: content.action,
    actorId: content.actorId,
    at: content.at.toISOString(),
    details: content.details ?? null,
    entityId: content.entityId,
    entityType: content.entityType,
    ip: content.ip,
    prevHash: content.prevHash,
  });
  return createHash("sha256").update(canonical, "utf8").digest("hex");
}

// ---------------------------------------------------------------- verification

/** Where the chain stops holding, in words an auditor can act on. */
export type ChainBreak =
  /** The entry's content no longer gives its stored hash: it was changed after it was written. */
  | { kind: "edited"; id: bigint; message: string }
  /** An entry without a hash after the chain began: written around the desk's audit writer. */
  | { kind: "unsealed"; id: bigint; message: string }
  /** The entry names a predecessor no entry has: one or more entries before it were deleted (or rewritten). */
  | { kind: "missing"; id: bigint; afterId: bigint | null; message: string }
  /** The entry names another entry than the one before it: written without the lock, or entries were moved. */
  | { kind: "out_of_order"; id: bigint; afterId: bigint | null; linksTo: bigint; message: string };

export interface ChainHead {
  id: bigint;
  hash: string;
  at: Date;
}

export interface VerifyOptions {
  /** First entry id to check (inclusive); its link to the hashed entry before it is checked too. */
  from?: bigint | null;
  /** Last entry id to check (inclusive). Default: the last entry now. */
  to?: bigint | null;
  /** Entries read per page (keyset on id; never the whole table in memory). */
  pageSize?: number;
  /** Stop after this many entries and say where to go on (nextFrom), so one request stays short. */
  limit?: number;
  /** Called after each page. */
  onProgress?: (progress: { checked: number; lastId: bigint }) => void;
}

export interface VerifyResult {
  intact: boolean;
  /** The first broken link, or null. */
  broken: ChainBreak | null;
  /** Entries checked by this call. */
  checked: number;
  /** Entries without a hash before the chain's first entry (written before the chain existed): not covered. */
  beforeChain: number;
  /** The range this call covered. */
  firstId: bigint | null;
  lastId: bigint | null;
  /** Set when `limit` stopped the walk before `to`: call again with from = nextFrom. */
  nextFrom: bigint | null;
  /** The last entry of the range checked, with its hash: compare with an evidence pack's head. */
  head: ChainHead | null;
}

const SELECT = { id: true, actorId: true, action: true, entityType: true, entityId: true, details: true, ip: true, at: true, prevHash: true, hash: true } as const;
type Row = Prisma.AuditLogGetPayload<{ select: typeof SELECT }>;

type Reader = Pick<Tx, "auditLog">;

/**
 * Walks the chain in id order from `from` to `to`, a page at a time, and
 * names the first broken link: an entry whose content no longer matches its
 * hash, one that names a predecessor that is gone, one that names another
 * entry than the one before it, or one without a hash inside the chain.
 */
export async function verifyChain(db: Reader, options: VerifyOptions = {}): Promise<VerifyResult> {
  const pageSize = Math.max(1, Math.min(options.pageSize ?? 2_000, 10_000));
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  const to = options.to ?? (await db.auditLog.findFirst({ orderBy: { id: "desc" }, select: { id: true } }))?.id ?? null;
  const from = options.from ?? null;

  const checker = await ChainChecker.startingAt(db, from);

  const result: VerifyResult = { intact: true, broken: null, checked: 0, beforeChain: 0, firstId: null, lastId: null, nextFrom: null, head: null };
  if (to === null) return result;
  let cursor: bigint | null = from === null ? null : from - 1n;

  while (true) {
    const room = Math.min(pageSize, limit - result.checked);
    if (room <= 0) break;
    const page: Row[] = await db.auditLog.findMany({
      where: { id: { ...(cursor === null ? {} : { gt: cursor }), lte: to } },
      orderBy: { id: "asc" },
      take: room,
      select: SELECT,
    });
    if (page.length === 0) break;
    for (const row of page) {
      result.firstId ??= row.id;
      result.lastId = row.id;
      result.checked++;
      const verdict = await checker.check(row);
      if (verdict === "before-chain") {
        result.beforeChain++;
        continue;
      }
      if (verdict) {
        result.intact = false;
        result.broken = verdict;
        return result;
      }
      result.head = { id: row.id, hash: row.hash!, at: row.at };
    }
    cursor = page[page.length - 1]!.id;
    options.onProgress?.({ checked: result.checked, lastId: cursor });
    if (page.length < room) break;
  }
  if (result.lastId !== null && result.lastId < to && result.checked >= limit) result.nextFrom = result.lastId + 1n;
  return result;
}

/** The fields of an entry the chain covers, with its id and hashes. */
export type ChainRow = Pick<Row, "id" | "actorId" | "action" | "entityType" | "entityId" | "details" | "ip" | "at" | "prevHash" | "hash">;

/**
 * Checks entries one at a time in id order (verifyChain's walk, and the
 * evidence pack as it is written): each must give its own hash and name the
 * hashed entry before it.
 */
export class ChainChecker {
  private constructor(
    private readonly db: Reader,
    private previous: { id: bigint; hash: string } | null,
    // Unhashed entries are "before the chain" only while no hashed entry has been met.
    private chainStarted: boolean,
  ) {}

  /** A checker for entries from `from` on: the first must link to the hashed entry before it (none: it starts the chain). */
  static async startingAt(db: Reader, from: bigint | null): Promise<ChainChecker> {
    if (from === null) return new ChainChecker(db, null, false);
    const before = await db.auditLog.findFirst({ where: { id: { lt: from }, hash: { not: null } }, orderBy: { id: "desc" }, select: { id: true, hash: true } });
    return before ? new ChainChecker(db, { id: before.id, hash: before.hash! }, true) : new ChainChecker(db, null, false);
  }

  /** The hash the next entry must name (null: it must start the chain). */
  get expectedPrevHash(): string | null {
    return this.previous?.hash ?? null;
  }

  async check(row: ChainRow): Promise<ChainBreak | "before-chain" | null> {
    const verdict = await checkEntry(this.db, row, this.previous, this.chainStarted);
    if (verdict === null) {
      this.chainStarted = true;
      this.previous = { id: row.id, hash: row.hash! };
    }
    return verdict;
  }
}

async function checkEntry(db: Reader, row: ChainRow, previous: { id: bigint; hash: string } | null, chainStarted: boolean): Promise<ChainBreak | "before-chain" | null> {
  if (row.hash === null) {
    if (!chainStarted) return "before-chain";
    return {
      kind: "unsealed",
      id: row.id,
      message: `Entry #${row.id} (${row.action}) has no hash although the chain began before it: it was written around the desk's audit writer, or its hash was removed`,
    };
  }
  const recomputed = entryHash({ ...row, details: row.details });
  if (recomputed !== row.hash) {
    return {
      kind: "edited",
      id: row.id,
      message: `Entry #${row.id} (${row.action}, ${row.at.toISOString()}) was changed after it was written: its content no longer gives its hash`,
    };
  }
  const expected = previous?.hash ?? null;
  if (row.prevHash === expected) return null;
  const afterId = previous?.id ?? null;
  if (row.prevHash === null) {
    return {
      kind: "out_of_order",
      id: row.id,
      afterId,
      linksTo: row.id,
      message: `Entry #${row.id} (${row.action}) claims to start the chain, but entry #${afterId} comes before it: entries were moved, or it was written without the chain's lock`,
    };
  }
  // Only at the first break, so one unindexed look-up per verification at most.
  const named = await db.auditLog.findFirst({ where: { hash: row.prevHash }, orderBy: { id: "asc" }, select: { id: true } });
  if (!named) {
    return {
      kind: "missing",
      id: row.id,
      afterId,
      message:
        afterId === null
          ? `Entry #${row.id} (${row.action}) follows an entry that is no longer there: the entries before it were deleted (or their hashes removed)`
          : `Entry #${row.id} (${row.action}) follows an entry that is no longer there: an entry between #${afterId} and #${row.id} was deleted`,
    };
  }
  return {
    kind: "out_of_order",
    id: row.id,
    afterId,
    linksTo: named.id,
    message:
      named.id < row.id
        ? `Entry #${row.id} (${row.action}) was chained to #${named.id}, not to #${afterId} just before it: it was written without the chain's lock, or entries were moved`
        : `Entry #${row.id} (${row.action}) was chained to #${named.id}, which comes after it: entries were reordered`,
  };
}
