// File downloads: a statement, or the payouts list under its filters, in one
// of the export formats, streamed from a route handler. One function serves
// both routes (and the tests, which call it with a plain Request): it checks
// the session as the tRPC context does, validates the query with the same
// rules as the page (field errors as JSON 400), answers an empty export with
// a 404 that says so before any file is made, audits who exported what, and
// streams the writer's output through a PassThrough as it is written, rows
// read page by page, never the whole file in memory.
import { PassThrough, Readable } from "node:stream";
import { STATUS_LABELS } from "@/server/domain/payout-state";
import { addDays, canonicalTimeZone, exportFileName, formatDays, startOfDay } from "@/server/domain/statement";
import { ANY_ROLE, type Role } from "@/server/auth/roles";
import { clientIp } from "@/server/auth/client-ip";
import { resolveSession } from "@/server/auth/request-session";
import { parseCookieHeader } from "@/server/auth/session-cookie";
import { sessionEndMessage } from "@/server/auth/user-sessions";
import { requireRecentSecondFactor, StepUpRequired } from "@/server/auth/step-up";
import type { ExportFormat, ExportRow, ExportRows, ExportWriter } from "@/server/exports/types";
import type { Actor, Desk } from "./types";
import { audit } from "./audit";
import { FieldErrors } from "./errors";
import { listExtent, listPayouts, type PayoutFilters } from "./payout-list";
import { LIST_URL_KEYS, listQueryFromUrl, type ListField } from "@/server/domain/payout-list-params";
import { DEFAULT_MERCHANT_NAME, generalSettings } from "./settings";
import { prepareStatementExport, resolveStatementQuery, type PreparedExport } from "./statements";

export type ExportKind = "statement" | "payouts";

/** Who may download: everyone signed in, viewer and up. */
export const EXPORT_ROLES: readonly Role[] = ANY_ROLE;

export const EXPORT_FORMATS: readonly ExportFormat[] = ["csv", "xlsx", "pdf", "camt053"];

/** The header that tells the browser how many rows to expect, for a percentage while it downloads. */
export const ROWS_HEADER = "X-Export-Rows";

/** The writer of a format, or undefined when the desk has none for it. */
export type WriterLookup = (format: ExportFormat) => ExportWriter | undefined;

function json(status: number, body: Record<string, unknown>): Response {
  return Response.json(body, { status, headers: { "cache-control": "no-store" } });
}

function refused(fields: Record<string, string>): Response {
  return json(400, { error: Object.entries(fields).map(([f, m]) => `${f}: ${m}`).join("; "), fieldErrors: fields });
}

/** GET /api/statements/export and /api/payouts/export. */
export async function exportDownload(desk: Desk, request: Request, kind: ExportKind, writerFor: WriterLookup): Promise<Response> {
  const session = await resolveSession(desk.db, parseCookieHeader(request.headers.get("cookie")));
  if (session.state === "ended") return json(401, { error: sessionEndMessage(session.reason) });
  if (session.state !== "active") return json(401, { error: "Sign in to continue" });
  const actor = session.actor;
  if (!EXPORT_ROLES.includes(actor.role)) return json(403, { error: `This needs the ${EXPORT_ROLES.join(" or ")} role; you are ${actor.role}` });

  const params = new URL(request.url).searchParams;
  const formatText = params.get("format") ?? "";
  const format = (EXPORT_FORMATS as readonly string[]).includes(formatText) ? (formatText as ExportFormat) : null;
  const writer = format ? writerFor(format) : undefined;

  let prepared: PreparedExport;
  try {
    const fields: Record<string, string> = {};
    if (!format) fields.format = `Choose a format: ${EXPORT_FORMATS.join(", ")}`;
    else if (!writer) fields.format = `${format} files cannot be made by this desk yet; choose ${EXPORT_FORMATS.filter((f) => writerFor(f)).join(", ")}`;
    // The query is checked even when the format is wrong, so every problem is named at once.
    try {
      prepared = kind === "statement" ? await prepareStatementExport(desk, actor, await resolveStatementQuery(desk, statementParams(params))) : await preparePayoutsExport(desk, actor, payoutParams(params));
    } catch (error) {
      if (!(error instanceof FieldErrors)) throw error;
      Object.assign(fields, error.fields);
    }
    if (Object.keys(fields).length > 0) return refused(fields);
  } catch (error) {
    console.error(`[exports] could not prepare a ${kind} export:`, error);
    return json(500, { error: "Something went wrong on our side; nothing was exported" });
  }

  if (prepared!.rowCount === 0) {
    return json(404, { error: prepared!.emptyMessage, empty: true });
  }
  // Asked only once the export is known to be valid and non-empty, so nobody
  // types a code for a file that would be refused anyway. The browser's
  // download code (components/auth/step-up-fetch.ts) reads the flag, asks
  // for the code and retries.
  try {
    await requireRecentSecondFactor({ desk, actor, sessionId: session.sessionId });
  } catch (error) {
    if (!(error instanceof StepUpRequired)) throw error;
    return json(403, { error: error.message, stepUpRequired: true, stepUpReason: error.reason });
  }
  const fileName = prepared!.fileName(writer!.extension);
  await audit(desk.db, {
    actorId: actor.id,
    action: `${kind === "statement" ? "statement" : "payouts"}.export`,
    entityType: kind === "statement" ? "statement" : "payouts",
    entityId: (prepared!.describe.connectionId as string | null) ?? null,
    details: { format: format!, fileName, ...prepared!.describe },
    ip: clientIp(request.headers),
  });
  return streamed(writer!, prepared!, fileName, kind);
}

