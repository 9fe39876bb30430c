// Bulk files: a maker uploads a CSV or XLSX of payouts; the desk stores it as
// a Batch, checks every row in the background (through checkPayoutInput, the
// one validation path the form uses), and shows what it found; the maker then
// creates the valid rows' payouts, or discards the batch.
//
// Why in the background: a 50,000-row file takes longer to check than a
// request should last, and a request must not be held open (or time out) for
// it. The upload answers with the batch id at once; validation runs in this
// process, writing its progress into Batch.summary about once a second, and
// the page polls batches.get. The file's bytes are stored with the batch, so
// a run that stops (the process restarted) is started again from them by the
// next look at a batch whose progress has not moved for 30 s (batches.resume,
// which the page calls). Creating the payouts runs the same way.
//
// What is stored in Batch.summary (JSON, money as strings of minor units):
// the phase and progress, what the file is (format, encoding, delimiter,
// sheet, columns), whole-file problems, counts, totals per connection and
// currency, the invalid rows (their values and errors, by spreadsheet row),
// the likely duplicates, and, once asked, the creation's state. The page's
// polls read it without the three lists (see LISTS), which are read a page
// at a time.
//
// Creating: the rows are read from the stored file again and checked again
// (a connection paused or a limit lowered since the preview is caught, and
// such rows are skipped and listed), then inserted a few hundred to a
// transaction through insertPayoutsInTx, the insert createPayout uses (same
// policy version, expiry, events and audit entries). Each payout's id is
// derived from the batch and the row (server/bulk/ids.ts), and each
// transaction locks the batch row and inserts only ids not there yet, so
// creating twice (a double click, a resumed run, two processes) creates each
// payout once.
import { createHash } from "node:crypto";
import { z } from "zod";
import { Prisma, type Batch, type Connection } from "@/server/db/generated/client";
import type { PayoutConnector, ProviderKind } from "@/server/connectors/types";
import { isProviderSupported } from "@/server/connectors/registry";
import { dropUnstorableCharacters, hasUnstorableCharacters, UNSTORABLE_MESSAGE } from "@/server/trpc/input-guard";
import { payoutFields } from "@/server/trpc/routers/payouts";
import { isScientific, type Cell } from "@/server/bulk/cells";
import { templateColumns, type ConnectionShape } from "@/server/bulk/columns";
import { FileProblem } from "@/server/bulk/encoding";
import { batchPayoutId } from "@/server/bulk/ids";
import { MAX_BYTES, tooLargeMessage } from "@/server/bulk/limits";
import { readPayoutFile, type DataRow, type FileInfo, type ReadTally } from "@/server/bulk/read";
import type { ReadProgress } from "@/server/bulk/sheet";
import type { Actor, Desk, Tx } from "./types";
import { audit, auditMany, type AuditEntry } from "./audit";
import { Conflict, FieldErrors, Forbidden, NotFound } from "./errors";
import { openConnector } from "./connections";
import { checkPayoutInput, insertPayoutsInTx, PayoutCheckCache, type CheckedPayout, type CreatePayoutInput, type NewPayout } from "./payouts";
import { activePolicy } from "./approval-policy";
import { duplicateWindowHours, findLikelyDuplicatesAmong } from "./duplicates";
import { balanceOverview } from "./balances";

// ─── What is stored ──────────────────────────────────────────────────────────

export type BatchPhase = "validating" | "validated" | "failed" | "creating" | "created";

export interface StoredTotal {
  connectionId: string;
  connectionName: string;
  currency: string;
  count: number;
  amountMinor: string;
  /** Of those, rows flagged as likely duplicates (left out unless the maker includes them). */
  duplicateCount: number;
  duplicateAmountMinor: string;
}

export interface InvalidRow {
  /** The row number the spreadsheet shows. */
  row: number;
  /** The row's connection by name, as named or chosen (null when it named none that exists). */
  connection: string | null;
  /** The cells of the file's columns (SummaryFile.columns), as read. */
  values: string[];
  /** Column name → what is wrong; "row" for what belongs to no column. */
  errors: Record<string, string>;
}

export interface InFileDuplicate {
  row: number;
  /** The earlier row it repeats (same recipient, amount and currency). */
  sameAs: number;
}

export interface RecentDuplicate {
  row: number;
  payouts: Array<{ id: string; createdAt: string; status: string; connectionName: string; createdByName: string }>;
}

export interface SummaryFile extends FileInfo {
  /** The columns the invalid-rows file repeats (the file's named columns, in order). */
  kept: string[];
}

export interface CreateState {
  state: "creating" | "stopped" | "done";
  includeDuplicates: boolean;
  requestedById: string;
  requestedAt: string;
  createdCount: number;
  /** Rows left out as likely duplicates. */
  skippedDuplicates: number;
  /** Rows valid at the preview that failed the checks at creation (a connection paused, a limit lowered meanwhile). */
  nowInvalid: Array<{ row: number; errors: Record<string, string> }>;
  error: string | null;
  finishedAt: string | null;
  totals: StoredTotal[];
}

export interface BatchSummary {
  phase: BatchPhase;
  dryRun: boolean;
  /** The connection chosen on the upload page; rows without a connection cell go through it. */
  connectionId: string | null;
  heartbeatAt: string;
  progress: {
    /** counting: a first pass only counts the rows (a file over the limit is refused before any check); checking: each row is checked. */
    stage: "counting" | "checking";
    bytesRead: number;
    totalBytes: number;
    /** Rows an XLSX says it spans, when it says (the counting pass's measure there). */
    rowsExpected: number | null;
    /** Data rows, once counted. */
    rowsTotal: number | null;
    rowsRead: number;
    valid: number;
    invalid: number;
  };
  file: SummaryFile | null;
  /** Why the whole file was refused (phase failed). */
  problems: string[];
  /** Things the maker should know that refuse nothing (sheets not read). */
  notes: string[];
  rows: number;
  emptyRows: number;
  valid: number;
  invalid: number;
  duplicateWindowHours: number;
  inFileDuplicateCount: number;
  recentDuplicateCount: number;
  totals: StoredTotal[];
  invalidRows: InvalidRow[];
  inFileDuplicates: InFileDuplicate[];
  recentDuplicates: RecentDuplicate[];
  sameFileAs: SameFile | null;
  create: CreateState | null;
}

/** The summary's long lists, read a page at a time and never by the polls. */
export const LISTS = ["invalidRows", "inFileDuplicates", "recentDuplicates"] as const;
export type BatchList = (typeof LISTS)[number];

export interface SameFile {
  batchId: string;
  fileName: string;
  createdAt: string;
  createdByName: string;
  status: string;
  committedAt: string | null;
}

/** Rows checked between a duplicate lookup and a progress write. */
const CHECK_CHUNK = 500;
/** Payouts inserted per transaction. */
export const CREATE_CHUNK = 250;
/** How often a run writes its progress (and proves it is alive). */
const PROGRESS_EVERY_MS = 1_000;
/** A run whose progress has not moved for this long has stopped (its process is gone). */
export const STALE_AFTER_MS = 30_000;

const NIL_UUID = "00000000-0000-0000-0000-000000000000";

/**
 * As stored: bigints as text, and text PostgreSQL cannot hold (a NUL, a lone
 * surrogate, which a file's cell or header may carry and an error may quote)
 * without those characters, so a bad file is a bad file, never a failed write.
 */
function toJson(value: unknown): Prisma.InputJsonValue {
  return JSON.parse(
    JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? v.toString() : typeof v === "string" && hasUnstorableCharacters(v) ? dropUnstorableCharacters(v) : v)),
  ) as Prisma.InputJsonValue;
}

