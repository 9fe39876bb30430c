// "Retry failed rows": a new batch made of the rows of a batch whose payouts
// failed, once every payout of that batch is final. The rows are written as a
// CSV in the template's columns (with a connection column, so each row keeps
// its connection) and uploaded through uploadBatch, the path every file takes:
// the same reading, the same row checks (checkPayoutInput), the same
// duplicate guards, and then the maker's preview → create → approval like any
// other batch. Nothing is sent again by itself: the new payouts have new ids
// (from the new batch and its rows) and wait for approval.
//
// One retry per batch while it stands: uploadBatch locks the batch's row and
// answers a second request with the retry already made (a double click, two
// makers at once). A retry the maker discarded (or whose file was refused) no
// longer stands, so asking again makes a new one.
import { stringify } from "csv-stringify/sync";
import { CSV_FORMAT } from "@/server/exports/csv";
import { decimal } from "@/server/exports/amounts";
import { templateColumns, type ConnectionShape } from "@/server/bulk/columns";
import { FINAL_STATUSES, type PayoutStatus } from "@/server/domain/payout-state";
import type { Actor, Desk } from "./types";
import { audit } from "./audit";
import { Conflict, FieldErrors, Forbidden, NotFound } from "./errors";
import { connectionShape, liveRetryOf, uploadBatch } from "./batches";
import { RETRY_STATUSES } from "./batch-results";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface RetryAnswer {
  /** The retry batch: its preview is the bulk page's (/payouts/bulk?batch=<id>). */
  batchId: string;
  /** False when the retry was made before and this is it again. */
  created: boolean;
  rows: number;
  /** Resolves when its rows are checked (tests wait on it; the procedure does not). */
  validation: Promise<void>;
}

/**
 * Makes (or finds) the retry batch of `batchId`'s failed rows. Refused, in
 * words, for a batch whose payouts are not all final yet, or with no failed row.
 */
export async function retryFailedRows(desk: Desk, actor: Actor, batchId: string, ip?: string): Promise<RetryAnswer> {
  if (actor.role !== "maker") throw new Forbidden(`Only makers make payouts, and so retries of failed rows; you are ${actor.role}`, "batch.maker");
  if (!UUID.test(batchId)) throw new NotFound("Batch");
  const batch = await desk.db.batch.findUnique({ where: { id: batchId }, select: { id: true, fileName: true, status: true } });
  if (!batch) throw new NotFound("Batch");

  const standing = await liveRetryOf(desk, batchId);
  if (standing) {
    await audit(desk.db, { actorId: actor.id, action: "batch.retry", entityType: "batch", entityId: batchId, ip, details: { retryBatchId: standing.id, again: true } });
    return { batchId: standing.id, created: false, rows: await desk.db.payout.count({ where: { batchId, status: { in: [...RETRY_STATUSES] } } }), validation: Promise.resolve() };
  }

  if (batch.status !== "created") {
    throw new Conflict("No payouts were created from this batch (or they are still being created), so no row of it has failed: there is nothing to retry");
  }
  const byStatus = await desk.db.payout.groupBy({ by: ["status"], where: { batchId }, _count: { _all: true } });
  const open = byStatus.filter((s) => !FINAL_STATUSES.has(s.status as PayoutStatus)).reduce((n, s) => n + s._count._all, 0);
  if (open > 0) {
    throw new Conflict(
      `${open.toLocaleString("en")} payout${open === 1 ? " of this batch is" : "s of this batch are"} not final yet (waiting for approval, or on ${open === 1 ? "its" : "their"} way): retry the failed rows once every payout is final, so no row is paid twice`,
    );
  }
  const failed = await desk.db.payout.findMany({
    where: { batchId, status: { in: [...RETRY_STATUSES] } },
    orderBy: { batchRow: "asc" },
    select: {
      amountMinor: true,
      currency: true,
      recipientPhone: true,
      recipientName: true,
      recipientAccount: true,
      recipientDetails: true,
      channel: true,
      description: true,
      connection: { select: { id: true, name: true } },
    },
  });
  if (failed.length === 0) throw new Conflict("No row of this batch failed: there is nothing to retry");

  // The columns of every connection the failed rows went through, as their templates have them.
  const shapes = new Map<string, ConnectionShape>();
  const unavailable: string[] = [];
  for (const p of failed) {
    if (shapes.has(p.connection.id) || unavailable.includes(p.connection.name)) continue;
    try {
      shapes.set(p.connection.id, await connectionShape(desk, p.connection.id));
    } catch (error) {
      if (!(error instanceof FieldErrors)) throw error;
      unavailable.push(p.connection.name);
    }
  }
  if (shapes.size === 0) {
    throw new Conflict(`${unavailable.join(", ")} cannot take payouts now (paused, or its credentials cannot be read): an admin must enable it before its failed rows can be retried`);
  }
  const names = [...new Set([...shapes.values()].flatMap((s) => templateColumns(s).map((c) => c.name)))].filter((n) => n !== "description");
  const columns = ["connection", ...names, "description"];
  const records = failed.map((p) => {
    const details = p.recipientDetails && typeof p.recipientDetails === "object" && !Array.isArray(p.recipientDetails) ? (p.recipientDetails as Record<string, unknown>) : {};
    const value: Record<string, string> = {
      connection: p.connection.name,
      amount: decimal(p.amountMinor, p.currency),
      currency: p.currency,
      recipient_phone: p.recipientPhone ?? "",
      recipient_name: p.recipientName ?? "",
      recipient_account: p.recipientAccount ?? "",
      channel: p.channel ?? "",
      description: p.description,
    };
    for (const [key, v] of Object.entries(details)) if (!(key in value) && typeof v === "string") value[key] = v;
    return columns.map((c) => value[c] ?? "");
  });
  const bytes = Buffer.from(stringify([columns, ...records], CSV_FORMAT));
  const base = batch.fileName.replace(/\.(csv|xlsx)$/i, "");
  const upload = await uploadBatch(
    desk,
    actor,
    { fileName: `${base}-failed-rows.csv`, bytes, connectionId: null, dryRun: false, confirmSameFile: true, retryOfId: batchId },
    ip,
  );
  return { batchId: upload.batchId, created: !upload.earlierRetry, rows: failed.length, validation: upload.validation };
}
