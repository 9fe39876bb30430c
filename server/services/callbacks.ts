// Provider callbacks: verified, stored raw, de-duplicated, and applied
// through the state machine. A callback we cannot verify never changes a
// payout; it only makes us ask the provider.
import { createHash } from "node:crypto";
import type { CallbackInput, CallbackResult, PayoutConnector } from "@/server/connectors/types";
import type { Desk } from "./types";
import { applyProviderResult } from "./payout-status";
import { openConnector } from "./connections";
import { askProviderSoon } from "./payout-work";

export interface CallbackReplyOut {
  httpStatus: number;
  contentType: string;
  body: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type Outcome = "applied" | "duplicate" | "hint" | "refused" | "unknown_payout";

export async function receiveCallback(desk: Desk, connectionId: string, input: CallbackInput): Promise<CallbackReplyOut> {
  if (!UUID.test(connectionId)) return json(404, { status: "error", message: "Unknown connection" });
  const connection = await desk.db.connection.findUnique({ where: { id: connectionId } });
  if (!connection) return json(404, { status: "error", message: "Unknown connection" });
  const connector = openConnector(desk, connection);
  if (!connector.parseCallback) return json(404, { status: "error", message: "This connection takes no callbacks" });

  let parsed: CallbackResult;
  try {
    parsed = await connector.parseCallback(input);
  } catch (error) {
    parsed = { verified: false, reason: `Could not read the callback: ${(error as Error).message}` };
  }

  const payout = await findPayout(desk, connectionId, parsed);
  const dedupeKey =
    parsed.verified && parsed.dedupeKey
      ? parsed.dedupeKey
      : `${parsed.verified ? "verified" : parsed.hint ? "hint" : "unverified"}:${createHash("sha256").update(input.rawBody).digest("hex")}`;

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
  if (!receipt) return reply(connector, input, "duplicate");

  if (!parsed.verified) {
    // Never applied; but it says something may have happened: ask the provider.
    if (payout && (await askProviderSoon(desk.db, payout.id))) desk.jobs.wake();
    return reply(connector, input, parsed.hint ? "hint" : "refused", parsed.reason);
  }
  if (!payout) {
    await desk.db.callbackReceipt.update({ where: { id: receipt.id }, data: { outcome: "No such payout on this connection", processedAt: new Date() } });
    return reply(connector, input, "unknown_payout");
  }

  const outcome = await applyProviderResult(desk.db, payout.id, parsed.result, "callback");
  await desk.db.callbackReceipt.update({ where: { id: receipt.id }, data: { outcome: outcome.kind, processedAt: new Date() } });
  if ((outcome.kind === "not_found" || parsed.result.state === "unknown") && (await askProviderSoon(desk.db, payout.id))) desk.jobs.wake();
  return reply(connector, input, "applied");
}

/** The payout a callback speaks of, on this connection only: by our id, or by the provider's reference. */
async function findPayout(desk: Desk, connectionId: string, parsed: CallbackResult) {
  const payoutId = parsed.payoutId && UUID.test(parsed.payoutId) ? parsed.payoutId.toLowerCase() : undefined;
  if (payoutId) return desk.db.payout.findFirst({ where: { id: payoutId, connectionId }, select: { id: true } });
  const reference = parsed.verified ? parsed.providerReference : undefined;
  if (reference) return desk.db.payout.findFirst({ where: { providerReference: reference, connectionId }, select: { id: true } });
  return null;
}

/**
 * What the provider gets back. A refused callback answers 401 so the provider
 * retries later (by then the status query may have settled it); everything
 * else answers 200 so it stops resending. A provider that prescribes its own
 * reply (Praxis signs it) gets that.
 */
function reply(connector: PayoutConnector, input: CallbackInput, outcome: Outcome, reason?: string): CallbackReplyOut {
  const accepted = outcome !== "refused";
  if (connector.callbackReply) return connector.callbackReply(accepted, input);
  if (!accepted) return json(401, { status: "rejected", message: reason ?? "Callback refused" });
  const messages: Record<Exclude<Outcome, "refused">, string> = {
    applied: "ok",
    duplicate: "Duplicate callback ignored",
    hint: "Received; the status will be confirmed with the provider",
    unknown_payout: "No such payout on this connection",
  };
  return json(200, { status: "ok", message: messages[outcome] });
}

function json(httpStatus: number, body: unknown): CallbackReplyOut {
  return { httpStatus, contentType: "application/json", body: JSON.stringify(body) };
}

/** Callbacks are stored as evidence; credentials a provider might echo are not. */
function redactHeaders(headers: Headers): Array<[string, string]> {
  return [...headers.entries()].map(([k, v]) => [k, /^(authorization|cookie|x-api-key)$/i.test(k) ? "[redacted]" : v]);
}