function emptySummary(input: { dryRun: boolean; connectionId: string | null; totalBytes: number; sameFileAs: SameFile | null }): BatchSummary {
  return {
    phase: "validating",
    dryRun: input.dryRun,
    connectionId: input.connectionId,
    heartbeatAt: new Date().toISOString(),
    progress: { stage: "counting", bytesRead: 0, totalBytes: input.totalBytes, rowsExpected: null, rowsTotal: null, rowsRead: 0, valid: 0, invalid: 0 },
    file: null,
    problems: [],
    notes: [],
    rows: 0,
    emptyRows: 0,
    valid: 0,
    invalid: 0,
    duplicateWindowHours: 0,
    inFileDuplicateCount: 0,
    recentDuplicateCount: 0,
    totals: [],
    invalidRows: [],
    inFileDuplicates: [],
    recentDuplicates: [],
    sameFileAs: input.sameFileAs,
    create: null,
  };
}

// ─── Upload ──────────────────────────────────────────────────────────────────

export interface UploadInput {
  fileName: string;
  bytes: Uint8Array;
  /** The connection chosen on the upload page; null when the file names each row's connection. */
  connectionId: string | null;
  /** Validate only: nothing can be created from it, and it does not count as an upload of this file. */
  dryRun: boolean;
  /** The maker confirmed uploading a file uploaded before. */
  confirmSameFile: boolean;
  /**
   * A retry of this batch's failed rows (batch-retry.ts): stored with retryOfId, and made once per
   * batch while it lives (the batch's row is locked, and a retry not discarded is answered instead).
   */
  retryOfId?: string;
}

