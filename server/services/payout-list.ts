// The payouts list: one SQL statement per page (the payouts, their connection
// and maker joined), keyset pages by row-value comparisons that an index can
// seek to at any depth, and a search whose every kind is an index lookup. Read
// by the list page, the export, and `npm run bench:list` (which EXPLAINs
// exactly these statements: listPageSql / listTotalsSql).
import { Prisma } from "@/server/db/generated/client";
import { rawRows } from "@/server/db/raw";
import { isKnownCurrency, MoneyError, parseAmount } from "@/server/domain/money";
import { PAYOUT_STATUSES, type PayoutStatus } from "@/server/domain/payout-state";
import { canonicalTimeZone, addDays, startOfDay } from "@/server/domain/statement";
import type { ListSort, PayoutListFilters, PayoutListOrder, SortDirection } from "@/server/domain/payout-list-params";
import type { Desk } from "./types";
import { FieldErrors } from "./errors";

export type { PayoutListFilters, PayoutListOrder } from "@/server/domain/payout-list-params";

/** Filters and, optionally, the order (the export reads in the list's default order). */
export type PayoutFilters = PayoutListFilters & PayoutListOrder;

export interface PageRequest {
  cursor?: string | null;
  limit?: number;
}

/** A row of the list: the payout's own columns the list and its export show, with its connection and maker. */
export interface ListedPayout {
  id: string;
  connectionId: string;
  amountMinor: bigint;
  currency: string;
  recipientPhone: string | null;
  recipientName: string | null;
  recipientAccount: string | null;
  recipientCountry: string | null;
  channel: string | null;
  description: string;
  status: PayoutStatus;
  providerReference: string | null;
  providerStatus: string | null;
  failureCode: string | null;
  failureMessage: string | null;
  createdById: string;
  createdAt: Date;
  updatedAt: Date;
  submittedAt: Date | null;
  approvedAt: Date | null;
  finalizedAt: Date | null;
  attentionSince: Date | null;
  attentionReason: string | null;
  feeMinor: bigint | null;
  feeCurrency: string | null;
  debitedMinor: bigint | null;
  debitedCurrency: string | null;
  destinationMinor: bigint | null;
  destinationCurrency: string | null;
  fxRate: string | null;
  reconciledAt: Date | null;
  batchId: string | null;
  batchRow: number | null;
  connection: { name: string; provider: string };
  createdBy: { name: string };
}

const PAYOUT_COLUMNS = [
  "id", "connectionId", "amountMinor", "currency", "recipientPhone", "recipientName", "recipientAccount", "recipientCountry",
  "channel", "description", "status", "providerReference", "providerStatus", "failureCode", "failureMessage", "createdById",
  "createdAt", "updatedAt", "submittedAt", "approvedAt", "finalizedAt", "attentionSince", "attentionReason", "feeMinor",
  "feeCurrency", "debitedMinor", "debitedCurrency", "destinationMinor", "destinationCurrency", "fxRate", "reconciledAt",
  "batchId", "batchRow",
] as const;
const SELECT_PAYOUT = Prisma.raw(PAYOUT_COLUMNS.map((c) => `p."${c}"`).join(", "));
// The enum cast as text: PayoutStatus is a PostgreSQL enum, compared as one.
const STATUS_TYPE = Prisma.raw(`"PayoutStatus"`);

// ─── Filters ────────────────────────────────────────────────────────────────

const EARLIEST_LIST_DAY = "1970-01-01";
const LATEST_LIST_DAY = "9999-12-30";

/** Search terms, each answered by an index. */
interface SearchTerms {
  /** The payout id, or its first 8+ hex characters, as a uuid range of the primary key. */
  idRange: [string, string] | null;
  /** Provider reference, exactly. */
  reference: string;
  /** The phone's significant digits reversed (a prefix of phoneDigitsReversed), and the next prefix after it. */
  phone: { from: string; before: string | null } | null;
  /** An ILIKE pattern for recipient name and description (trigram indexes); 3 characters at least. */
  text: string | null;
}

/** The filters checked and in the database's terms. */
export interface ResolvedListFilters {
  statuses: PayoutStatus[] | null;
  connectionId: string | null;
  currency: string | null;
  batchId: string | null;
  from: Date | null;
  before: Date | null;
  amountMin: bigint | null;
  amountMax: bigint | null;
  attention: boolean;
  search: SearchTerms | null;
  timeZone: string;
}

