// Reading the audit trail: the Audit page's filtered, keyset-paged list, the
// choices its filters offer, and chain verification in slices a request can
// afford (the page calls again from where the last slice stopped, showing
// progress, so no request walks a million entries and none holds them all).
import type { Prisma } from "@/server/db/generated/client";
import { AUDIT_READER_ROLES } from "@/server/auth/controls";
import { addDays, canonicalTimeZone, EARLIEST_DAY, isDay, LATEST_DAY, startOfDay } from "@/server/domain/statement";
import type { Actor, Desk } from "./types";
import { verifyChain, type ChainBreak } from "./audit-chain";
import { FieldErrors, Forbidden } from "./errors";
import { generalSettings } from "./settings";

export function requireAuditReader(actor: Actor): void {
  if (!AUDIT_READER_ROLES.includes(actor.role)) {
    throw new Forbidden(`The audit trail is for the ${AUDIT_READER_ROLES.join(", ")} roles; you are ${actor.role}`, "audit.role");
  }
}

export interface AuditFilters {
  /** A user id, or "system" for entries no user made (workers, schedules, failed sign-ins). */
  actor?: string | null;
  /** Entries whose action starts with this ("payout." for every payout action). */
  action?: string | null;
  entityType?: string | null;
  entityId?: string | null;
  /** Whole days in `timeZone`, inclusive; either may be left open. */
  fromDay?: string | null;
  toDay?: string | null;
  /** IANA zone of the days; default the desk's (Settings → General). */
  timeZone?: string | null;
  /** Only entries up to this entry number (the page jumps to a broken link so). */
  upto?: string | null;
}

export interface ResolvedPeriod {
  from: Date | null;
  to: Date | null;
  timeZone: string;
}

/** The instants of the filter's days, or field errors naming each problem. */
export async function resolveAuditPeriod(desk: Desk, filters: Pick<AuditFilters, "fromDay" | "toDay" | "timeZone">): Promise<ResolvedPeriod> {
  const fields: Record<string, string> = {};
  const zoneText = filters.timeZone?.trim();
  const timeZone = zoneText ? canonicalTimeZone(zoneText) : (await generalSettings(desk.db)).timeZone;
  if (!timeZone) fields.timeZone = `Choose an IANA time zone such as Europe/London; "${zoneText!.slice(0, 64)}" is not one`;
  const day = (field: "fromDay" | "toDay", example: string) => {
    const value = filters[field]?.trim();
    if (!value) return null;
    if (!isDay(value)) {
      fields[field] = `Use a real date like ${example}, from ${EARLIEST_DAY} to ${LATEST_DAY}`;
      return null;
    }
    return value;
  };
  const fromDay = day("fromDay", "2026-05-01");
  const toDay = day("toDay", "2026-05-31");
  if (fromDay && toDay && toDay < fromDay) fields.toDay = `The last day cannot be before the first day (${fromDay})`;
  if (Object.keys(fields).length > 0) throw new FieldErrors(fields);
  return {
    from: fromDay ? startOfDay(fromDay, timeZone!) : null,
    to: toDay ? startOfDay(addDays(toDay, 1), timeZone!) : null,
    timeZone: timeZone!,
  };
}

export function auditWhere(filters: AuditFilters, period: ResolvedPeriod): Prisma.AuditLogWhereInput {
  const where: Prisma.AuditLogWhereInput = {};
  if (filters.actor === "system") where.actorId = null;
  else if (filters.actor) where.actorId = filters.actor;
  const action = filters.action?.trim();
  if (action) where.action = { startsWith: action };
  const entityType = filters.entityType?.trim();
  if (entityType) where.entityType = entityType;
  const entityId = filters.entityId?.trim();
  if (entityId) where.entityId = entityId;
  if (period.from || period.to) where.at = { ...(period.from ? { gte: period.from } : {}), ...(period.to ? { lt: period.to } : {}) };
  if (filters.upto) where.id = { lte: entryNumber(filters.upto, "upto") };
  return where;
}