/** The file was uploaded before; refused until the maker confirms. */
export class SameFileUploaded extends Conflict {
  constructor(readonly earlier: SameFile) {
    const when = `${earlier.createdAt.slice(0, 10)} ${earlier.createdAt.slice(11, 16)} UTC`;
    const what = earlier.status === "created" ? "its payouts were created" : "its payouts were not created yet";
    super(
      `This file was uploaded before: ${earlier.fileName}, on ${when} by ${earlier.createdByName} (${what}). Upload it again only if these payouts are meant to be paid again: confirm to continue`,
    );
    this.name = "SameFileUploaded";
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The name as shown back: no path, nothing PostgreSQL cannot store, at most 200 characters. */
function cleanFileName(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? "";
  const clean = [...base].filter((ch) => !hasUnstorableCharacters(ch) && ch >= " ").join("").trim();
  return (clean || "payouts").slice(0, 200);
}

/**
 * Stores the file as a batch and starts checking its rows in the background.
 * Answers at once with the batch id; `validation` settles when the check is
 * done (tests and the bench wait on it; the route does not).
 */
export async function uploadBatch(desk: Desk, actor: Actor, input: UploadInput, ip?: string): Promise<{ batchId: string; validation: Promise<void>; earlierRetry?: boolean }> {
  if (actor.role !== "maker") throw new Forbidden(`Only makers upload payout files; you are ${actor.role}`, "batch.maker");
  if (input.bytes.length > MAX_BYTES) throw new FieldErrors({ file: tooLargeMessage(input.bytes.length) });
  if (input.bytes.length === 0) throw new FieldErrors({ file: "The file is empty (0 bytes): choose the file with your payouts" });
  if (input.connectionId !== null) {
    const found = UUID.test(input.connectionId) ? await desk.db.connection.findUnique({ where: { id: input.connectionId }, select: { id: true } }) : null;
    if (!found) throw new FieldErrors({ connectionId: "Choose a connection (or leave it empty when the file has a connection column)" });
  }
  const fileSha256 = createHash("sha256").update(input.bytes).digest("hex");
  const earlier = input.dryRun ? null : await sameFileBefore(desk, fileSha256);
  if (earlier && !input.confirmSameFile) throw new SameFileUploaded(earlier);
  const fileName = cleanFileName(input.fileName);
  const summary = emptySummary({ dryRun: input.dryRun, connectionId: input.connectionId, totalBytes: input.bytes.length, sameFileAs: earlier });

  const batch = await desk.db.$transaction(async (tx) => {
    if (input.retryOfId) {
      // Retries of one batch take turns here: a second request finds the first's retry and answers with it.
      await tx.$queryRaw`SELECT id FROM "Batch" WHERE id = ${input.retryOfId}::uuid FOR UPDATE`;
      const earlierRetry = await liveRetryOf({ db: tx }, input.retryOfId);
      if (earlierRetry) {
        await audit(tx, { actorId: actor.id, action: "batch.retry", entityType: "batch", entityId: input.retryOfId, ip, details: { retryBatchId: earlierRetry.id, again: true } });
        return { id: earlierRetry.id, again: true };
      }
    }
    const created = await tx.batch.create({
      data: {
        fileName,
        fileSha256,
        fileBytes: Buffer.from(input.bytes.buffer, input.bytes.byteOffset, input.bytes.length) as unknown as Uint8Array<ArrayBuffer>,
        status: "validated",
        summary: toJson(summary),
        createdById: actor.id,
        retryOfId: input.retryOfId ?? null,
      },
      select: { id: true },
    });
    await auditMany(tx, [
      ...(input.retryOfId
        ? [{ actorId: actor.id, action: "batch.retry", entityType: "batch", entityId: input.retryOfId, ip, details: { retryBatchId: created.id, fileName } }]
        : []),
      {
        actorId: actor.id,
        action: "batch.upload",
        entityType: "batch",
        entityId: created.id,
        ip,
        details: {
          fileName,
          fileSha256,
          bytes: input.bytes.length,
          connectionId: input.connectionId,
          dryRun: input.dryRun,
          ...(earlier ? { sameFileAs: earlier.batchId, confirmed: true } : {}),
          ...(input.retryOfId ? { retryOfId: input.retryOfId } : {}),
        },
      },
    ]);
    return { id: created.id, again: false };
  });
  if (batch.again) return { batchId: batch.id, validation: running.get(desk)?.get(`validate:${batch.id}`) ?? Promise.resolve(), earlierRetry: true };
  return { batchId: batch.id, validation: inBackground(desk, batch.id, "validate", () => validateBatch(desk, batch.id)) };
}

/** The retry of a batch's failed rows that still stands (not discarded, not a refused file), if any. */
export async function liveRetryOf(desk: Desk | { db: Tx }, batchId: string) {
  return desk.db.batch.findFirst({
    where: { retryOfId: batchId, status: { in: ["validated", "created"] } },
    orderBy: { createdAt: "desc" },
    select: { id: true, fileName: true, status: true, createdAt: true },
  });
}

/** The latest batch of the same bytes that counts as an upload: not a dry run, not refused, not discarded. */
async function sameFileBefore(desk: Desk, fileSha256: string): Promise<SameFile | null> {
  const rows = await desk.db.batch.findMany({
    where: { fileSha256, status: { in: ["validated", "created"] } },
    orderBy: { createdAt: "desc" },
    take: 20,
    select: { id: true, fileName: true, createdAt: true, status: true, committedAt: true, createdById: true, summary: true },
  });
  const row = rows.find((r) => {
    const s = r.summary as Partial<BatchSummary> | null;
    return !s?.dryRun && s?.phase !== "failed";
  });
  if (!row) return null;
  const maker = await desk.db.user.findUnique({ where: { id: row.createdById }, select: { name: true } });
  return {
    batchId: row.id,
    fileName: row.fileName,
    createdAt: row.createdAt.toISOString(),
    createdByName: maker?.name ?? "a former user",
    status: row.status,
    committedAt: row.committedAt?.toISOString() ?? null,
  };
}

// ─── Background runs ─────────────────────────────────────────────────────────

const running = new WeakMap<Desk, Map<string, Promise<void>>>();

/** One run per batch and kind in this process; a failure is recorded on the batch, never thrown at nobody. */
function inBackground(desk: Desk, batchId: string, kind: "validate" | "create", run: () => Promise<void>): Promise<void> {
  let runs = running.get(desk);
  if (!runs) running.set(desk, (runs = new Map()));
  const key = `${kind}:${batchId}`;
  const current = runs.get(key);
  if (current) return current;
  const promise = run()
    .catch(async (error: unknown) => {
      console.error(`[batches] ${kind === "validate" ? "checking" : "creating"} batch ${batchId} failed:`, error);
      await recordFailure(desk, batchId, kind).catch((again: unknown) => console.error(`[batches] could not record the failure of batch ${batchId}:`, again));
    })
    .finally(() => runs.delete(key));
  runs.set(key, promise);
  return promise;
}

function isRunningHere(desk: Desk, batchId: string): boolean {
  const runs = running.get(desk);
  return Boolean(runs?.has(`validate:${batchId}`) || runs?.has(`create:${batchId}`));
}

async function recordFailure(desk: Desk, batchId: string, kind: "validate" | "create") {
  const summary = await readSummary(desk, batchId, true);
  if (!summary) return;
  if (kind === "validate") {
    summary.phase = "failed";
    summary.problems = ["Something went wrong on our side while checking this file, and nothing was created from it. Upload it again; if it happens again, tell an admin"];
    await desk.db.batch.update({ where: { id: batchId }, data: { status: "discarded", summary: toJson(summary) } });
  } else if (summary.create) {
    summary.phase = "validated";
    summary.create.state = "stopped";
    summary.create.error = `Creating stopped after ${summary.create.createdCount.toLocaleString("en")} payouts because something went wrong on our side. Create again to finish: the payouts already made are not made twice`;
    await writeSummary(desk, batchId, summary);
  }
}

async function writeSummary(desk: Desk | { db: Tx }, batchId: string, summary: BatchSummary, data: Prisma.BatchUpdateInput = {}) {
  summary.heartbeatAt = new Date().toISOString();
  await desk.db.batch.update({ where: { id: batchId }, data: { ...data, summary: toJson(summary) } });
}

/** The summary, without its long lists unless `whole`. */
async function readSummary(desk: Desk | { db: Tx }, batchId: string, whole = false): Promise<BatchSummary | null> {
  if (whole) {
    const row = await desk.db.batch.findUnique({ where: { id: batchId }, select: { summary: true } });
    return (row?.summary as unknown as BatchSummary | null) ?? null;
  }
  const rows = await desk.db.$queryRaw<Array<{ summary: BatchSummary | null }>>`
    SELECT summary - 'invalidRows' - 'inFileDuplicates' - 'recentDuplicates' AS summary FROM "Batch" WHERE id = ${batchId}::uuid`;
  const summary = rows[0]?.summary ?? null;
  if (summary) {
    summary.invalidRows = [];
    summary.inFileDuplicates = [];
    summary.recentDuplicates = [];
  }
  return summary;
}

// ─── Reading and checking rows ───────────────────────────────────────────────

/** What one run knows of the connections: read once, opened once. */
interface RunContext {
  batchId: string;
  chosen: Connection | null;
  byName: Map<string, Connection>;
  shapes: Map<string, ConnectionShape>;
  cache: PayoutCheckCache;
  /** The file's shape, once its header is read. */
  info: FileInfo | null;
  /** The file's named columns, in order: what an invalid row keeps of its cells. */
  kept: string[];
  /** The provider fields' columns the file has (recipient details). */
  detailColumns: string[];
  semicolon: boolean;
}

/**
 * A row's number within the batch: 1 is the row right below the header (or
 * below the template's description line), as Payout.batchRow counts.
 */
function batchRowOf(info: FileInfo, sheetRow: number): number {
  return sheetRow - (info.descriptionRow ?? info.headerRow);
}

function nameKey(name: string): string {
  return name.normalize("NFKC").trim().toLowerCase();
}

function shapeOf(connection: Connection, connector: PayoutConnector): ConnectionShape {
  const channels = connector.channels();
  return {
    id: connection.id,
    name: connection.name,
    recipientKind: connector.recipientKind ?? "msisdn",
    channels,
    recipientFields: connector.recipientFields?.() ?? [],
    currencies: connector.payoutCurrencies?.() ?? [...new Set(channels.map((c) => c.currency))],
  };
}

/** Every connection, and the shapes of those that can take payouts (a connection whose credentials cannot be opened has none). */
async function connectionsForRun(desk: Desk, cache: PayoutCheckCache) {
  const rows = await desk.db.connection.findMany({ orderBy: { name: "asc" } });
  const shapes = new Map<string, ConnectionShape>();
  for (const c of rows) {
    if (!isProviderSupported(c.provider as ProviderKind)) continue;
    try {
      shapes.set(c.id, shapeOf(c, cache.connector(desk, c)));
    } catch {
      // Unreadable credentials: checkPayoutInput says so for its rows.
    }
  }
  return { rows, shapes };
}

/** The template's columns and file names for a connection that takes payouts. */
export async function connectionShape(desk: Desk, connectionId: string): Promise<ConnectionShape> {
  const connection = UUID.test(connectionId) ? await desk.db.connection.findUnique({ where: { id: connectionId } }) : null;
  if (!connection || !connection.enabled || !isProviderSupported(connection.provider as ProviderKind)) {
    throw new FieldErrors({ connectionId: "Choose a connection that takes payouts" });
  }
  return shapeOf(connection, openConnector(desk, connection));
}

type FieldName = keyof CreatePayoutInput | string;

/** checkPayoutInput's and the form schema's field names as the file's columns. */
function columnOf(field: FieldName): string {
  switch (field) {
    case "amount":
    case "currency":
    case "channel":
    case "description":
      return field;
    case "recipientPhone":
      return "recipient_phone";
    case "recipientAccount":
      return "recipient_account";
    case "recipientName":
      return "recipient_name";
    case "connectionId":
      return "connection";
    default:
      return field.startsWith("recipientDetails.") ? field.slice("recipientDetails.".length) : field;
  }
}

const rowSchema = z.object(payoutFields);

/**
 * An amount in a semicolon-separated file, which Excel writes where the
 * decimal separator is a comma: 150,50 is 150.50, 1.234,50 is 1234.50. A lone
 * 1.234 could be either 1234 or 1.234 there, so it is refused, not guessed.
 */
function semicolonAmount(text: string): { text: string } | { problem: string } {
  const t = text.trim();
  if (/^\d{1,3}(\.\d{3})+,\d+$/.test(t)) return { text: t.replaceAll(".", "").replace(",", ".") };
  if (/^\d+,\d+$/.test(t)) return { text: t.replace(",", ".") };
  if (/^\d{1,3}(\.\d{3})+$/.test(t)) {
    return { problem: `"${t}" could be ${t.replaceAll(".", "")} or a decimal in this semicolon-separated file: write ${t.replaceAll(".", "")} for the whole number, or use a comma for decimals (150,50)` };
  }
  return { text: t };
}

/** A typed cell that cannot stand for this column's value (a date as an amount, a phone Excel shortened). */
function cellProblem(column: string, cell: Cell): string | null {
  if (cell.problem) return cell.problem;
  const exact = column === "amount" || column === "currency" || column === "recipient_phone" || column === "recipient_account" || column === "channel";
  if (!exact) return null;
  if (cell.kind === "date") {
    return `is a date in the spreadsheet (${cell.text}), not what was typed: Excel turned it into a date; format the column as Text and type the value again`;
  }
  if ((column === "recipient_phone" || column === "recipient_account") && cell.kind === "text" && isScientific(cell.text)) {
    return `reads ${cell.text.trim()}: Excel shortened the number to scientific notation when it saved this CSV, and its digits are lost; format the column as Text in the workbook, type the numbers again and save`;
  }
  if ((column === "recipient_phone" || column === "recipient_account") && cell.kind === "number" && cell.text.replace(/^-/, "").length > 15) {
    return "is a number with more digits than Excel keeps (15), so the last ones are lost; format the column as Text and type the number again";
  }
  return null;
}

export interface CheckedRow {
  sheetRow: number;
  batchRow: number;
  connectionName: string | null;
  /** Column name → what is wrong; empty when the row is valid. */
  errors: Record<string, string>;
  /** An invalid row's cells (RunContext.kept), for the page and the invalid-rows file. */
  values: string[];
  payout: { input: CreatePayoutInput; checked: CheckedPayout } | null;
}

/** One row of the file through the form's schema and checkPayoutInput, its problems by column. */
async function checkRow(desk: Desk, ctx: RunContext, row: DataRow): Promise<CheckedRow> {
  const errors: Record<string, string> = Object.create(null);
  const text = (column: string): string | null => {
    const cell = row.cells.get(column);
    if (!cell) return null;
    const problem = cellProblem(column, cell);
    if (problem) {
      errors[column] ??= problem;
      return null;
    }
    if (hasUnstorableCharacters(cell.text)) {
      errors[column] ??= UNSTORABLE_MESSAGE;
      return null;
    }
    return cell.text;
  };
  if (row.stray.length > 0) errors.row = row.stray.join("; ");

  let connection: Connection | null = ctx.chosen;
  const named = text("connection")?.trim() ?? "";
  if (named !== "") {
    connection = ctx.byName.get(nameKey(named)) ?? null;
    if (!connection) {
      const names = [...ctx.byName.values()].filter((c) => c.enabled && ctx.shapes.has(c.id)).map((c) => c.name);
      errors.connection = `No connection is named "${named.slice(0, 60)}"; use one of: ${names.join(", ")}`;
    }
  } else if (!connection) {
    errors.connection = "Name the connection: the upload page chose none for rows without one";
  }
  const shape = connection ? ctx.shapes.get(connection.id) : undefined;
  if (connection && !shape && connection.enabled && isProviderSupported(connection.provider as ProviderKind)) {
    // Its stored credentials cannot be opened here: no connector to check the row with.
    errors.connection = `${connection.name} cannot take payouts now: its credentials cannot be read; an admin must enter them again`;
    connection = null;
  }

  let amount = text("amount") ?? "";
  if (ctx.semicolon && !errors.amount) {
    const read = semicolonAmount(amount);
    if ("problem" in read) errors.amount = read.problem;
    else amount = read.text;
  }
  let channel = text("channel")?.trim() || null;
  if (channel && shape) {
    // The code or the label, as the template's description lists them.
    const lower = channel.toLowerCase();
    channel = shape.channels.find((c) => c.code.toLowerCase() === lower || c.label.toLowerCase() === lower)?.code ?? channel;
  }
  const details: Record<string, string> = {};
  for (const key of ctx.detailColumns) {
    const value = text(key)?.trim();
    // Only filled cells: a column of another connection's field, empty on this row, is no field of this payout.
    if (value) details[key] = value;
  }
  const input = {
    id: batchPayoutId(ctx.batchId, batchRowOf(ctx.info!, row.sheetRow)),
    connectionId: connection?.id ?? NIL_UUID,
    amount,
    currency: text("currency") ?? "",
    recipientPhone: text("recipient_phone"),
    recipientName: text("recipient_name"),
    recipientAccount: text("recipient_account"),
    recipientDetails: Object.keys(details).length > 0 ? details : null,
    channel,
    description: text("description") ?? "",
  };

  // The form's own schema first (lengths, the currency's case), then the form's own checks.
  const parsed = rowSchema.safeParse(input);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const field = issue.path.length > 1 && issue.path[0] === "recipientDetails" ? `recipientDetails.${String(issue.path[1])}` : String(issue.path[0] ?? "row");
      errors[columnOf(field)] ??= issue.message;
    }
  }
  const checkedInput: CreatePayoutInput = parsed.success ? { ...parsed.data, id: input.id } : input;
  let checked: CheckedPayout | null = null;
  try {
    checked = await checkPayoutInput(desk, checkedInput, ctx.cache);
  } catch (error) {
    if (!(error instanceof FieldErrors)) throw error;
    for (const [field, message] of Object.entries(error.fields)) {
      const column = columnOf(field);
      // The file's own reading of a cell says more than the check of what was left of it.
      if (column === "connection" && errors.connection) continue;
      errors[column] ??= message;
    }
    const phone = row.cells.get("recipient_phone");
    if (errors.recipient_phone && phone?.kind === "number") {
      errors.recipient_phone += " (the cell is a number in the spreadsheet, which drops a leading 0 or +: format the column as Text and type the number again)";
    }
  }
  const valid = Object.keys(errors).length === 0 && checked !== null;
  return {
    sheetRow: row.sheetRow,
    batchRow: batchRowOf(ctx.info!, row.sheetRow),
    connectionName: connection?.name ?? null,
    errors: valid ? {} : { ...errors },
    values: valid ? [] : ctx.kept.map((c) => row.cells.get(c)?.text ?? ""),
    payout: valid ? { input: checkedInput, checked: checked! } : null,
  };
}

