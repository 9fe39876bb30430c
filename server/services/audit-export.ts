// The audit trail of a period as a file, streamed from GET /api/audit/export
// (?format=csv|evidence&fromDay=&toDay=&timeZone=):
//
// - CSV: one row per entry, for reading in a spreadsheet; the desk's CSV
//   conventions (BOM, CRLF, formula cells escaped: server/exports/csv.ts).
// - Evidence pack (.jsonl): one JSON line per entry exactly as stored (id,
//   at, actorId, action, entityType, entityId, details, ip, prevHash, hash),
//   so each line's hash can be recomputed from the line alone; then one last
//   line, the manifest: the period, who made the pack and when, the first and
//   last entry, the hash the first entry links to, the chain's head when the
//   pack was made, whether the links inside the pack held, the hash rule,
//   the actors' names, and the sha256 of every byte before the manifest. An
//   auditor keeps the file (and its own sha256, e.g. `sha256sum`): a later
//   pack or the live desk must still contain the same entries and reach the
//   same head, or the trail was rewritten.
//
// Both hold every entry from the period's first to its last, in chain order
// (contiguous ids), so the pack is a piece of the chain that checks on its
// own. Rows are read a page at a time as the file is written. Who may export:
// whoever may read the trail; it asks for a fresh second factor like every
// export, and is itself audited.
import { createHash } from "node:crypto";
import { PassThrough, type Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { stringify } from "csv-stringify";
import { AUDIT_READER_ROLES } from "@/server/auth/controls";
import { clientIp } from "@/server/auth/client-ip";
import { resolveSession } from "@/server/auth/request-session";
import { parseCookieHeader } from "@/server/auth/session-cookie";
import { sessionEndMessage } from "@/server/auth/user-sessions";
import { requireRecentSecondFactor, StepUpRequired } from "@/server/auth/step-up";
import { CSV_FORMAT } from "@/server/exports/csv";
import { pagedRows } from "@/server/exports/paged-rows";
import { drained } from "@/server/exports/streams";
import type { Actor, Desk } from "./types";
import { audit } from "./audit";
import { canonicalJson, ChainChecker, type ChainBreak, type ChainRow } from "./audit-chain";
import { resolveAuditPeriod } from "./audit-log";
import { FieldErrors } from "./errors";
import { pulledFrom, ROWS_HEADER } from "./exports";

export const AUDIT_EXPORT_FORMATS = ["csv", "evidence"] as const;
export type AuditExportFormat = (typeof AUDIT_EXPORT_FORMATS)[number];

export const EVIDENCE_FORMAT_NAME = "payout-desk audit evidence pack, version 1";

export const AUDIT_CSV_COLUMNS = [
  "id",
  "at_utc",
  "actor_id",
  "actor_email",
  "actor_name",
  "action",
  "entity_type",
  "entity_id",
  "ip",
  "details",
  "prev_hash",
  "hash",
] as const;

const PAGE_SIZE = 2_000;

function json(status: number, body: Record<string, unknown>): Response {
  return Response.json(body, { status, headers: { "cache-control": "no-store" } });
}

export interface AuditExportRange {
  firstId: bigint;
  lastId: bigint;
  rowCount: number;
  firstDay: string;
  lastDay: string;
  timeZone: string;
  from: Date;
  to: Date;
}

/** The contiguous ids of a period's entries, or null when it has none. */
async function periodRange(desk: Desk, period: { from: Date; to: Date }): Promise<{ firstId: bigint; lastId: bigint; rowCount: number } | null> {
  const inPeriod = { at: { gte: period.from, lt: period.to } };
  // Ordered by time through the `at` index (one row each, not a walk of the ids before the period);
  // appends stamp `at` from the database clock under the chain's lock, so time order is id order.
  const [first, last] = await Promise.all([
    desk.db.auditLog.findFirst({ where: inPeriod, orderBy: [{ at: "asc" }, { id: "asc" }], select: { id: true } }),
    desk.db.auditLog.findFirst({ where: inPeriod, orderBy: [{ at: "desc" }, { id: "desc" }], select: { id: true } }),
  ]);
  if (!first || !last) return null;
  const rowCount = await desk.db.auditLog.count({ where: { id: { gte: first.id, lte: last.id } } });
  return { firstId: first.id, lastId: last.id, rowCount };
}

/** GET /api/audit/export. */
export async function auditExportDownload(desk: Desk, request: Request): Promise<Response> {
  const session = await resolveSession(desk.db, parseCookieHeader(request.headers.get("cookie")));
  if (session.state === "ended") return json(401, { error: sessionEndMessage(session.reason) });
  if (session.state !== "active") return json(401, { error: "Sign in to continue" });
  const actor = session.actor;
  if (!AUDIT_READER_ROLES.includes(actor.role)) return json(403, { error: `This needs the ${AUDIT_READER_ROLES.join(" or ")} role; you are ${actor.role}` });

  const params = new URL(request.url).searchParams;
  const formatText = params.get("format") ?? "";
  const format = (AUDIT_EXPORT_FORMATS as readonly string[]).includes(formatText) ? (formatText as AuditExportFormat) : null;
  const fields: Record<string, string> = {};
  if (!format) fields.format = `Choose a format: ${AUDIT_EXPORT_FORMATS.join(", ")}`;
  const fromDay = params.get("fromDay")?.trim() || null;
  const toDay = params.get("toDay")?.trim() || null;
  if (!fromDay) fields.fromDay = "Enter the first day of the period, e.g. 2026-05-01";
  if (!toDay) fields.toDay = "Enter the last day of the period, e.g. 2026-05-31";
  let period: Awaited<ReturnType<typeof resolveAuditPeriod>> | null = null;
  try {
    period = await resolveAuditPeriod(desk, { fromDay, toDay, timeZone: params.get("timeZone") });
  } catch (error) {
    if (!(error instanceof FieldErrors)) throw error;
    for (const [field, message] of Object.entries(error.fields)) fields[field] ??= message;
  }
  if (Object.keys(fields).length > 0) {
    return json(400, { error: Object.entries(fields).map(([f, m]) => `${f}: ${m}`).join("; "), fieldErrors: fields });
  }

  const found = await periodRange(desk, { from: period!.from!, to: period!.to! });
  if (!found) return json(404, { error: `No audit entries from ${fromDay} to ${toDay} (${period!.timeZone})`, empty: true });

  // Asked only once the export is known to be valid and non-empty (as the other exports do).
  try {
    await requireRecentSecondFactor({ desk, actor, sessionId: session.sessionId });
  } catch (error) {
    if (!(error instanceof StepUpRequired)) throw error;
    return json(403, { error: error.message, stepUpRequired: true, stepUpReason: error.reason });
  }

  const range: AuditExportRange = { ...found, firstDay: fromDay!, lastDay: toDay!, timeZone: period!.timeZone, from: period!.from!, to: period!.to! };
  const extension = format === "csv" ? "csv" : "jsonl";
  const fileName = `audit${format === "evidence" ? "-evidence" : ""}-${range.firstDay}${range.lastDay === range.firstDay ? "" : `-${range.lastDay}`}.${extension}`;
  await audit(desk.db, {
    actorId: actor.id,
    action: "audit.export",
    entityType: "audit",
    details: { format, fileName, fromDay, toDay, timeZone: range.timeZone, firstId: range.firstId, lastId: range.lastId, entries: range.rowCount },
    ip: clientIp(request.headers),
  });

  const out = new PassThrough({ highWaterMark: 256 * 1024 });
  const write = format === "csv" ? writeAuditCsv(desk, range, out) : writeEvidencePack(desk, actor, range, out);
  write.catch((error: unknown) => {
    // Past the headers no status can change: breaking the stream is what tells the browser it failed.
    if (!out.destroyed) console.error(`[audit] the export ${fileName} failed while it was written:`, error);
    out.destroy(error instanceof Error ? error : new Error(String(error)));
  });
  return new Response(pulledFrom(out), {
    status: 200,
    headers: {
      "content-type": format === "csv" ? "text/csv; charset=utf-8" : "application/jsonl; charset=utf-8",
      "content-disposition": `attachment; filename="${fileName}"; filename*=UTF-8''${encodeURIComponent(fileName)}`,
      [ROWS_HEADER]: String(range.rowCount),
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
    },
  });
}

function entryRows(desk: Desk, range: Pick<AuditExportRange, "firstId" | "lastId">) {
  return pagedRows({
    pageSize: PAGE_SIZE,
    fetchPage: (after: bigint | null, limit) =>
      desk.db.auditLog.findMany({
        where: { id: { gte: range.firstId, lte: range.lastId, ...(after === null ? {} : { gt: after }) } },
        orderBy: { id: "asc" },
        take: limit,
        include: { actor: { select: { email: true, name: true } } },
      }),
    cursorOf: (row) => row.id,
  });
}

/** The CSV: every entry of the range, times in UTC (ISO 8601), details as canonical JSON. */
export async function writeAuditCsv(desk: Desk, range: Pick<AuditExportRange, "firstId" | "lastId">, out: Writable): Promise<void> {
  const stringifier = stringify({ header: true, columns: [...AUDIT_CSV_COLUMNS], ...CSV_FORMAT });
  const done = pipeline(stringifier, out);
  try {
    for await (const row of entryRows(desk, range)) {
      const record = [
        row.id,
        row.at.toISOString(),
        row.actorId,
        row.actor?.email ?? null,
        row.actor?.name ?? null,
        row.action,
        row.entityType,
        row.entityId,
        row.ip,
        row.details === null ? null : canonicalJson(row.details),
        row.prevHash,
        row.hash,
      ];
      if (!stringifier.write(record)) await drained(stringifier);
    }
    stringifier.end();
  } catch (error) {
    stringifier.destroy(error as Error);
  }
  await done;
}

/** One stored entry as an evidence line: exactly the columns the hash covers, plus id and hashes. */
export function evidenceLine(row: ChainRow): string {
  return `${canonicalJson({
    id: row.id,
    at: row.at.toISOString(),
    actorId: row.actorId,
    action: row.action,
    entityType: row.entityType,
    entityId: row.entityId,
    details: row.details,
    ip: row.ip,
    prevHash: row.prevHash,
    hash: row.hash,
  })}\n`;
}

/** The evidence pack: entry lines, then the manifest line (see the top of this file). */
export async function writeEvidencePack(desk: Desk, maker: Actor, range: AuditExportRange, out: Writable): Promise<void> {
  const digest = createHash("sha256");
  const checker = await ChainChecker.startingAt(desk.db, range.firstId);
  const anchor = checker.expectedPrevHash;
  const actorIds = new Set<string>();
  let firstBroken: ChainBreak | null = null;
  let entries = 0;
  const put = async (text: string) => {
    if (out.destroyed) throw new Error("the download was cancelled");
    if (!out.write(text)) await drained(out);
  };
  for await (const row of entryRows(desk, range)) {
    const line = evidenceLine(row);
    digest.update(line, "utf8");
    await put(line);
    entries++;
    if (row.actorId) actorIds.add(row.actorId);
    if (!firstBroken) {
      const verdict = await checker.check(row);
      if (verdict && verdict !== "before-chain") firstBroken = verdict;
    }
  }
  const [head, actors] = await Promise.all([
    desk.db.auditLog.findFirst({ where: { hash: { not: null } }, orderBy: { id: "desc" }, select: { id: true, hash: true, at: true } }),
    desk.db.user.findMany({ where: { id: { in: [...actorIds] } }, select: { id: true, email: true, name: true } }),
  ]);
  const manifest = {
    manifest: {
      format: EVIDENCE_FORMAT_NAME,
      period: { firstDay: range.firstDay, lastDay: range.lastDay, timeZone: range.timeZone, from: range.from.toISOString(), to: range.to.toISOString() },
      generatedAt: new Date().toISOString(),
      generatedBy: { id: maker.id, email: maker.email, name: maker.name },
      entries,
      firstId: range.firstId,
      lastId: range.lastId,
      // The hash the first entry must name: the entry before the pack (null: the pack starts the chain).
      anchorPrevHash: anchor,
      chainHead: head && { id: head.id, hash: head.hash, at: head.at.toISOString() },
      linksInPack: firstBroken ? { intact: false, firstBroken: { kind: firstBroken.kind, id: firstBroken.id, message: firstBroken.message } } : { intact: true },
      hashRule:
        "hash = sha256 hex of the JSON of {action, actorId, at, details, entityId, entityType, ip, prevHash}: keys sorted, no spaces, at as ISO 8601 UTC with milliseconds, absent values null, bigints as decimal text; each entry's prevHash is the hash of the entry before it",
      actors: Object.fromEntries(actors.map((a) => [a.id, { email: a.email, name: a.name }])),
      entriesSha256: digest.digest("hex"),
    },
  };
  await put(`${canonicalJson(manifest)}\n`);
  out.end();
}
