// What became of a batch once its payouts exist: the batch page's figures
// (payouts per status and the share final, totals paid per currency, fees
// where the provider reported them, the failed rows with their reasons a page
// at a time, the retry of its failed rows) and its results as a file (CSV or
// XLSX: every data row of the uploaded file with its payout's status, the
// provider's reference, the failure reason and the fee, or why no payout was
// made of it), streamed from GET /api/batches/<id>/results.
//
// Everything is read from the payouts themselves (batchId, batchRow), counted
// and summed by the database; only the rows the file download writes are read
// row by row, a few thousand at a time by batchRow.
import { PassThrough } from "node:stream";
import { FINAL_STATUSES, PAYOUT_STATUSES, STATUS_LABELS, type PayoutStatus } from "@/server/domain/payout-state";
import { ANY_ROLE } from "@/server/auth/roles";
import { clientIp } from "@/server/auth/client-ip";
import { resolveSession } from "@/server/auth/request-session";
import { parseCookieHeader } from "@/server/auth/session-cookie";
import { sessionEndMessage } from "@/server/auth/user-sessions";
import { requireRecentSecondFactor, StepUpRequired } from "@/server/auth/step-up";
import { pagedRows } from "@/server/exports/paged-rows";
import { writeBatchResultsCsv, writeBatchResultsXlsx, type BatchResultRow, type BatchResultsFile } from "@/server/exports/batch-results";
import type { Actor, Desk } from "./types";
import { audit } from "./audit";
import { NotFound } from "./errors";
import { pulledFrom, ROWS_HEADER } from "./exports";
import { liveRetryOf, type CreateState, type InFileDuplicate, type InvalidRow, type RecentDuplicate, type SummaryFile } from "./batches";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The columns of a bulk file that are the form's own fields (or the desk's); the others are the provider's recipient fields. */
const FORM_COLUMNS = new Set(["amount", "currency", "recipient_phone", "recipient_name", "recipient_account", "channel", "description", "connection", "error"]);

/** Payouts whose money did not go out, and which a retry may send again: the provider failed them. */
export const RETRY_STATUSES: readonly PayoutStatus[] = ["failed"];

interface BatchHead {
  id: string;
  fileName: string;
  status: string;
  createdById: string;
  createdAt: Date;
  rowCount: number;
  retryOfId: string | null;
  phase: string | null;
  dryRun: boolean | null;
  file: SummaryFile | null;
  create: CreateState | null;
  duplicateWindowHours: number | null;
}

async function loadHead(desk: Desk, id: string): Promise<BatchHead> {
  if (!UUID.test(id)) throw new NotFound("Batch");
  const rows = await desk.db.$queryRaw<BatchHead[]>`
    SELECT id, "fileName", status, "createdById", "createdAt", "rowCount", "retryOfId",
           summary ->> 'phase' AS phase, (summary ->> 'dryRun')::boolean AS "dryRun",
           summary -> 'file' AS file, summary -> 'create' AS "create",
           (summary ->> 'duplicateWindowHours')::int AS "duplicateWindowHours"
    FROM "Batch" WHERE id = ${id}::uuid`;
  const head = rows[0];
  if (!head) throw new NotFound("Batch");
  return head;
}

/** Sheet row of a payout's batchRow: batchRow 1 is the row right below the header (or the template's description line). */
function sheetRowOffset(file: SummaryFile | null): number {
  return file?.descriptionRow ?? file?.headerRow ?? 1;
}

/** The provider's own recipient fields the batch's file had, as columns (bank_code, ifsc, email…). */
function detailColumnsOf(file: SummaryFile | null): string[] {
  return (file?.kept ?? []).filter((c) => !FORM_COLUMNS.has(c));
}

/** A failed payout's reason in words: the provider's message, else its code alone. */
export function failureInWords(p: { status: string; failureCode: string | null; failureMessage: string | null }): string | null {
  if (p.failureMessage) return p.failureMessage;
  switch (p.status) {
    case "failed":
      return p.failureCode ? "The provider gave no message, only its code" : "The provider gave no reason";
    case "rejected":
      return "Rejected at approval";
    case "cancelled":
      return "Cancelled before it was paid";
    case "expired":
      return "Not approved within the approval window";
    case "reversed":
      return "Paid, then taken back by the provider";
    default:
      return null;
  }
}