/**
 * The stored file's rows, read and checked, in chunks of `size` (so the
 * caller can batch its database work). `onInfo` sees the file's shape once
 * its header is read; `progress` and `tally` are updated as it goes.
 */
async function* checkedRows(
  desk: Desk,
  batch: Pick<Batch, "id" | "fileBytes">,
  summary: BatchSummary,
  progress: ReadProgress,
  tally: ReadTally,
  size: number,
  hooks: {
    onInfo?: (info: FileInfo) => void;
    /** Read the whole file once first, only counting (so a file over the limit is refused before any row is checked); called with the count. */
    countFirst?: (rows: number) => void;
    /** Called every few hundred rows of the counting pass, with the rows counted so far (progress writes). */
    onProgress?: (counted: number) => Promise<void>;
  } = {},
): AsyncGenerator<CheckedRow[]> {
  const cache = new PayoutCheckCache();
  const { rows, shapes } = await connectionsForRun(desk, cache);
  const chosen = summary.connectionId ? (rows.find((c) => c.id === summary.connectionId) ?? null) : null;
  const chosenShape = chosen ? (shapes.get(chosen.id) ?? null) : null;
  if (chosen && !chosenShape) {
    throw new FileProblem(`${chosen.name} cannot take payouts now (${chosen.enabled ? "its credentials cannot be read; an admin must enter them again" : "it is paused"}): choose another connection`);
  }
  const all = rows.filter((c) => c.enabled && shapes.has(c.id)).map((c) => shapes.get(c.id)!);
  const byName = new Map(rows.map((c) => [nameKey(c.name), c]));
  const ctx: RunContext = { batchId: batch.id, chosen, byName, shapes, cache, info: null, kept: [], detailColumns: [], semicolon: false };
  const pause = () => new Promise((resolve) => setImmediate(resolve));

  if (hooks.countFirst) {
    const counting: ReadTally = { rows: 0, emptyRows: 0, tooMany: false };
    for await (const _ of readPayoutFile(batch.fileBytes, { chosen: chosenShape, all, progress, tally: counting })) {
      void _;
      if (counting.rows % 500 === 0) {
        await hooks.onProgress?.(counting.rows);
        await pause();
      }
    }
    hooks.countFirst(counting.rows);
  }

  let chunk: CheckedRow[] = [];
  for await (const row of readPayoutFile(batch.fileBytes, {
    chosen: chosenShape,
    all,
    progress,
    tally,
    info: (info) => {
      ctx.info = info;
      ctx.kept = info.columns.filter((c): c is string => c !== null);
      const details = new Set([...shapes.values()].flatMap((s) => s.recipientFields.map((f) => f.key)));
      ctx.detailColumns = ctx.kept.filter((c) => details.has(c));
      ctx.semicolon = info.delimiter === "semicolon";
      hooks.onInfo?.(info);
    },
  })) {
    chunk.push(await checkRow(desk, ctx, row));
    if (chunk.length >= size) {
      yield chunk;
      chunk = [];
    }
    // Let requests in between rows: a big file must not hold the event loop.
    if (tally.rows % 100 === 0) await pause();
  }
  if (chunk.length > 0) yield chunk;
}