function checkDay(value: string | undefined, field: string, errors: Record<string, string>): string | null {
  if (!value) return null;
  const date = new Date(`${value}T00:00:00Z`);
  // Round trip: "2026-02-31" parses in some engines as 3 March; it is no date at all.
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== value) {
    errors[field] = "Use a date like 2026-11-21";
    return null;
  }
  if (value < EARLIEST_LIST_DAY || value > LATEST_LIST_DAY) {
    errors[field] = `Use a date from ${EARLIEST_LIST_DAY} to ${LATEST_LIST_DAY}`;
    return null;
  }
  return value;
}

/** The one check of the list's filters (list, totals and export): every problem named on its field at once. */
export function resolveListFilters(filters: PayoutListFilters): ResolvedListFilters {
  const errors: Record<string, string> = {};
  const zoneText = filters.timeZone?.trim();
  const timeZone = zoneText ? canonicalTimeZone(zoneText) : "UTC";
  if (!timeZone) errors.timeZone = `Choose an IANA time zone such as Europe/London; "${zoneText!.slice(0, 64)}" is not one`;

  const fromDay = checkDay(filters.createdFrom, "createdFrom", errors);
  const toDay = checkDay(filters.createdTo, "createdTo", errors);
  if (fromDay && toDay && fromDay > toDay) errors.createdFrom = `The from date is after the to date (${toDay}); choose a day on or before it`;

  let currency: string | null = null;
  if (filters.currency) {
    const code = filters.currency.trim().toUpperCase();
    if (isKnownCurrency(code)) currency = code;
    else errors.currency = `Choose a currency (ISO 4217 code, e.g. ZMW); "${code.slice(0, 10)}" is not one`;
  }
  const amount = (field: "amountMin" | "amountMax"): bigint | null => {
    const text = filters[field]?.trim();
    if (!text) return null;
    if (!currency) {
      if (!errors.currency) errors[field] = "Choose a currency first: amounts are in its units (e.g. 150.50 ZMW)";
      return null;
    }
    try {
      return parseAmount(text, currency);
    } catch (error) {
      if (!(error instanceof MoneyError)) throw error;
      errors[field] = error.message;
      return null;
    }
  };
  const amountMin = amount("amountMin");
  const amountMax = amount("amountMax");
  if (amountMin !== null && amountMax !== null && amountMin > amountMax) {
    errors.amountMax = `The largest amount is below the smallest (${filters.amountMin!.trim()} ${currency}); choose one at least as large`;
  }
  if (Object.keys(errors).length > 0) throw new FieldErrors(errors);

  const statuses = filters.status?.length ? PAYOUT_STATUSES.filter((s) => filters.status!.includes(s)) : null;
  return {
    statuses,
    connectionId: filters.connectionId?.toLowerCase() ?? null,
    currency,
    batchId: filters.batchId?.toLowerCase() ?? null,
    from: fromDay ? startOfDay(fromDay, timeZone!) : null,
    before: toDay ? startOfDay(addDays(toDay, 1), timeZone!) : null,
    amountMin,
    amountMax,
    attention: Boolean(filters.attention),
    search: searchTerms(filters.search),
    timeZone: timeZone!,
  };
}