export const FAILED_PAGE_SIZE = 25;

/**
 * The batch page's figures once payouts exist: per status, per currency (paid,
 * failed, still open), fees the providers reported, one page of failed rows,
 * and the retry of the failed rows (what exists, and whether this viewer may
 * ask for it).
 */
export async function batchOutcome(desk: Desk, actor: Actor, id: string, page = 1, pageSize = FAILED_PAGE_SIZE) {
  const head = await loadHead(desk, id);
  const where = { batchId: id };
  const size = Math.min(Math.max(Math.trunc(pageSize), 1), 100);
  const [byStatus, byCurrency, fees, feesNotReported, retry, retryOf] = await Promise.all([
    desk.db.payout.groupBy({ by: ["status"], where, _count: { _all: true } }),
    desk.db.payout.groupBy({ by: ["currency", "status"], where, _count: { _all: true }, _sum: { amountMinor: true } }),
    desk.db.payout.groupBy({ by: ["currency", "feeCurrency"], where: { ...where, feeMinor: { not: null } }, _count: { _all: true }, _sum: { feeMinor: true } }),
    desk.db.payout.count({ where: { ...where, status: "succeeded", feeMinor: null } }),
    liveRetryOf(desk, id),
    head.retryOfId ? desk.db.batch.findUnique({ where: { id: head.retryOfId }, select: { id: true, fileName: true } }) : null,
  ]);

  const order = (s: string) => PAYOUT_STATUSES.indexOf(s as PayoutStatus);
  const statuses = byStatus.map((s) => ({ status: s.status as PayoutStatus, count: s._count._all, final: FINAL_STATUSES.has(s.status as PayoutStatus) })).sort((a, b) => order(a.status) - order(b.status));
  const total = statuses.reduce((n, s) => n + s.count, 0);
  const final = statuses.filter((s) => s.final).reduce((n, s) => n + s.count, 0);
  const failed = statuses.find((s) => s.status === "failed")?.count ?? 0;

  const currencies = new Map<string, { currency: string; count: number; amountMinor: bigint; paidCount: number; paidMinor: bigint; failedCount: number; failedMinor: bigint; openCount: number; openMinor: bigint }>();
  for (const g of byCurrency) {
    let c = currencies.get(g.currency);
    if (!c) currencies.set(g.currency, (c = { currency: g.currency, count: 0, amountMinor: 0n, paidCount: 0, paidMinor: 0n, failedCount: 0, failedMinor: 0n, openCount: 0, openMinor: 0n }));
    const n = g._count._all;
    const sum = g._sum.amountMinor ?? 0n;
    c.count += n;
    c.amountMinor += sum;
    if (g.status === "succeeded") {
      c.paidCount += n;
      c.paidMinor += sum;
    } else if (g.status === "failed") {
      c.failedCount += n;
      c.failedMinor += sum;
    } else if (!FINAL_STATUSES.has(g.status as PayoutStatus)) {
      c.openCount += n;
      c.openMinor += sum;
    }
  }
  const feeTotals = new Map<string, { currency: string; count: number; feeMinor: bigint }>();
  for (const g of fees) {
    const currency = g.feeCurrency ?? g.currency;
    const f = feeTotals.get(currency) ?? { currency, count: 0, feeMinor: 0n };
    f.count += g._count._all;
    f.feeMinor += g._sum.feeMinor ?? 0n;
    feeTotals.set(currency, f);
  }

  const pages = Math.max(1, Math.ceil(failed / size));
  const current = Math.min(Math.max(1, Math.trunc(page)), pages);
  const offset = sheetRowOffset(head.file);
  const failedRows = failed === 0 ? [] : await desk.db.payout.findMany({
    where: { ...where, status: "failed" },
    orderBy: [{ batchRow: "asc" }, { id: "asc" }],
    skip: (current - 1) * size,
    take: size,
    select: {
      id: true,
      batchRow: true,
      recipientName: true,
      recipientPhone: true,
      recipientAccount: true,
      amountMinor: true,
      currency: true,
      status: true,
      failureCode: true,
      failureMessage: true,
      finalizedAt: true,
      connection: { select: { name: true } },
    },
  });

  const allFinal = head.status === "created" && total > 0 && final === total;
  const whyNoRetry =
    head.status !== "created"
      ? head.phase === "creating"
        ? "Its payouts are still being created"
        : "No payouts were created from this batch"
      : !allFinal
        ? `${(total - final).toLocaleString("en")} of its payouts are not final yet (waiting for approval, or on their way): retry once every payout is final`
        : failed === 0
          ? "No row of this batch failed: there is nothing to retry"
          : null;
  return {
    id: head.id,
    fileName: head.fileName,
    createdAt: head.createdAt,
    /** Payouts made from the batch, and how many are final. */
    total,
    final,
    percentFinal: total === 0 ? 0 : Math.floor((final / total) * 100),
    allFinal,
    statuses,
    currencies: [...currencies.values()].sort((a, b) => a.currency.localeCompare(b.currency)),
    fees: [...feeTotals.values()].sort((a, b) => a.currency.localeCompare(b.currency)),
    /** Paid payouts whose provider reported no fee ("not reported", never 0). */
    feesNotReported,
    /** Data rows of the uploaded file (empty rows not counted). */
    rowsInFile: head.rowCount,
    failed: {
      total: failed,
      page: current,
      pages,
      pageSize: size,
      items: failedRows.map((p) => ({
        payoutId: p.id,
        row: p.batchRow === null ? null : p.batchRow + offset,
        connectionName: p.connection.name,
        recipientName: p.recipientName,
        recipientPhone: p.recipientPhone,
        recipientAccount: p.recipientAccount,
        amountMinor: p.amountMinor,
        currency: p.currency,
        failureCode: p.failureCode,
        reason: failureInWords(p),
        finalizedAt: p.finalizedAt,
      })),
    },
    retry: {
      /** The retry of this batch's failed rows that stands, if one was asked for. */
      batch: retry,
      /** Why no retry can be asked for now (null: it can, by a maker). */
      refusal: whyNoRetry,
      canRetry: actor.role === "maker" && whyNoRetry === null && !retry,
    },
    /** The batch this one retries, when it is a retry. */
    retryOf,
  };
}