/** Where an entry's object is shown in the desk, or null when it has no page of its own. */
export function entityHref(entityType: string, entityId: string | null, details: unknown): string | null {
  const id = entityId ? encodeURIComponent(entityId) : null;
  switch (entityType) {
    case "payout":
      return id ? `/payouts/${id}` : "/payouts";
    case "payouts":
      return "/payouts";
    case "batch":
      return "/payouts/bulk";
    case "connection":
    case "balances":
      return entityType === "balances" ? "/balances" : "/connections";
    case "user":
      return id ? `/settings?user=${id}#users` : "/settings#users";
    case "settings":
      return "/settings";
    case "policy":
    case "group":
      return "/settings#approval-policy";
    case "statement":
      return "/statements";
    case "reconciliation_run":
      return id ? `/reconciliation?run=${id}` : "/reconciliation";
    case "reconciliation_item": {
      const runId = (details as { runId?: unknown } | null)?.runId;
      return typeof runId === "string" ? `/reconciliation?run=${encodeURIComponent(runId)}` : "/reconciliation";
    }
    default:
      return null;
  }
}

export const AUDIT_PAGE_SIZE = 50;

export async function listAuditEntries(desk: Desk, actor: Actor, filters: AuditFilters, page: { cursor?: string | null; limit?: number } = {}) {
  requireAuditReader(actor);
  const period = await resolveAuditPeriod(desk, filters);
  const limit = Math.max(1, Math.min(page.limit ?? AUDIT_PAGE_SIZE, 200));
  const cursor = page.cursor ? entryNumber(page.cursor, "cursor") : null;
  const where = await withIdBounds(desk, auditWhere(filters, period), period);
  // Newest first, keyset on id (never OFFSET): the next page starts below the last id shown.
  const rows = await desk.db.auditLog.findMany({
    where: cursor === null ? where : { AND: [where, { id: { lt: cursor } }] },
    orderBy: { id: "desc" },
    take: limit + 1,
    include: { actor: { select: { id: true, name: true, email: true } } },
  });
  const more = rows.length > limit;
  const shown = more ? rows.slice(0, limit) : rows;
  return {
    timeZone: period.timeZone,
    entries: shown.map((row) => ({
      id: row.id.toString(),
      at: row.at,
      actor: row.actor,
      action: row.action,
      entityType: row.entityType,
      entityId: row.entityId,
      href: entityHref(row.entityType, row.entityId, row.details),
      details: row.details,
      ip: row.ip,
      prevHash: row.prevHash,
      hash: row.hash,
    })),
    nextCursor: more ? shown[shown.length - 1]!.id.toString() : null,
  };
}

/**
 * A period also as a range of ids, found through the `at` index (one row per
 * end): appends stamp `at` from the database clock under the chain's lock,
 * so time order is id order, and the newest-first walk on the primary key
 * then starts at the period's end instead of scanning every later entry.
 * The time condition stays too. (Entries from before the chain were stamped
 * at their transaction's start, so a few of those may sit out of time order
 * by milliseconds; at a period's edge one could be left out.)
 */
async function withIdBounds(desk: Desk, where: Prisma.AuditLogWhereInput, period: ResolvedPeriod): Promise<Prisma.AuditLogWhereInput> {
  if (!period.from && !period.to) return where;
  const inPeriod = { at: { ...(period.from ? { gte: period.from } : {}), ...(period.to ? { lt: period.to } : {}) } };
  const [first, last] = await Promise.all([
    period.from ? desk.db.auditLog.findFirst({ where: inPeriod, orderBy: [{ at: "asc" }, { id: "asc" }], select: { id: true } }) : null,
    period.to ? desk.db.auditLog.findFirst({ where: inPeriod, orderBy: [{ at: "desc" }, { id: "desc" }], select: { id: true } }) : null,
  ]);
  if ((period.from && !first) || (period.to && !last)) return { AND: [where, { id: { lt: 0n } }] };
  return { AND: [where, { id: { ...(first ? { gte: first.id } : {}), ...(last ? { lte: last.id } : {}) } }] };
}

/** An entry number from text ("1234"), or a field error. */
export function entryNumber(text: string, field: string): bigint {
  if (!/^[1-9][0-9]{0,18}$/.test(text) || BigInt(text) > 9_223_372_036_854_775_807n) throw new FieldErrors({ [field]: "Must be an entry number such as 1234" });
  return BigInt(text);
}