function searchTerms(typed: string | undefined): SearchTerms | null {
  // What cannot be stored (NUL, broken characters) is dropped, not refused: a search box gets whatever was pasted.
  // eslint-disable-next-line no-control-regex
  const term = typed?.replace(/[\u0000\uD800-\uDFFF]/g, "").trim();
  if (!term) return null;
  const hex = term.toLowerCase().replace(/-/g, "");
  // An id or its start (the first 8 characters shown in links and files): every uuid in between.
  const idRange: [string, string] | null =
    /^[0-9a-f]{8,32}$/.test(hex) && /^[0-9a-f-]+$/i.test(term) ? [asUuid(hex.padEnd(32, "0")), asUuid(hex.padEnd(32, "f"))] : null;
  // A phone in any layout: +260 76-345 6789, (0763) 456789, 00260763456789. Its significant digits
  // (no leading zeros of a trunk or international prefix) end every stored number that matches.
  let phone: SearchTerms["phone"] = null;
  if (/^[\d\s+\-().]+$/.test(term)) {
    const digits = term.replace(/\D/g, "").replace(/^0+/, "");
    if (digits.length >= 6) {
      const reversed = [...digits].reverse().join("");
      phone = { from: reversed, before: nextPrefix(reversed) };
    }
  }
  // A number written the way phones are (spaces, +, brackets) is a phone, not text: its digit trigrams are in
  // every invoice number, so looking for it in names and descriptions would only cost. Plain digits stay text too.
  const phoneLayout = phone !== null && /[\s+()]/.test(term);
  // A whole id (32 hex digits) names one payout, by its id or a provider's reference: not looked for in names and
  // descriptions, where its trigrams made the planner's estimate (and so its choice of a scan of every payout) a coin toss.
  const wholeId = hex.length === 32 && idRange !== null;
  const text = term.length >= 3 && !phoneLayout && !wholeId ? `%${term.replace(/[\\%_]/g, (c) => `\\${c}`)}%` : null;
  return { idRange, reference: term, phone, text };
}

function asUuid(hex32: string): string {
  return `${hex32.slice(0, 8)}-${hex32.slice(8, 12)}-${hex32.slice(12, 16)}-${hex32.slice(16, 20)}-${hex32.slice(20)}`;
}

/** The smallest digit string after every string starting with `digits` ("1299" → "13"); null for "999". */
function nextPrefix(digits: string): string | null {
  const kept = digits.replace(/9+$/, "");
  if (kept === "") return null;
  return kept.slice(0, -1) + String(Number(kept.at(-1)) + 1);
}

/** The filters as SQL conditions on "Payout" p (statuses left out when the caller branches on them). */
function filterConditions(f: ResolvedListFilters, withStatus: boolean): Prisma.Sql[] {
  const and: Prisma.Sql[] = [];
  if (withStatus && f.statuses) {
    and.push(
      f.statuses.length === 1
        ? Prisma.sql`p."status" = ${f.statuses[0]}::${STATUS_TYPE}`
        : Prisma.sql`p."status" IN (${Prisma.join(f.statuses.map((s) => Prisma.sql`${s}::${STATUS_TYPE}`))})`,
    );
  }
  if (f.connectionId) and.push(Prisma.sql`p."connectionId" = ${f.connectionId}::uuid`);
  if (f.currency) and.push(Prisma.sql`p."currency" = ${f.currency}`);
  if (f.batchId) and.push(Prisma.sql`p."batchId" = ${f.batchId}::uuid`);
  if (f.from) and.push(Prisma.sql`p."createdAt" >= ${f.from.toISOString()}::timestamptz`);
  if (f.before) and.push(Prisma.sql`p."createdAt" < ${f.before.toISOString()}::timestamptz`);
  if (f.amountMin !== null) and.push(Prisma.sql`p."amountMinor" >= ${f.amountMin.toString()}::bigint`);
  if (f.amountMax !== null) and.push(Prisma.sql`p."amountMinor" <= ${f.amountMax.toString()}::bigint`);
  if (f.attention) and.push(Prisma.sql`p."attentionSince" IS NOT NULL`);
  if (f.search) {
    const s = f.search;
    const any: Prisma.Sql[] = [];
    if (s.idRange) any.push(Prisma.sql`p."id" BETWEEN ${s.idRange[0]}::uuid AND ${s.idRange[1]}::uuid`);
    any.push(Prisma.sql`p."providerReference" = ${s.reference}`);
    if (s.phone) {
      // The range lets the btree seek (in any collation, digit strings sort digit by digit); LIKE makes it exact.
      const before = s.phone.before === null ? Prisma.empty : Prisma.sql` AND p."phoneDigitsReversed" < ${s.phone.before}`;
      any.push(Prisma.sql`(p."phoneDigitsReversed" >= ${s.phone.from}${before} AND p."phoneDigitsReversed" LIKE ${`${s.phone.from}%`})`);
    }
    if (s.text) any.push(Prisma.sql`p."recipientName" ILIKE ${s.text}`, Prisma.sql`p."description" ILIKE ${s.text}`);
    and.push(Prisma.sql`(${Prisma.join(any, " OR ")})`);
  }
  return and;
}