export type BatchOutcome = Awaited<ReturnType<typeof batchOutcome>>;

// ─── The results file ────────────────────────────────────────────────────────

interface NotCreatedLists {
  invalidRows: InvalidRow[] | null;
  inFileDuplicates: InFileDuplicate[] | null;
  recentDuplicates: RecentDuplicate[] | null;
}

/** The rows of the file no payout was made of, each with why, by sheet row. */
async function notCreatedRows(desk: Desk, head: BatchHead): Promise<BatchResultRow[]> {
  const [lists] = await desk.db.$queryRaw<NotCreatedLists[]>`
    SELECT summary -> 'invalidRows' AS "invalidRows", summary -> 'inFileDuplicates' AS "inFileDuplicates", summary -> 'recentDuplicates' AS "recentDuplicates"
    FROM "Batch" WHERE id = ${head.id}::uuid`;
  const kept = head.file?.kept ?? [];
  const details = detailColumnsOf(head.file);
  const rows = new Map<number, BatchResultRow>();
  const blank = (row: number, reason: string): BatchResultRow => ({
    row,
    payoutId: null,
    connectionName: null,
    recipientName: null,
    recipientPhone: null,
    recipientAccount: null,
    details: null,
    channel: null,
    amountMinor: null,
    amountText: null,
    currency: null,
    status: "not_created",
    statusLabel: "Not created",
    final: true,
    finalizedAt: null,
    providerReference: null,
    failureCode: null,
    failureReason: reason,
    feeMinor: null,
    feeCurrency: null,
    description: null,
  });
  for (const r of lists?.invalidRows ?? []) {
    const value = (column: string) => {
      const i = kept.indexOf(column);
      const v = i < 0 ? "" : (r.values[i] ?? "");
      return v === "" ? null : v;
    };
    const errors = Object.entries(r.errors).map(([column, message]) => (column === "row" ? message : `${column}: ${message}`)).join("; ");
    const detailValues = Object.fromEntries(details.map((c) => [c, value(c)]).filter(([, v]) => v !== null)) as Record<string, string>;
    rows.set(r.row, {
      ...blank(r.row, `Not created: invalid in the file (${errors})`),
      connectionName: r.connection,
      recipientName: value("recipient_name"),
      recipientPhone: value("recipient_phone"),
      recipientAccount: value("recipient_account"),
      details: Object.keys(detailValues).length > 0 ? detailValues : null,
      channel: value("channel"),
      amountText: value("amount"),
      currency: value("currency"),
      description: value("description"),
    });
  }
  const create = head.create;
  if (create && !create.includeDuplicates) {
    const hours = head.duplicateWindowHours ?? 24;
    for (const d of lists?.recentDuplicates ?? []) {
      const first = d.payouts[0];
      rows.set(d.row, blank(d.row, `Not created: left out as a likely duplicate of a payout made in the ${hours} hours before${first ? ` (${first.id}, ${first.status})` : ""}`));
    }
    for (const d of lists?.inFileDuplicates ?? []) {
      rows.set(d.row, blank(d.row, `Not created: left out as a likely duplicate of row ${d.sameAs} of this file`));
    }
  }
  for (const r of create?.nowInvalid ?? []) {
    const errors = Object.entries(r.errors).map(([column, message]) => (column === "row" ? message : `${column}: ${message}`)).join("; ");
    rows.set(r.row, blank(r.row, `Not created: failed the checks when the payouts were made (${errors})`));
  }
  return [...rows.values()].sort((a, b) => a.row - b.row);
}