/** What identifies a payment for the duplicate guards: the recipient, the amount and the currency. */
function paymentKey(p: { checked: CheckedPayout; input: CreatePayoutInput }): string {
  return `${p.checked.recipient.phone ?? ""}|${p.checked.recipient.account ?? ""}|${p.checked.amountMinor}|${p.input.currency}`;
}

// ─── Validation ──────────────────────────────────────────────────────────────

/**
 * Checks every row of the batch's file and records what it found. Runs in
 * the background after an upload (or again after a stop); exported so tests
 * and the bench can run it and wait.
 */
export async function validateBatch(desk: Desk, batchId: string): Promise<void> {
  const batch = await desk.db.batch.findUnique({ where: { id: batchId }, select: { id: true, fileBytes: true, status: true } });
  if (!batch) throw new NotFound("Batch");
  const summary = await readSummary(desk, batchId, true);
  if (!summary || summary.phase !== "validating") return;
  const fresh = emptySummary({ dryRun: summary.dryRun, connectionId: summary.connectionId, totalBytes: batch.fileBytes.length, sameFileAs: summary.sameFileAs });
  const progress: ReadProgress = { bytesRead: 0, totalBytes: batch.fileBytes.length, rowsExpected: null };
  const tally: ReadTally = { rows: 0, emptyRows: 0, tooMany: false };
  const windowHours = await duplicateWindowHours(desk.db);
  fresh.duplicateWindowHours = windowHours;
  const firstOf = new Map<string, number>();
  const totals = new Map<string, StoredTotal & { sum: bigint; dupSum: bigint }>();
  let lastWrite = Date.now();
  const now = new Date();

  let fileInfo: FileInfo | null = null;
  let stopped = false;
  let countedSoFar = 0;
  /** A progress write, at most once a second; notices a batch discarded meanwhile. */
  const recordNow = async () => {
    if (stopped || Date.now() - lastWrite < PROGRESS_EVERY_MS) return;
    lastWrite = Date.now();
    const status = await desk.db.batch.findUnique({ where: { id: batchId }, select: { status: true } });
    if (status?.status !== "validated") stopped = true;
    else await record(false);
  };
  const record = async (final: boolean) => {
    if (fileInfo) fresh.file = { ...fileInfo, ignoredSheets: [...fileInfo.ignoredSheets], kept: fileInfo.columns.filter((c): c is string => c !== null) };
    fresh.progress = { ...fresh.progress, ...progress, rowsRead: fresh.progress.stage === "counting" ? countedSoFar : tally.rows, valid: fresh.valid, invalid: fresh.invalid };
    fresh.rows = tally.rows;
    fresh.emptyRows = tally.emptyRows;
    fresh.totals = [...totals.values()].map(({ sum, dupSum, ...t }) => ({ ...t, amountMinor: sum.toString(), duplicateAmountMinor: dupSum.toString() }));
    if (!final) {
      // Progress only: the lists are written once, at the end.
      const { invalidRows, inFileDuplicates, recentDuplicates, ...light } = fresh;
      void invalidRows;
      void inFileDuplicates;
      void recentDuplicates;
      await writeSummary(desk, batchId, { ...light, invalidRows: [], inFileDuplicates: [], recentDuplicates: [] });
      return;
    }
    fresh.phase = "validated";
    await finish(fresh, {
      // A dry run can never be created from, nor count as an upload of its file.
      status: fresh.dryRun ? "discarded" : "validated",
      rowCount: tally.rows,
      validCount: fresh.valid,
      invalidCount: fresh.invalid,
    });
  };
  // The last write, unless the maker discarded the batch meanwhile (then it stays discarded).
  const finish = (summary: BatchSummary, data: Prisma.BatchUpdateInput) =>
    desk.db.$transaction(async (tx) => {
      const [locked] = await tx.$queryRaw<Array<{ status: string }>>`SELECT status FROM "Batch" WHERE id = ${batchId}::uuid FOR UPDATE`;
      if (locked?.status === "validated") await writeSummary({ db: tx }, batchId, summary, data);
    });

  try {
    for await (const chunk of checkedRows(desk, batch, fresh, progress, tally, CHECK_CHUNK, {
      // The reader keeps filling it in (the description line, other sheets): copied at each write.
      onInfo: (info) => (fileInfo = info),
      countFirst: (rows) => {
        fresh.progress.stage = "checking";
        fresh.progress.rowsTotal = rows;
        progress.bytesRead = 0;
      },
      onProgress: (counted) => {
        countedSoFar = counted;
        return recordNow();
      },
    })) {
      const valid = chunk.filter((r) => r.payout);
      // Likely duplicates of payouts already on the desk: one query for the chunk.
      const recent = await findLikelyDuplicatesAmong(
        desk.db,
        valid.map((r) => ({
          id: r.payout!.input.id,
          recipientPhone: r.payout!.checked.recipient.phone,
          recipientAccount: r.payout!.checked.recipient.account,
          amountMinor: r.payout!.checked.amountMinor,
          currency: r.payout!.input.currency,
          createdAt: now,
        })),
        windowHours,
      );
      for (const r of chunk) {
        if (!r.payout) {
          fresh.invalid++;
          fresh.invalidRows.push({ row: r.sheetRow, connection: r.connectionName, values: r.values, errors: r.errors });
          continue;
        }
        fresh.valid++;
        const key = paymentKey(r.payout);
        const sameAs = firstOf.get(key);
        let duplicate = false;
        if (sameAs !== undefined) {
          fresh.inFileDuplicates.push({ row: r.sheetRow, sameAs });
          duplicate = true;
        } else firstOf.set(key, r.sheetRow);
        const earlier = recent.get(r.payout.input.id);
        if (earlier) {
          fresh.recentDuplicates.push({
            row: r.sheetRow,
            payouts: earlier.map((d) => ({ id: d.id, createdAt: d.createdAt.toISOString(), status: d.status, connectionName: d.connectionName, createdByName: d.createdByName })),
          });
          duplicate = true;
        }
        const totalKey = `${r.payout.checked.connectionId}|${r.payout.input.currency}`;
        let total = totals.get(totalKey);
        if (!total) {
          total = { connectionId: r.payout.checked.connectionId, connectionName: r.connectionName ?? "", currency: r.payout.input.currency, count: 0, amountMinor: "0", duplicateCount: 0, duplicateAmountMinor: "0", sum: 0n, dupSum: 0n };
          totals.set(totalKey, total);
        }
        total.count++;
        total.sum += r.payout.checked.amountMinor;
        if (duplicate) {
          total.duplicateCount++;
          total.dupSum += r.payout.checked.amountMinor;
        }
      }
      fresh.inFileDuplicateCount = fresh.inFileDuplicates.length;
      fresh.recentDuplicateCount = fresh.recentDuplicates.length;
      await recordNow();
      if (stopped) return;
    }
  } catch (error) {
    if (!(error instanceof FileProblem)) throw error;
    fresh.phase = "failed";
    fresh.problems = error.problems;
    fresh.progress = { ...fresh.progress, ...progress, rowsRead: tally.rows, valid: 0, invalid: 0 };
    fresh.rows = tally.rows;
    fresh.invalidRows = [];
    fresh.inFileDuplicates = [];
    fresh.recentDuplicates = [];
    fresh.totals = [];
    fresh.valid = 0;
    fresh.invalid = 0;
    await finish(fresh, { status: "discarded", rowCount: tally.rows, validCount: 0, invalidCount: 0 });
    return;
  }
  if (fileInfo) fresh.file = { ...(fileInfo as FileInfo), kept: (fileInfo as FileInfo).columns.filter((c): c is string => c !== null) };
  if (fresh.file && fresh.file.ignoredSheets.length > 0) {
    fresh.notes.push(`Only the sheet "${fresh.file.sheet}" was read; ${fresh.file.ignoredSheets.map((s) => `"${s}"`).join(", ")} also hold${fresh.file.ignoredSheets.length === 1 ? "s" : ""} values, which were not read`);
  }
  if (tally.rows === 0) {
    fresh.phase = "failed";
    fresh.problems = ["The file has a header but no payouts below it"];
    await finish(fresh, { status: "discarded", rowCount: 0, validCount: 0, invalidCount: 0 });
    return;
  }
  await record(true);
}