/**
 * The writer writes into a PassThrough; the response body reads from it only
 * as the browser takes bytes, so a slow client slows the writer and, through
 * it, the database reads. A client that goes away cancels the body, which
 * destroys the PassThrough and so stops the writer.
 */
function streamed(writer: ExportWriter, prepared: PreparedExport, fileName: string, kind: ExportKind): Response {
  const out = new PassThrough({ highWaterMark: 256 * 1024 });
  writer.write(prepared.input, out).catch((error: unknown) => {
    // Past the headers there is no status left to change: breaking the stream is what tells the browser it failed.
    if (!out.destroyed) console.error(`[exports] the ${kind} export ${fileName} failed while it was written:`, error);
    out.destroy(error instanceof Error ? error : new Error(String(error)));
  });
  const body = pulledFrom(out);
  return new Response(body, {
    status: 200,
    headers: {
      "content-type": writer.contentType,
      "content-disposition": `attachment; filename="${fileName}"; filename*=UTF-8''${encodeURIComponent(fileName)}`,
      [ROWS_HEADER]: String(prepared.rowCount),
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
    },
  });
}

/**
 * A web ReadableStream that reads a Node stream one chunk per pull. Not
 * Readable.toWeb: when the browser cancels a download its adapter can still
 * enqueue a late 'data' chunk into the closed controller, an uncaught
 * exception that takes the whole server down (nodejs/node#64529, seen here
 * in the tests on Node 20). Pulling through the stream's async iterator keeps
 * the backpressure and has no listener left to fire after a cancel.
 */
export function pulledFrom(source: Readable): ReadableStream<Uint8Array> {
  const chunks = source[Symbol.asyncIterator]();
  let cancelled = false;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const { value, done } = await chunks.next();
          if (cancelled) return;
          if (done) controller.close();
          else controller.enqueue(typeof value === "string" ? Buffer.from(value) : (value as Uint8Array));
        } catch (error) {
          if (!cancelled) controller.error(error);
        }
      },
      async cancel() {
        cancelled = true;
        source.destroy();
        await chunks.return?.().catch(() => undefined);
      },
    },
    { highWaterMark: 0 },
  );
}

function statementParams(params: URLSearchParams) {
  return {
    connectionId: params.get("connectionId") ?? undefined,
    currency: params.get("currency") ?? undefined,
    period: params.get("period") ?? undefined,
    from: params.get("from") ?? undefined,
    to: params.get("to") ?? undefined,
    timeZone: params.get("timeZone") ?? undefined,
  };
}

/**
 * The payouts page's own address-bar filters (status, connection, currency,
 * batch, from, to, tz, min, max, q, attention, sort, dir), read by the very
 * function the page reads them with, so the Export menu can send the query string it shows.
 */
function payoutParams(params: URLSearchParams): PayoutFilters {
  const { filters, order, errors } = listQueryFromUrl(params);
  if (Object.keys(errors).length > 0) throw new FieldErrors(urlFields(errors));
  return { ...filters, ...order };
}

/** The list names its fields createdFrom, amountMin…; the address bar (and this download) says from, min… */
function urlFields(fields: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(fields).map(([k, v]) => [(LIST_URL_KEYS as Record<string, string>)[k as ListField] ?? k, v]));
}

/** Rows of the payouts list read this many at a time (the list's own page reader, at its largest page). */
const PAYOUT_PAGE_ROWS = 200;

/**
 * The payouts list under its filters, for a writer: read through
 * listPayouts itself, page by page with its own cursor, so the export holds
 * exactly what the list shows. Dates are the list's (UTC days of creation).
 */