/** The people who can appear as "who", the object types present, and recent action names, for the filters. */
export async function auditFilterOptions(desk: Desk, actor: Actor) {
  requireAuditReader(actor);
  const [people, types, actions] = await Promise.all([
    desk.db.user.findMany({ orderBy: [{ name: "asc" }, { email: "asc" }], select: { id: true, name: true, email: true } }),
    // Distinct types through the (entityType, entityId) index, one hop per type, not a scan of the table.
    desk.db.$queryRaw<Array<{ entityType: string }>>`
      WITH RECURSIVE t AS (
        (SELECT "entityType" FROM "AuditLog" ORDER BY "entityType" LIMIT 1)
        UNION ALL
        SELECT (SELECT a."entityType" FROM "AuditLog" a WHERE a."entityType" > t."entityType" ORDER BY a."entityType" LIMIT 1) FROM t WHERE t."entityType" IS NOT NULL
      )
      SELECT "entityType" FROM t WHERE "entityType" IS NOT NULL`,
    // No index on action: suggestions come from the latest entries only; the field takes any text.
    desk.db.$queryRaw<Array<{ action: string }>>`
      SELECT DISTINCT "action" FROM (SELECT "action" FROM "AuditLog" ORDER BY "id" DESC LIMIT 5000) recent ORDER BY "action"`,
  ]);
  return { people, entityTypes: types.map((t) => t.entityType), actions: actions.map((a) => a.action) };
}

/** Entries one verification request walks at most; the page asks again from nextFrom. */
export const VERIFY_SLICE = 20_000;

/** A break as the page shows it: entry numbers as text. */
export interface ChainBreakView {
  kind: ChainBreak["kind"];
  id: string;
  afterId: string | null;
  linksTo: string | null;
  message: string;
}

export interface VerifySlice {
  intact: boolean;
  broken: ChainBreakView | null;
  checked: number;
  beforeChain: number;
  firstId: string | null;
  lastId: string | null;
  /** Set when the slice stopped before the goal: ask again from here. */
  nextFrom: string | null;
  head: { id: string; hash: string; at: Date } | null;
  /** The whole run's range: the first entry and the goal (progress = lastId against these). */
  range: { first: string | null; last: string | null };
}

const idText = (id: bigint | null | undefined): string | null => (id === null || id === undefined ? null : id.toString());

/**
 * One slice of a chain verification: from `from` (default: the start) up to
 * `to` (default: the last entry now; the page passes the first slice's goal
 * so entries appended meanwhile do not move it), at most `sliceSize` entries.
 */
export async function verifyAuditChain(desk: Desk, actor: Actor, input: { from?: string | null; to?: string | null }, sliceSize = VERIFY_SLICE): Promise<VerifySlice> {
  requireAuditReader(actor);
  const from = input.from ? entryNumber(input.from, "from") : null;
  const to = input.to ? entryNumber(input.to, "to") : null;
  const [first, last] = await Promise.all([
    desk.db.auditLog.findFirst({ orderBy: { id: "asc" }, select: { id: true } }),
    to === null ? desk.db.auditLog.findFirst({ orderBy: { id: "desc" }, select: { id: true } }) : Promise.resolve({ id: to }),
  ]);
  const result = await verifyChain(desk.db, { from, to: last?.id ?? null, limit: sliceSize });
  const broken = result.broken;
  return {
    intact: result.intact,
    broken: broken && {
      kind: broken.kind,
      id: broken.id.toString(),
      afterId: "afterId" in broken ? idText(broken.afterId) : null,
      linksTo: "linksTo" in broken ? idText(broken.linksTo) : null,
      message: broken.message,
    },
    checked: result.checked,
    beforeChain: result.beforeChain,
    firstId: idText(result.firstId),
    lastId: idText(result.lastId),
    nextFrom: idText(result.nextFrom),
    head: result.head && { id: result.head.id.toString(), hash: result.head.hash, at: result.head.at },
    range: { first: idText(first?.id), last: idText(last?.id) },
  };
}