// ─── Reading a batch ─────────────────────────────────────────────────────────

async function loadBatch(desk: Desk, id: string) {
  if (!UUID.test(id)) throw new NotFound("Batch");
  const rows = await desk.db.$queryRaw<
    Array<Omit<Batch, "fileBytes" | "summary"> & { fileSize: number; summary: BatchSummary | null; createdByName: string | null }>
  >`
    SELECT b.id, b."fileName", b."fileSha256", octet_length(b."fileBytes")::int AS "fileSize", b.status,
           b.summary - 'invalidRows' - 'inFileDuplicates' - 'recentDuplicates' AS summary,
           b."rowCount", b."validCount", b."invalidCount", b."createdById", b."createdAt", b."committedAt", b."retryOfId",
           u.name AS "createdByName"
    FROM "Batch" b LEFT JOIN "User" u ON u.id = b."createdById"
    WHERE b.id = ${id}::uuid`;
  const row = rows[0];
  if (!row || !row.summary) throw new NotFound("Batch");
  return { ...row, summary: row.summary };
}

function percentOf(summary: BatchSummary): number {
  const p = summary.progress;
  if (summary.phase === "validated" || summary.phase === "created" || summary.phase === "failed") return 100;
  if (summary.phase === "creating") {
    const target = Math.max(1, summary.valid - (summary.create?.includeDuplicates ? 0 : summary.inFileDuplicateCount + summary.recentDuplicateCount));
    return Math.min(99, Math.floor(((summary.create?.createdCount ?? 0) / target) * 100));
  }
  // Counting is the first tenth; checking, by rows, the rest.
  if (p.stage === "checking" && p.rowsTotal) return Math.min(99, 10 + Math.floor((p.rowsRead / p.rowsTotal) * 90));
  // An XLSX's bytes may all be read (unpacked) before its first row: there the rows it says it spans tell more.
  const read = p.rowsExpected ? p.rowsRead / p.rowsExpected : p.totalBytes ? p.bytesRead / p.totalBytes : 0;
  return Math.min(10, Math.floor(read * 10));
}

export type BatchView = Awaited<ReturnType<typeof getBatch>>;

/**
 * A batch as the pages show it: what the file is, how far the check (or the
 * creation) is, counts, totals per connection and currency beside each
 * connection's available balance, and what the viewer may do with it. Never
 * the file's bytes nor its rows (see batchRows).
 */
export async function getBatch(desk: Desk, actor: Actor, id: string) {
  const batch = await loadBatch(desk, id);
  const summary = batch.summary;
  const working = summary.phase === "validating" || summary.phase === "creating";
  const stalled = working && !isRunningHere(desk, id) && Date.now() - Date.parse(summary.heartbeatAt) > STALE_AFTER_MS;
  const mine = batch.createdById === actor.id;
  const connection = summary.connectionId ? await desk.db.connection.findUnique({ where: { id: summary.connectionId }, select: { id: true, name: true } }) : null;

  // Balances only once there are totals to hold them against.
  const totals = summary.totals.length > 0 && !working ? await withBalances(desk, summary.create?.state === "done" ? summary.create.totals : summary.totals) : null;
  const statusCounts = batch.status === "created" || summary.phase === "creating" || summary.create ? await payoutStatusCounts(desk, id) : [];
  const excluded = summary.inFileDuplicateCount + summary.recentDuplicateCount;
  const canCreate =
    actor.role === "maker" &&
    mine &&
    batch.status === "validated" &&
    !summary.dryRun &&
    summary.phase === "validated" &&
    summary.valid > 0;
  return {
    id: batch.id,
    fileName: batch.fileName,
    fileSize: batch.fileSize,
    fileSha256: batch.fileSha256,
    status: batch.status as "validated" | "created" | "discarded",
    phase: summary.phase,
    dryRun: summary.dryRun,
    createdAt: batch.createdAt,
    committedAt: batch.committedAt,
    createdBy: { id: batch.createdById, name: batch.createdByName ?? "a former user" },
    mine,
    connection,
    percent: percentOf(summary),
    progress: summary.progress,
    stalled,
    file: summary.file,
    problems: summary.problems,
    notes: summary.notes,
    counts: {
      rows: summary.rows,
      emptyRows: summary.emptyRows,
      valid: summary.valid,
      invalid: summary.invalid,
      inFileDuplicates: summary.inFileDuplicateCount,
      recentDuplicates: summary.recentDuplicateCount,
      /** Valid rows that are neither kind of likely duplicate. */
      creatableWithoutDuplicates: summary.valid - excluded,
    },
    duplicateWindowHours: summary.duplicateWindowHours,
    totals,
    sameFileAs: summary.sameFileAs,
    create: summary.create,
    statusCounts,
    canCreate,
    canDiscard: actor.role === "maker" && mine && batch.status === "validated" && summary.phase !== "creating" && !summary.create,
  };
}

/**
 * Each total beside its connection's available balance in that currency (the
 * latest snapshot less what is approved or in flight, balances.ts), and the
 * fee: no provider publishes its fee before a payout is sent, so it is "not
 * known before sending" (null), never 0.
 */
async function withBalances(desk: Desk, totals: StoredTotal[]) {
  const overview = await balanceOverview(desk);
  return totals.map((t) => {
    const connection = overview.find((c) => c.connectionId === t.connectionId);
    const position = connection?.currencies.find((p) => p.currency === t.currency);
    const amountMinor = BigInt(t.amountMinor);
    const availableMinor = position?.availableMinor ?? null;
    return {
      connectionId: t.connectionId,
      connectionName: t.connectionName,
      currency: t.currency,
      count: t.count,
      amountMinor,
      duplicateCount: t.duplicateCount,
      duplicateAmountMinor: BigInt(t.duplicateAmountMinor),
      feeMinor: null as bigint | null,
      balance: {
        reports: connection?.reportsBalances ?? false,
        availableMinor,
        at: position?.at ?? null,
        /** null when unknown; false when the total is more than what is available. */
        enough: availableMinor === null ? null : availableMinor >= amountMinor,
      },
    };
  });
}

/** The batch's payouts per status, with their sums (the batch page; others will extend it). */
export async function payoutStatusCounts(desk: Desk, batchId: string) {
  const rows = await desk.db.payout.groupBy({
    by: ["status", "currency"],
    where: { batchId },
    _count: { _all: true },
    _sum: { amountMinor: true },
    orderBy: [{ status: "asc" }, { currency: "asc" }],
  });
  return rows.map((r) => ({ status: r.status, currency: r.currency, count: r._count._all, amountMinor: r._sum.amountMinor ?? 0n }));
}

export const ROWS_PAGE_SIZE = 50;