export async function preparePayoutsExport(desk: Desk, actor: Actor, filters: PayoutFilters, now = new Date()): Promise<PreparedExport> {
  let range;
  try {
    range = await listExtent(desk, filters);
  } catch (error) {
    if (error instanceof FieldErrors) throw new FieldErrors(urlFields(error.fields));
    throw error;
  }
  const [settings, connection] = await Promise.all([
    generalSettings(desk.db),
    filters.connectionId ? desk.db.connection.findUnique({ where: { id: filters.connectionId }, select: { id: true, name: true } }) : null,
  ]);
  const zone = (filters.timeZone && canonicalTimeZone(filters.timeZone)) || "UTC";
  const rowCount = range.count;
  const firstDay = filters.createdFrom ?? range.first?.toISOString().slice(0, 10) ?? now.toISOString().slice(0, 10);
  const lastDay = filters.createdTo ?? range.last?.toISOString().slice(0, 10) ?? now.toISOString().slice(0, 10);
  const connectionLabel = filters.connectionId ? (connection?.name ?? "Unknown connection") : "All connections";
  const words = describeFilters(filters, connectionLabel);

  async function* rows(): ExportRows {
    let cursor: string | null = null;
    do {
      const page: Awaited<ReturnType<typeof listPayouts>> = await listPayouts(desk, filters, { cursor, limit: PAYOUT_PAGE_ROWS });
      for (const p of page.items) yield payoutRow(p);
      cursor = page.nextCursor;
    } while (cursor);
  }

  return {
    input: {
      meta: {
        kind: "payouts",
        merchantName: settings.merchantName ?? DEFAULT_MERCHANT_NAME,
        connectionLabel,
        currency: null,
        periodFrom: startOfDay(firstDay, zone),
        periodTo: startOfDay(addDays(lastDay, 1), zone),
        // The list's days are in the zone it was filtered in (the browser's; UTC when none), and so are the file's times.
        timeZone: zone,
        generatedAt: now,
        generatedBy: `${actor.name} (${actor.email})`,
        filters: words,
      },
      sections: [],
      total: null,
      rows,
    },
    rowCount,
    emptyMessage: `No payouts match these filters (${words}); there is nothing to export`,
    fileName: (extension) => exportFileName({ connection: filters.connectionId ? connectionLabel : null, currency: null, firstDay, lastDay, extension }),
    describe: { connectionId: filters.connectionId ?? null, connection: connectionLabel, filters: words, from: firstDay, to: lastDay, rows: rowCount },
  };
}

function describeFilters(filters: PayoutFilters, connectionLabel: string): string {
  const parts = [
    filters.status?.length ? `status ${filters.status.map((s) => STATUS_LABELS[s]).join(" or ")}` : "every status",
    connectionLabel,
    filters.currency ? `in ${filters.currency}` : null,
    filters.amountMin || filters.amountMax
      ? `amount ${filters.amountMin && filters.amountMax ? `${filters.amountMin} to ${filters.amountMax}` : filters.amountMin ? `at least ${filters.amountMin}` : `at most ${filters.amountMax}`} ${filters.currency ?? ""}`.trim()
      : null,
    filters.batchId ? `from batch ${filters.batchId.slice(0, 8)}` : null,
    filters.createdFrom || filters.createdTo
      ? `created ${filters.createdFrom && filters.createdTo ? formatDays(filters.createdFrom, filters.createdTo) : filters.createdFrom ? `from ${formatDays(filters.createdFrom, filters.createdFrom)}` : `until ${formatDays(filters.createdTo!, filters.createdTo!)}`} (${(filters.timeZone && canonicalTimeZone(filters.timeZone)) || "UTC"})`
      : null,
    filters.search ? `matching "${filters.search}"` : null,
    filters.attention ? "needing attention" : null,
  ];
  return parts.filter(Boolean).join(", ");
}

type ListedPayout = Awaited<ReturnType<typeof listPayouts>>["items"][number];

function payoutRow(p: ListedPayout): ExportRow {
  return {
    payoutId: p.id,
    createdAt: p.createdAt,
    finalizedAt: p.finalizedAt,
    status: p.status,
    connectionName: p.connection.name,
    provider: p.connection.provider,
    currency: p.currency,
    amountMinor: p.amountMinor,
    feeMinor: p.feeMinor,
    feeCurrency: p.feeMinor === null ? null : (p.feeCurrency ?? p.currency),
    debitedMinor: p.debitedMinor,
    debitedCurrency: p.debitedCurrency,
    destinationMinor: p.destinationMinor,
    destinationCurrency: p.destinationCurrency,
    fxRate: p.fxRate,
    recipientName: p.recipientName,
    recipientPhone: p.recipientPhone,
    recipientAccount: p.recipientAccount,
    description: p.description,
    providerReference: p.providerReference,
    failureCode: p.failureCode,
    failureMessage: p.failureMessage,
  };
}