const RESULT_PAGE_ROWS = 2_000;

/**
 * The results file of a batch whose payouts were made (or are being made):
 * every data row of its file in order, its payout read page by page by
 * batchRow and the rows no payout was made of merged in by row number.
 */
export async function prepareBatchResults(desk: Desk, actor: Actor, id: string, now = new Date()) {
  const head = await loadHead(desk, id);
  const payouts = await desk.db.payout.count({ where: { batchId: id } });
  if (payouts === 0) {
    return { empty: head.phase === "creating" ? "Its payouts are still being created: download the results once they are" : "No payouts were created from this batch, so it has no results yet" } as const;
  }
  const notCreated = await notCreatedRows(desk, head);
  const offset = sheetRowOffset(head.file);
  const detailColumns = detailColumnsOf(head.file);

  const payoutRows = pagedRows({
    pageSize: RESULT_PAGE_ROWS,
    cursorOf: (p: { batchRow: number | null }) => p.batchRow ?? 0,
    fetchPage: (after: number | null, limit: number) =>
      desk.db.payout.findMany({
        where: { batchId: id, ...(after === null ? {} : { batchRow: { gt: after } }) },
        orderBy: { batchRow: "asc" },
        take: limit,
        select: {
          id: true,
          batchRow: true,
          recipientName: true,
          recipientPhone: true,
          recipientAccount: true,
          recipientDetails: true,
          channel: true,
          amountMinor: true,
          currency: true,
          status: true,
          finalizedAt: true,
          providerReference: true,
          failureCode: true,
          failureMessage: true,
          feeMinor: true,
          feeCurrency: true,
          description: true,
          connection: { select: { name: true } },
        },
      }),
  });

  async function* rows(): AsyncIterable<BatchResultRow> {
    let next = 0;
    for await (const p of payoutRows) {
      const row = (p.batchRow ?? 0) + offset;
      while (next < notCreated.length && notCreated[next]!.row < row) yield notCreated[next++]!;
      const status = p.status as PayoutStatus;
      const details = p.recipientDetails && typeof p.recipientDetails === "object" && !Array.isArray(p.recipientDetails) ? (p.recipientDetails as Record<string, string>) : null;
      yield {
        row,
        payoutId: p.id,
        connectionName: p.connection.name,
        recipientName: p.recipientName,
        recipientPhone: p.recipientPhone,
        recipientAccount: p.recipientAccount,
        details,
        channel: p.channel,
        amountMinor: p.amountMinor,
        amountText: null,
        currency: p.currency,
        status,
        statusLabel: STATUS_LABELS[status] ?? status,
        final: FINAL_STATUSES.has(status),
        finalizedAt: p.finalizedAt,
        providerReference: p.providerReference,
        failureCode: p.failureCode,
        failureReason: status === "succeeded" || !FINAL_STATUSES.has(status) ? p.failureMessage : failureInWords(p),
        feeMinor: p.feeMinor,
        feeCurrency: p.feeMinor === null ? null : (p.feeCurrency ?? p.currency),
        description: p.description,
      };
    }
    while (next < notCreated.length) yield notCreated[next++]!;
  }

  const base = head.fileName.replace(/\.(csv|xlsx)$/i, "");
  const file = (extension: string): BatchResultsFile => ({
    fileName: `${base}-results.${extension}`,
    batchFileName: head.fileName,
    batchId: head.id,
    detailColumns,
    // The desk's pages and the payouts export show UTC, labelled: so does this file.
    timeZone: "UTC",
    generatedAt: now,
    generatedBy: `${actor.name} (${actor.email})`,
    about: [
      ["Uploaded file", head.fileName],
      ["Payouts made", payouts.toLocaleString("en")],
      ["Rows no payout was made of", notCreated.length.toLocaleString("en")],
      ["Times", "UTC"],
    ],
    rows,
  });
  return { head, rowCount: payouts + notCreated.length, payouts, notCreated: notCreated.length, file } as const;
}