/** One page of a batch's invalid rows or likely duplicates, in file order; the maker's own batch (or an admin). */
export async function batchRows(desk: Desk, actor: Actor, id: string, list: BatchList, page: number, pageSize = ROWS_PAGE_SIZE) {
  const batch = await loadBatch(desk, id);
  assertOwnRows(batch, actor);
  const size = Math.min(Math.max(pageSize, 1), 200);
  const offset = Math.max(0, page - 1) * size;
  const total = list === "invalidRows" ? batch.summary.invalid : list === "inFileDuplicates" ? batch.summary.inFileDuplicateCount : batch.summary.recentDuplicateCount;
  const rows = await desk.db.$queryRaw<Array<{ entry: unknown }>>`
    SELECT e.value AS entry
    FROM "Batch" b, jsonb_array_elements(b.summary -> ${list}) WITH ORDINALITY AS e(value, n)
    WHERE b.id = ${id}::uuid AND e.n > ${offset}
    ORDER BY e.n
    LIMIT ${size}`;
  return { page: Math.max(1, page), pageSize: size, total, columns: batch.summary.file?.kept ?? [], items: rows.map((r) => r.entry) };
}

function assertOwnRows(batch: { createdById: string }, actor: Actor) {
  if (batch.createdById !== actor.id && actor.role !== "admin") {
    throw new Forbidden("Only the maker who uploaded this file (or an admin) sees its rows", "batch.own_rows");
  }
}

/** The maker's latest batches, newest first (the bulk page's list). */
export async function recentBatches(desk: Desk, actor: Actor, limit = 10) {
  const rows = await desk.db.$queryRaw<
    Array<{ id: string; fileName: string; status: string; createdAt: Date; committedAt: Date | null; rowCount: number; validCount: number; invalidCount: number; phase: BatchPhase | null; dryRun: boolean | null }>
  >`
    SELECT id, "fileName", status, "createdAt", "committedAt", "rowCount", "validCount", "invalidCount",
           summary ->> 'phase' AS phase, (summary ->> 'dryRun')::boolean AS "dryRun"
    FROM "Batch" WHERE "createdById" = ${actor.id}::uuid
    ORDER BY "createdAt" DESC LIMIT ${Math.min(Math.max(limit, 1), 50)}`;
  return rows.map((r) => ({ ...r, dryRun: r.dryRun ?? false, phase: r.phase ?? "validating" }));
}

// ─── Creating the payouts ────────────────────────────────────────────────────

/**
 * The maker asks for the valid rows' payouts (without the likely duplicates
 * unless `includeDuplicates`). Answers at once; the payouts are made in the
 * background, a few hundred to a transaction. Asking again while it runs, or
 * after it is done, makes nothing twice.
 */
export async function createBatch(desk: Desk, actor: Actor, input: { id: string; includeDuplicates: boolean }, ip?: string): Promise<{ id: string; creation: Promise<void> }> {
  const batch = await loadBatch(desk, input.id);
  if (actor.role !== "maker") throw new Forbidden(`Only makers create payouts; you are ${actor.role}`, "batch.maker");
  if (batch.createdById !== actor.id) throw new Forbidden("Only the maker who uploaded this file can create its payouts", "batch.own");
  const summary = batch.summary;
  if (summary.dryRun) throw new Conflict("This was a dry run: nothing can be created from it. Upload the file again without “Dry run” to create its payouts");
  if (batch.status === "discarded") throw new Conflict("This batch was discarded; upload the file again to create its payouts");
  if (summary.phase === "validating") throw new Conflict("The file is still being checked; create its payouts once the check is done");
  if (summary.phase === "failed") throw new Conflict("The file was refused, so there is nothing to create; fix it and upload it again");
  if (batch.status === "created" || summary.phase === "creating") {
    // Already asked: the same request again (a double click, a retry) makes nothing twice.
    if (summary.phase === "creating" && !isRunningHere(desk, batch.id) && Date.now() - Date.parse(summary.heartbeatAt) > STALE_AFTER_MS) {
      return { id: batch.id, creation: inBackground(desk, batch.id, "create", () => runCreation(desk, batch.id, ip)) };
    }
    return { id: batch.id, creation: running.get(desk)?.get(`create:${batch.id}`) ?? Promise.resolve() };
  }
  if (summary.valid === 0) throw new Conflict("No row of this file is valid: fix the rows and upload the file again");

  await desk.db.$transaction(async (tx) => {
    await tx.$queryRaw`SELECT id FROM "Batch" WHERE id = ${batch.id}::uuid FOR UPDATE`;
    const whole = (await readSummary({ db: tx }, batch.id, true))!;
    // Two clicks that both passed the checks above: the second finds the first's request. A creation
    // that stopped on an error is asked again: it carries on (what it made is not made twice).
    if (whole.create && whole.create.state !== "stopped") return;
    whole.phase = "creating";
    whole.create = {
      state: "creating",
      includeDuplicates: input.includeDuplicates,
      requestedById: actor.id,
      requestedAt: new Date().toISOString(),
      createdCount: 0,
      skippedDuplicates: 0,
      nowInvalid: [],
      error: null,
      finishedAt: null,
      totals: [],
    };
    await writeSummary({ db: tx }, batch.id, whole);
    await audit(tx, {
      actorId: actor.id,
      action: "batch.create",
      entityType: "batch",
      entityId: batch.id,
      ip,
      details: { fileName: batch.fileName, validRows: whole.valid, includeDuplicates: input.includeDuplicates },
    });
  });
  return { id: batch.id, creation: inBackground(desk, batch.id, "create", () => runCreation(desk, batch.id, ip)) };
}

/**
 * Makes the payouts: the file read and checked again, valid rows inserted
 * CREATE_CHUNK to a transaction under the batch's row lock, only ids not
 * there yet (so a second run, here or in another process, adds nothing). The
 * last transaction marks the batch created. Exported for tests (a run that
 * stops halfway and runs again).
 */