function where(conditions: Prisma.Sql[]): Prisma.Sql {
  return conditions.length ? Prisma.sql`WHERE ${Prisma.join(conditions, " AND ")}` : Prisma.empty;
}

// ─── Order and cursor ───────────────────────────────────────────────────────

interface Cursor {
  sort: ListSort;
  direction: SortDirection;
  createdAt: string;
  id: string;
  currency?: string;
  amountMinor?: string;
  status?: PayoutStatus;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function encodeCursor(order: Required<PayoutListOrder>, row: ListedPayout): string {
  const cursor: Cursor = { sort: order.sort, direction: order.direction, createdAt: row.createdAt.toISOString(), id: row.id };
  if (order.sort === "amount") Object.assign(cursor, { currency: row.currency, amountMinor: row.amountMinor.toString() });
  if (order.sort === "status") cursor.status = row.status;
  return Buffer.from(JSON.stringify(cursor)).toString("base64url");
}

/** Only what encodeCursor makes, for this order: anything else would reach the database as a bad value. */
function decodeCursor(text: string, order: Required<PayoutListOrder>): Cursor {
  const broken = () => new FieldErrors({ cursor: "The page link is broken; start from the first page" });
  let c: Cursor;
  try {
    c = JSON.parse(Buffer.from(text, "base64url").toString()) as Cursor;
  } catch {
    throw broken();
  }
  if (!c || typeof c !== "object" || typeof c.createdAt !== "string" || typeof c.id !== "string" || !UUID.test(c.id)) throw broken();
  const at = new Date(c.createdAt);
  if (Number.isNaN(at.getTime()) || at.toISOString() !== c.createdAt || c.createdAt.slice(0, 10) < EARLIEST_LIST_DAY || c.createdAt.slice(0, 10) > LATEST_LIST_DAY) throw broken();
  if (c.sort !== order.sort || c.direction !== order.direction) throw new FieldErrors({ cursor: "The page link is for another order of the list; start from the first page" });
  if (c.sort === "amount" && (typeof c.currency !== "string" || !/^[A-Z]{3,4}$/.test(c.currency) || typeof c.amountMinor !== "string" || !/^\d{1,19}$/.test(c.amountMinor))) throw broken();
  if (c.sort === "status" && !(PAYOUT_STATUSES as readonly string[]).includes(c.status as string)) throw broken();
  return c;
}

function fullOrder(order: PayoutListOrder): Required<PayoutListOrder> {
  return { sort: order.sort ?? "created", direction: order.direction ?? "desc" };
}

const DIRECTION = { asc: Prisma.raw("ASC"), desc: Prisma.raw("DESC") };
const AFTER = { asc: Prisma.raw(">"), desc: Prisma.raw("<") };

/**
 * The statement of one page (limit + 1 rows, to know whether another follows),
 * each row with its connection's name and provider and its maker's name.
 *
 * - created: ORDER BY ("createdAt", id), keyset ("createdAt", id) < (…); several
 *   statuses are one index seek each (status, "createdAt", id), merged.
 * - amount: ("currency", "amountMinor", "createdAt", id), the currency's amounts together.
 * - status: the statuses in the list's order (reversed when descending), newest
 *   first within each: one seek per status, read in turn.
 */
export function listPageSql(f: ResolvedListFilters, orderIn: PayoutListOrder, cursorText: string | null | undefined, take: number): Prisma.Sql {
  const order = fullOrder(orderIn);
  const cursor = cursorText ? decodeCursor(cursorText, order) : null;
  const dir = DIRECTION[order.direction];
  const after = AFTER[order.direction];
  const joined = (inner: Prisma.Sql, outerOrder: Prisma.Sql) => Prisma.sql`
    SELECT page.*, c."name" AS "connectionName", c."provider" AS "connectionProvider", u."name" AS "creatorName"
    FROM (${inner}) page
    JOIN "Connection" c ON c."id" = page."connectionId"
    JOIN "User" u ON u."id" = page."createdById"
    ORDER BY ${outerOrder}`;

  if (order.sort === "status") {
    let statuses = f.statuses ?? [...PAYOUT_STATUSES];
    if (order.direction === "desc") statuses = [...statuses].reverse();
    if (cursor) {
      const at = statuses.indexOf(cursor.status!);
      if (at < 0) throw new FieldErrors({ cursor: "The page link is for other statuses; start from the first page" });
      statuses = statuses.slice(at);
    }
    const base = filterConditions(f, false);
    const branches = statuses.map((status, i) => {
      const conditions = [Prisma.sql`p."status" = ${status}::${STATUS_TYPE}`, ...base];
      if (cursor && i === 0) conditions.push(Prisma.sql`(p."createdAt", p."id") < (${cursor.createdAt}::timestamptz, ${cursor.id}::uuid)`);
      return Prisma.sql`(SELECT ${SELECT_PAYOUT}, ${i}::int AS "branch" FROM "Payout" p ${where(conditions)} ORDER BY p."createdAt" DESC, p."id" DESC LIMIT ${take})`;
    });
    const inner = Prisma.sql`SELECT * FROM (${Prisma.join(branches, " UNION ALL ")}) b ORDER BY b."branch", b."createdAt" DESC, b."id" DESC LIMIT ${take}`;
    return joined(inner, Prisma.sql`page."branch", page."createdAt" DESC, page."id" DESC`);
  }

  if (order.sort === "amount") {
    const conditions = filterConditions(f, true);
    if (cursor) {
      conditions.push(
        Prisma.sql`(p."currency", p."amountMinor", p."createdAt", p."id") ${after} (${cursor.currency!}::text, ${cursor.amountMinor!}::bigint, ${cursor.createdAt}::timestamptz, ${cursor.id}::uuid)`,
      );
    }
    const inner = Prisma.sql`SELECT ${SELECT_PAYOUT} FROM "Payout" p ${where(conditions)} ORDER BY p."currency" ${dir}, p."amountMinor" ${dir}, p."createdAt" ${dir}, p."id" ${dir} LIMIT ${take}`;
    return joined(inner, Prisma.sql`page."currency" ${dir}, page."amountMinor" ${dir}, page."createdAt" ${dir}, page."id" ${dir}`);
  }

  const keyset = cursor ? Prisma.sql`(p."createdAt", p."id") ${after} (${cursor.createdAt}::timestamptz, ${cursor.id}::uuid)` : null;
  if (f.statuses && f.statuses.length > 1) {
    // One index seek per status, merged: "failed or expired" never walks every other status's rows.
    const base = filterConditions(f, false);
    const branches = f.statuses.map((status) => {
      const conditions = [Prisma.sql`p."status" = ${status}::${STATUS_TYPE}`, ...base, ...(keyset ? [keyset] : [])];
      return Prisma.sql`(SELECT ${SELECT_PAYOUT} FROM "Payout" p ${where(conditions)} ORDER BY p."createdAt" ${dir}, p."id" ${dir} LIMIT ${take})`;
    });
    const inner = Prisma.sql`SELECT * FROM (${Prisma.join(branches, " UNION ALL ")}) b ORDER BY b."createdAt" ${dir}, b."id" ${dir} LIMIT ${take}`;
    return joined(inner, Prisma.sql`page."createdAt" ${dir}, page."id" ${dir}`);
  }
  const conditions = [...filterConditions(f, true), ...(keyset ? [keyset] : [])];
  const inner = Prisma.sql`SELECT ${SELECT_PAYOUT} FROM "Payout" p ${where(conditions)} ORDER BY p."createdAt" ${dir}, p."id" ${dir} LIMIT ${take}`;
  return joined(inner, Prisma.sql`page."createdAt" ${dir}, page."id" ${dir}`);
}

type PageRow = Omit<ListedPayout, "connection" | "createdBy"> & { connectionName: string; connectionProvider: string; creatorName: string; branch?: number };

function toListed(row: PageRow): ListedPayout {
  const { connectionName, connectionProvider, creatorName, branch: _branch, ...payout } = row;
  return {
    ...payout,
    // Drivers differ on int8 and int4 in raw results: the list's money is always bigint.
    amountMinor: BigInt(payout.amountMinor),
    feeMinor: payout.feeMinor === null ? null : BigInt(payout.feeMinor),
    debitedMinor: payout.debitedMinor === null ? null : BigInt(payout.debitedMinor),
    destinationMinor: payout.destinationMinor === null ? null : BigInt(payout.destinationMinor),
    batchRow: payout.batchRow === null ? null : Number(payout.batchRow),
    connection: { name: connectionName, provider: connectionProvider },
    createdBy: { name: creatorName },
  };
}

/**
 * Rows of one of the list's read statements, through the driver under Prisma
 * (db/raw.ts: Prisma's fixed cost per statement was twice the database's time
 * on the cheapest pages and totals). Unnamed: the statements vary with the
 * filters, so each is planned for its values. The callers normalise what
 * drivers give differently (int8 as text or bigint).
 */
async function readRows<T>(desk: Desk, sql: Prisma.Sql): Promise<T[]> {
  return rawRows<T>(desk.db, sql, { prepared: false });
}

/** One page of the list: one round trip to the database. */
export async function listPayouts(desk: Desk, filters: PayoutFilters, page: PageRequest = {}): Promise<{ items: ListedPayout[]; nextCursor: string | null }> {
  const limit = Math.min(Math.max(page.limit ?? 50, 1), 200);
  const { sort, direction, ...rest } = filters;
  const order = fullOrder({ sort, direction });
  const resolved = resolveListFilters(rest);
  const rows = await readRows<PageRow>(desk, listPageSql(resolved, order, page.cursor, limit + 1));
  const items = rows.slice(0, limit).map(toListed);
  const last = items.at(-1);
  return { items, nextCursor: rows.length > limit && last ? encodeCursor(order, last) : null };
}

// ─── Totals ─────────────────────────────────────────────────────────────────

/** Totals are counted exactly up to this many payouts; past it the list says "more than". */
export const TOTALS_CAP = 10_000;

export interface ListTotals {
  /** Payouts matching, exactly, or TOTALS_CAP when `more` is true. */
  count: number;
  /** More than TOTALS_CAP payouts match: no sums are given (they would be of a part only). */
  more: boolean;
  cap: number;
  /** Where the figures come from: the rollups (whole table, exact) or the matching payouts themselves (capped). */
  source: "rollups" | "payouts";
  currencies: Array<{
    currency: string;
    count: number;
    amountMinor: bigint;
    /** Fees reported, per currency they were reported in, and how many payouts reported one. */
    fees: Array<{ currency: string; feeMinor: bigint; count: number }>;
    /** Fees reported in another currency that the rollups count but do not add up (only from rollups). */
    feesNotAdded?: number;
  }>;
}

/**
 * Count, sum per currency and fees of at most TOTALS_CAP + 1 matching payouts,
 * read newest first through the list's own indexes: bounded work however
 * large the table.
 */
export function listTotalsSql(f: ResolvedListFilters): Prisma.Sql {
  const conditions = filterConditions(f, true);
  return Prisma.sql`
    SELECT t."currency", t."feeCurrency", count(*)::int AS "count", sum(t."amountMinor")::text AS "amount",
           sum(t."feeMinor")::text AS "fees", count(t."feeMinor")::int AS "feeCount"
    FROM (SELECT p."currency", p."amountMinor", p."feeMinor", COALESCE(p."feeCurrency", p."currency") AS "feeCurrency"
          FROM "Payout" p ${where(conditions)} ORDER BY p."createdAt" DESC, p."id" DESC LIMIT ${TOTALS_CAP + 1}) t
    GROUP BY t."currency", t."feeCurrency"
    ORDER BY t."currency", t."feeCurrency"`;
}

/**
 * Filters the rollups (per UTC day of creation, connection, currency and
 * status; services/payout-rollups.ts) answer exactly: no search, amount,
 * batch or attention, and days (if any) that are UTC days.
 */
function rollupsAnswer(f: ResolvedListFilters): boolean {
  return !f.search && f.amountMin === null && f.amountMax === null && !f.batchId && !f.attention && (f.timeZone === "UTC" || (!f.from && !f.before));
}

/** The same totals from the rollups: a few thousand small rows at most, whatever the size of the payouts table. */
export function rollupTotalsSql(f: ResolvedListFilters): Prisma.Sql {
  const and: Prisma.Sql[] = [];
  if (f.statuses) and.push(Prisma.sql`r."status" IN (${Prisma.join(f.statuses.map((s) => Prisma.sql`${s}::${STATUS_TYPE}`))})`);
  if (f.connectionId) and.push(Prisma.sql`r."connectionId" = ${f.connectionId}::uuid`);
  if (f.currency) and.push(Prisma.sql`r."currency" = ${f.currency}`);
  if (f.from) and.push(Prisma.sql`r."day" >= ${f.from.toISOString().slice(0, 10)}::date`);
  if (f.before) and.push(Prisma.sql`r."day" < ${f.before.toISOString().slice(0, 10)}::date`);
  return Prisma.sql`
    SELECT r."currency", sum(r."count")::text AS "count", sum(r."amountMinor")::text AS "amount", sum(r."feeMinor")::text AS "fees",
           sum(r."feeCount")::text AS "feeCount", sum(r."feeOtherCount")::text AS "feeOther"
    FROM "PayoutRollup" r ${where(and)}
    GROUP BY r."currency" HAVING sum(r."count") > 0 ORDER BY r."currency"`;
}

/** The one statement listTotals runs for these filters (the bench times and EXPLAINs it). */
export function listTotalsQuery(f: ResolvedListFilters): Prisma.Sql {
  return rollupsAnswer(f) ? rollupTotalsSql(f) : listTotalsSql(f);
}

export async function listTotals(desk: Desk, filters: PayoutListFilters): Promise<ListTotals> {
  const f = resolveListFilters(filters);
  if (rollupsAnswer(f)) {
    const rows = await readRows<{ currency: string; count: string; amount: string; fees: string; feeCount: string; feeOther: string }>(desk, rollupTotalsSql(f));
    const currencies = rows.map((r) => ({
      currency: r.currency,
      count: Number(r.count),
      amountMinor: BigInt(r.amount),
      fees: Number(r.feeCount) > 0 ? [{ currency: r.currency, feeMinor: BigInt(r.fees), count: Number(r.feeCount) }] : [],
      ...(Number(r.feeOther) > 0 ? { feesNotAdded: Number(r.feeOther) } : {}),
    }));
    return { count: currencies.reduce((n, c) => n + c.count, 0), more: false, cap: TOTALS_CAP, source: "rollups", currencies };
  }
  const rows = await readRows<{ currency: string; feeCurrency: string; count: number; amount: string; fees: string | null; feeCount: number }>(desk, listTotalsSql(f));
  const count = rows.reduce((n, r) => n + Number(r.count), 0);
  if (count > TOTALS_CAP) return { count: TOTALS_CAP, more: true, cap: TOTALS_CAP, source: "payouts", currencies: [] };
  const byCurrency = new Map<string, ListTotals["currencies"][number]>();
  for (const r of rows) {
    let entry = byCurrency.get(r.currency);
    if (!entry) byCurrency.set(r.currency, (entry = { currency: r.currency, count: 0, amountMinor: 0n, fees: [] }));
    entry.count += Number(r.count);
    entry.amountMinor += BigInt(r.amount);
    if (Number(r.feeCount) > 0) entry.fees.push({ currency: r.feeCurrency, feeMinor: BigInt(r.fees ?? "0"), count: Number(r.feeCount) });
  }
  return { count, more: false, cap: TOTALS_CAP, source: "payouts", currencies: [...byCurrency.values()] };
}

/** For the export: how many payouts the filters match, and the first and last day they were created. */
export async function listExtent(desk: Desk, filters: PayoutListFilters): Promise<{ count: number; first: Date | null; last: Date | null }> {
  const f = resolveListFilters(filters);
  const [row] = await desk.db.$queryRaw<Array<{ count: number; first: Date | null; last: Date | null }>>(
    Prisma.sql`SELECT count(*)::int AS "count", min(p."createdAt") AS "first", max(p."createdAt") AS "last" FROM "Payout" p ${where(filterConditions(f, true))}`,
  );
  return { count: Number(row?.count ?? 0), first: row?.first ?? null, last: row?.last ?? null };
}

/** What the create and edit paths store beside recipientPhone (the migration backfilled the rest): its digits, last first. */
export function phoneDigitsReversed(phone: string | null | undefined): string | null {
  const digits = phone?.replace(/\D/g, "") ?? "";
  return digits === "" ? null : [...digits].reverse().join("");
}