export type ResultsFormat = "csv" | "xlsx";

export const RESULTS_WRITERS: Record<ResultsFormat, { extension: string; contentType: string; write: typeof writeBatchResultsCsv }> = {
  csv: { extension: "csv", contentType: "text/csv; charset=utf-8", write: writeBatchResultsCsv },
  xlsx: { extension: "xlsx", contentType: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", write: writeBatchResultsXlsx },
};

function json(status: number, body: Record<string, unknown>): Response {
  return Response.json(body, { status, headers: { "cache-control": "no-store" } });
}

/**
 * GET /api/batches/<id>/results?format=csv|xlsx, as the export routes answer:
 * signed in (anyone who may read the batch page), the query checked first
 * (JSON 400 naming the field), an empty batch said (404), a fresh second
 * factor asked where the session needs one (JSON 403 with stepUpRequired),
 * audited, and the file streamed as it is written.
 */
export async function batchResultsRequest(desk: Desk, request: Request, batchId: string): Promise<Response> {
  const session = await resolveSession(desk.db, parseCookieHeader(request.headers.get("cookie")));
  if (session.state === "ended") return json(401, { error: sessionEndMessage(session.reason) });
  if (session.state !== "active") return json(401, { error: "Sign in to continue" });
  const actor = session.actor;
  if (!ANY_ROLE.includes(actor.role)) return json(403, { error: `This needs the ${ANY_ROLE.join(" or ")} role; you are ${actor.role}` });
  const formatText = new URL(request.url).searchParams.get("format") ?? "";
  if (formatText !== "csv" && formatText !== "xlsx") {
    const fieldErrors = { format: "Choose a format: csv or xlsx" };
    return json(400, { error: `format: ${fieldErrors.format}`, fieldErrors });
  }
  const writer = RESULTS_WRITERS[formatText];
  let prepared: Awaited<ReturnType<typeof prepareBatchResults>>;
  try {
    prepared = await prepareBatchResults(desk, actor, batchId);
  } catch (error) {
    if (error instanceof NotFound) return json(404, { error: error.message });
    console.error("[batch-results] could not prepare the results of a batch:", error);
    return json(500, { error: "Something went wrong on our side; nothing was downloaded" });
  }
  if ("empty" in prepared) return json(404, { error: prepared.empty, empty: true });
  try {
    await requireRecentSecondFactor({ desk, actor, sessionId: session.sessionId });
  } catch (error) {
    if (!(error instanceof StepUpRequired)) throw error;
    return json(403, { error: error.message, stepUpRequired: true, stepUpReason: error.reason });
  }
  const file = prepared.file(writer.extension);
  await audit(desk.db, {
    actorId: actor.id,
    action: "batch.results_export",
    entityType: "batch",
    entityId: prepared.head.id,
    ip: clientIp(request.headers),
    details: { format: formatText, fileName: file.fileName, rows: prepared.rowCount, payouts: prepared.payouts },
  });
  const out = new PassThrough({ highWaterMark: 256 * 1024 });
  writer.write(file, out).catch((error: unknown) => {
    if (!out.destroyed) console.error(`[batch-results] the results file ${file.fileName} failed while it was written:`, error);
    out.destroy(error instanceof Error ? error : new Error(String(error)));
  });
  return new Response(pulledFrom(out), {
    status: 200,
    headers: {
      "content-type": writer.contentType,
      "content-disposition": `attachment; filename="${file.fileName.replace(/[^\x20-\x7e]|"/g, "_")}"; filename*=UTF-8''${encodeURIComponent(file.fileName)}`,
      [ROWS_HEADER]: String(prepared.rowCount),
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
    },
  });
}