export async function runCreation(desk: Desk, batchId: string, ip?: string, opts: { stopAfterChunks?: number } = {}): Promise<void> {
  const batch = await desk.db.batch.findUnique({ where: { id: batchId }, select: { id: true, fileName: true, fileBytes: true, status: true, createdById: true } });
  if (!batch) throw new NotFound("Batch");
  const summary = (await readSummary(desk, batchId, true))!;
  if (batch.status !== "validated" || summary.phase !== "creating" || !summary.create) return;
  const create = summary.create;
  const maker = await desk.db.user.findUniqueOrThrow({ where: { id: create.requestedById }, select: { id: true, email: true, name: true, role: true } });
  const actor: Actor = { ...maker, role: maker.role as Actor["role"] };
  const skip = new Set<number>(summary.invalidRows.map((r) => r.row));
  const duplicates = new Set<number>([...summary.inFileDuplicates.map((d) => d.row), ...summary.recentDuplicates.map((d) => d.row)]);
  if (!create.includeDuplicates) for (const row of duplicates) skip.add(row);
  // One policy version for the whole batch: its payouts wait for approval under the same rules.
  const policy = await activePolicy(desk.db);
  const progress: ReadProgress = { bytesRead: 0, totalBytes: batch.fileBytes.length, rowsExpected: null };
  const tally: ReadTally = { rows: 0, emptyRows: 0, tooMany: false };
  const nowInvalid: CreateState["nowInvalid"] = [];
  const pending: NewPayout[] = [];
  let chunks = 0;
  let lastWrite = Date.now();
  let created = 0;

  const insert = async (items: NewPayout[], final: boolean) => {
    await desk.db.$transaction(
      async (tx) => {
        // Creations of one batch take turns here, so "not there yet" below stays true until this commits.
        const [locked] = await tx.$queryRaw<Array<{ status: string }>>`SELECT status FROM "Batch" WHERE id = ${batchId}::uuid FOR UPDATE`;
        // Another run (another process resuming it) finished the batch first: nothing is left to do.
        if (locked?.status !== "validated") throw new RunOver();
        const there = new Set(
          items.length === 0 ? [] : (await tx.payout.findMany({ where: { id: { in: items.map((i) => i.input.id) } }, select: { id: true } })).map((p) => p.id),
        );
        const { auditEntries } = await insertPayoutsInTx(tx, actor, items.filter((i) => !there.has(i.input.id)), policy, ip);
        const entries: AuditEntry[] = [...auditEntries];
        if (final) {
          const [count, groups] = await Promise.all([
            tx.payout.count({ where: { batchId } }),
            tx.payout.groupBy({ by: ["connectionId", "currency"], where: { batchId }, _count: { _all: true }, _sum: { amountMinor: true } }),
          ]);
          const names = new Map(summary.totals.map((t) => [t.connectionId, t.connectionName]));
          const whole = (await readSummary({ db: tx }, batchId, true))!;
          whole.phase = "created";
          whole.create = {
            ...create,
            state: "done",
            createdCount: count,
            skippedDuplicates: create.includeDuplicates ? 0 : duplicates.size,
            nowInvalid,
            error: null,
            finishedAt: new Date().toISOString(),
            totals: groups.map((g) => ({
              connectionId: g.connectionId,
              connectionName: names.get(g.connectionId) ?? "",
              currency: g.currency,
              count: g._count._all,
              amountMinor: (g._sum.amountMinor ?? 0n).toString(),
              duplicateCount: 0,
              duplicateAmountMinor: "0",
            })),
          };
          await writeSummary({ db: tx }, batchId, whole, { status: "created", committedAt: new Date() });
          entries.push({
            actorId: actor.id,
            action: "batch.created",
            entityType: "batch",
            entityId: batchId,
            ip,
            details: { fileName: batch.fileName, payouts: count, skippedDuplicates: whole.create.skippedDuplicates, nowInvalidRows: nowInvalid.map((r) => r.row) },
          });
        }
        // Last, as audit.ts requires: the payouts' entries and, at the end, the batch's.
        await auditMany(tx, entries);
      },
      { timeout: 60_000 },
    );
  };

  const fileName = batch.fileName;
  const createRows = async () => {
    for await (const chunk of checkedRows(desk, batch, summary, progress, tally, CREATE_CHUNK)) {
      for (const r of chunk) {
        if (skip.has(r.sheetRow)) continue;
        if (!r.payout) {
          nowInvalid.push({ row: r.sheetRow, errors: r.errors });
          continue;
        }
        pending.push({ ...r.payout, batch: { id: batchId, row: r.batchRow, note: `Created from ${fileName}, row ${r.sheetRow}` } });
      }
      while (pending.length >= CREATE_CHUNK) {
        const items = pending.splice(0, CREATE_CHUNK);
        await insert(items, false);
        created += items.length;
        chunks++;
        if (opts.stopAfterChunks !== undefined && chunks >= opts.stopAfterChunks) return;
      }
      if (Date.now() - lastWrite >= PROGRESS_EVERY_MS) {
        lastWrite = Date.now();
        await desk.db.$executeRaw`
          UPDATE "Batch" SET summary = jsonb_set(jsonb_set(summary, '{create,createdCount}', to_jsonb(${created}::int)), '{heartbeatAt}', to_jsonb(${new Date().toISOString()}::text))
          WHERE id = ${batchId}::uuid`;
      }
    }
    await insert(pending, true);
  };
  try {
    await createRows();
  } catch (error) {
    if (!(error instanceof RunOver)) throw error;
  }
}

/** A creation run found the batch already finished by another run. */
class RunOver extends Error {}

/** The maker drops a batch they will not create (its file can then be uploaded again without a warning). Audited. */
export async function discardBatch(desk: Desk, actor: Actor, id: string, ip?: string) {
  const batch = await loadBatch(desk, id);
  if (batch.createdById !== actor.id) throw new Forbidden("Only the maker who uploaded this file can discard it", "batch.own");
  return desk.db.$transaction(async (tx) => {
    const [locked] = await tx.$queryRaw<Array<{ status: string }>>`SELECT status FROM "Batch" WHERE id = ${id}::uuid FOR UPDATE`;
    const summary = (await readSummary({ db: tx }, id))!;
    if (locked?.status !== "validated" || summary.phase === "creating" || summary.create) {
      throw new Conflict(locked?.status === "created" || summary.create ? "Its payouts are being or were created; withdraw them one by one instead" : "This batch is already discarded");
    }
    await tx.batch.update({ where: { id }, data: { status: "discarded" } });
    await audit(tx, { actorId: actor.id, action: "batch.discard", entityType: "batch", entityId: id, ip, details: { fileName: batch.fileName } });
    return { id, status: "discarded" as const };
  });
}

/**
 * Starts again a check or a creation whose progress stopped (its process went
 * away): the page calls it when it sees `stalled`. Claimed with the heartbeat
 * it saw, so two pages asking at once start one run.
 */
export async function resumeBatch(desk: Desk, actor: Actor, id: string, ip?: string): Promise<{ resumed: boolean }> {
  const batch = await loadBatch(desk, id);
  if (batch.createdById !== actor.id) throw new Forbidden("Only the maker who uploaded this file can start its check again", "batch.own");
  const summary = batch.summary;
  const working = summary.phase === "validating" || summary.phase === "creating";
  if (!working || isRunningHere(desk, id) || Date.now() - Date.parse(summary.heartbeatAt) <= STALE_AFTER_MS) return { resumed: false };
  const claimed = await desk.db.$transaction(async (tx) => {
    const count = await tx.$executeRaw`
      UPDATE "Batch" SET summary = jsonb_set(summary, '{heartbeatAt}', to_jsonb(${new Date().toISOString()}::text))
      WHERE id = ${id}::uuid AND summary ->> 'heartbeatAt' = ${summary.heartbeatAt}`;
    if (count !== 1) return false;
    await audit(tx, { actorId: actor.id, action: "batch.resume", entityType: "batch", entityId: id, ip, details: { phase: summary.phase } });
    return true;
  });
  if (!claimed) return { resumed: false };
  if (summary.phase === "validating") void inBackground(desk, id, "validate", () => validateBatch(desk, id));
  else void inBackground(desk, id, "create", () => runCreation(desk, id, ip));
  return { resumed: true };
}

/** Waits for this process's runs of a batch (tests, the bench). */
export async function settled(desk: Desk, batchId: string): Promise<void> {
  const runs = running.get(desk);
  await Promise.all([runs?.get(`validate:${batchId}`), runs?.get(`create:${batchId}`)]);
}

// ─── Files back ──────────────────────────────────────────────────────────────

/** The invalid rows with an "error" column, and a connection column when the file had none (so each row keeps its connection). */
export async function invalidRowsForFile(desk: Desk, actor: Actor, id: string) {
  const batch = await loadBatch(desk, id);
  assertOwnRows(batch, actor);
  const [row] = await desk.db.$queryRaw<Array<{ rows: InvalidRow[] | null }>>`SELECT summary -> 'invalidRows' AS rows FROM "Batch" WHERE id = ${id}::uuid`;
  const rows = row?.rows ?? [];
  const kept = batch.summary.file?.kept ?? [];
  const addConnection = !kept.includes("connection");
  return {
    batch,
    columns: addConnection ? ["connection", ...kept] : kept,
    rows: rows.map((r) => ({
      values: addConnection ? [r.connection ?? "", ...r.values] : r.values,
      error: `row ${r.row}: ${Object.entries(r.errors)
        .map(([column, message]) => (column === "row" ? message : `${column}: ${message}`))
        .join("; ")}`,
    })),
  };
}

/** The template's columns of a connection, for the page (what each column is, before downloading). */
export async function templateInfo(desk: Desk, connectionId: string) {
  const shape = await connectionShape(desk, connectionId);
  return { connection: { id: shape.id, name: shape.name }, columns: templateColumns(shape).map((c) => ({ name: c.name, required: c.required, description: c.description })) };
}
