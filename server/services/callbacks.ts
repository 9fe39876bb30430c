// Provider callbacks: verified, stored raw, de-duplicated, and applied
// through the state machine. A callback we cannot verify never changes a
// payout; it only makes us ask the provider.
import { createHash } from "node:crypto";
import type { CallbackInput } from "@/server/connectors/types";
import type { Desk } from "./types";
import { applyProviderResult } from "./payout-status";
import { openConnector } from "./connections";

export type CallbackReply = { httpStatus: number; body: { status: string; message?: string } };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function receiveCallback(desk: Desk, connectionId: string, input: CallbackInput): Promise<CallbackReply> {
  if (!UUID.test(connectionId)) return { httpStatus: 404, body: { status: "error", message: "Unknown connection" } };
  const connection = await desk.db.connection.findUnique({ where: { id: connectionId } });
  if (!connection) return { httpStatus: 404, body: { status: "error", message: "Unknown connection" } };
  const connector = openConnector(desk, connection);
  if (!connector.parseCallback) return { httpStatus: 404, body: { status: "error", message: "This connection takes no callbacks" } };

  let parsed;
  try {
    parsed = await connector.parseCallback(input);
  } catch (error) {
    parsed = { verified: false as const, reason: `Could not read the callback: ${(error as Error).message}` };
  }

  const payoutId = parsed.payoutId && UUID.test(parsed.payoutId) ? parsed.payoutId.toLowerCase() : undefined;
  const payout = payoutId
    ? await desk.db.payout.findFirst({ where: { id: payoutId, connectionId }, select: { id: true } })
    : null;
  const dedupeKey = parsed.verified
    ? parsed.dedupeKey
    : `unverified:${createHash("sha256").update(input.rawBody).digest("hex")}`;

  const receipt = await desk.db.callbackReceipt
    .create({
      data: {
        connectionId,
        dedupeKey,
        payoutId: payout?.id ?? null,
        headers: Object.fromEntries(redactHeaders(input.headers)),
        body: input.rawBody,
        verified: parsed.verified,
        outcome: parsed.verified ? null : parsed.reason,
      },
    })
    .catch((error: { code?: string }) => {
      if (error?.code === "P2002") return null; // the same callback again
      throw error;
    });
  if (!receipt) return { httpStatus: 200, body: { status: "ok", message: "Duplicate callback ignored" } };

  if (!parsed.verified) {
    // Never trust it, but it says something may have happened: ask the provider.
    if (payout) await desk.jobs.checkStatus(payout.id, { delaySeconds: 0 });
    return { httpStatus: 401, body: { status: "rejected", message: parsed.reason } };
  }
  if (!payout) {
    await desk.db.callbackReceipt.update({ where: { id: receipt.id }, data: { outcome: "No such payout on this connection", processedAt: new Date() } });
    return { httpStatus: 200, body: { status: "ok", message: "No such payout on this connection" } };
  }

  const outcome = await applyProviderResult(desk.db, payout.id, parsed.result, "callback");
  await desk.db.callbackReceipt.update({ where: { id: receipt.id }, data: { outcome: outcome.kind, processedAt: new Date() } });
  if (outcome.kind === "not_found" || parsed.result.state === "unknown") await desk.jobs.checkStatus(payout.id, { delaySeconds: 0 });
  return { httpStatus: 200, body: { status: "ok" } };
}

/** Callbacks are stored as evidence; credentials a provider might echo are not. */
function redactHeaders(headers: Headers): Array<[string, string]> {
  return [...headers.entries()].map(([k, v]) => [k, /^(authorization|cookie|x-api-key)$/i.test(k) ? "[redacted]" : v]);
}
