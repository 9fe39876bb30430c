// Provider callbacks: verified, stored, de-duplicated, and applied through
// the state machine. A callback we cannot verify never changes a payout; it
// only makes us ask the provider.
//
// The rules this file keeps:
// - Only a verified callback is de-duplicated, on a key the connector derives
//   from signed content alone (a header outside the signature would let a
//   replay pass as new). A refused callback is refused again every time it
//   comes, so the provider keeps retrying a callback the desk never applied.
// - A verified callback is stored whole (it is evidence). A refused one is
//   stored as a trace of the attempt: its first 4 KB, its size and its hash,
//   and at most REFUSED_CALLBACKS_PER_MINUTE per connection (past that: 429,
//   nothing stored), since anyone who knows a connection id can post.
// - A callback is never answered "taken" unless it was applied, or had been
//   applied before: one that cannot be applied yet (the payout is not sent,
//   another receiver is applying the same one, the database failed) is
//   answered with a refusal so the provider sends it again.
import { createHash, randomUUID } from "node:crypto";
import type { CallbackInput, CallbackResult, PayoutConnector } from "@/server/connectors/types";
import type { Desk } from "./types";
import { applyProviderResult } from "./payout-status";
import { openConnector, recentConnection } from "./connections";
import { askProviderSoon } from "./payout-work";
import type { PayoutStatus } from "@/server/domain/payout-state";
import { Prisma } from "@/server/db/generated/client";
import { rawRows } from "@/server/db/raw";

export interface CallbackReplyOut {
  httpStatus: number;
  contentType: string;
  body: string;
  headers?: Record<string, string>;
}

/** Provider callbacks are small JSON documents; anything larger is not one and is not read or stored. */
export const MAX_CALLBACK_BYTES = 256 * 1024;
/** How much of a refused callback's body is kept (with its full size and sha256). */
export const REFUSED_BODY_KEEP_BYTES = 4 * 1024;
/** Refused callbacks stored per connection per minute; past that they are answered 429 and not stored. */
export const REFUSED_CALLBACKS_PER_MINUTE = 60;
const REFUSED_WINDOW_MS = 60_000;
/**
 * A verified callback stored but still unprocessed after this long was left
 * by a receiver that died mid-way; a resend of it is processed afresh.
 * Before that, a resend is answered "try again later", never "duplicate".
 */
const ABANDONED_AFTER_MS = 60_000;
/** The largest value an int4 column holds (a callback weeks late is recorded as that). */
const MAX_INT4 = 2_147_483_647;
/** Two-key advisory locks keep apart from the one-key ones (the migration lock); "cbck" in ASCII. */
const CALLBACK_LOCK_CLASS = 0x6362636b;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type Outcome =
  | "applied"
  | "duplicate"
  | "hint"
  | "unknown_payout"
  // Not taken: the provider is told to send it again.
  | "refused"
  | "premature"
  | "in_progress"
  | "failed";

/**
 * The webhook route's whole job, shared by the Next route handler and the
 * test desk: the body read up to the cap (413 beyond it), then receiveCallback.
 */
export async function receiveCallbackRequest(desk: Desk, connectionId: string, request: Request): Promise<Response> {
  const rawBody = await readCallbackBody(request);
  const reply =
    rawBody === null
      ? tooLarge()
      : await receiveCallback(desk, connectionId, { headers: request.headers, rawBody, url: request.url, method: request.method });
  return new Response(reply.body, { status: reply.httpStatus, headers: { ...reply.headers, "content-type": reply.contentType } });
}

/**
 * The request body as text, or null when it is (or says it is) larger than
 * MAX_CALLBACK_BYTES. Reading stops at the cap, so a body without a declared
 * length (chunked) cannot make the desk buffer more than that.
 */
export async function readCallbackBody(request: Request): Promise<string | null> {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > MAX_CALLBACK_BYTES) return null;
  if (!request.body) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_CALLBACK_BYTES) {
      await reader.cancel().catch(() => undefined);
      return null;
    }
    chunks.push(value);
  }
  // Decoded as Request.text() would (UTF-8, malformed bytes replaced): the connectors verify this text.
  return new TextDecoder().decode(Buffer.concat(chunks));
}

export async function receiveCallback(desk: Desk, connectionId: string, input: CallbackInput): Promise<CallbackReplyOut> {
  if (Buffer.byteLength(input.rawBody, "utf8") > MAX_CALLBACK_BYTES) return tooLarge();
  if (!UUID.test(connectionId)) return json(404, { status: "error", message: "Unknown connection" });
  const connection = await recentConnection(desk, connectionId);
  if (!connection) return json(404, { status: "error", message: "Unknown connection" });
  const connector = openConnector(desk, connection);
  if (!connector.parseCallback) return json(404, { status: "error", message: "This connection takes no callbacks" });

  let parsed: CallbackResult;
  try {
    parsed = await connector.parseCallback(input);
  } catch (error) {
    parsed = { verified: false, reason: `Could not read the callback: ${(error as Error).message}` };
  }
  if (parsed.verified) return takeVerified(desk, connector, connectionId, input, parsed);
  const payout = await findPayout(desk, connectionId, parsed);
  return takeRefused(desk, connector, connectionId, input, parsed, payout?.id ?? null);
}

/**
 * An unverified callback: stored as a trace (rate-limited), never applied,
 * and answered as refused every time (a hint, unsigned by the provider's
 * design, is acknowledged). It says something may have happened, so the
 * provider is asked about the payout it names.
 */
async function takeRefused(
  desk: Desk,
  connector: PayoutConnector,
  connectionId: string,
  input: CallbackInput,
  parsed: Extract<CallbackResult, { verified: false }>,
  payoutId: string | null,
): Promise<CallbackReplyOut> {
  const now = new Date();
  const sha256 = sha256Hex(input.rawBody);
  const kept = await desk.db.$transaction(async (tx) => {
    // Count and insert under one lock per connection, so parallel posts cannot all slip under the limit.
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(${CALLBACK_LOCK_CLASS}::int4, hashtext(${connectionId}))`;
    const since = new Date(now.getTime() - REFUSED_WINDOW_MS);
    const recent = await tx.callbackReceipt.count({ where: { connectionId, verified: false, receivedAt: { gt: since } } });
    if (recent >= REFUSED_CALLBACKS_PER_MINUTE) {
      const oldest = await tx.callbackReceipt.findFirst({
        where: { connectionId, verified: false, receivedAt: { gt: since } },
        orderBy: { receivedAt: "asc" },
        select: { receivedAt: true },
      });
      const freeAt = (oldest?.receivedAt.getTime() ?? now.getTime()) + REFUSED_WINDOW_MS;
      return { stored: false as const, retryAfterSeconds: Math.max(1, Math.ceil((freeAt - now.getTime()) / 1000)) };
    }
    await tx.callbackReceipt.create({
      data: {
        connectionId,
        // Every attempt is its own row: an identical resend is refused again, not taken as a duplicate.
        dedupeKey: `${parsed.hint ? "hint" : "refused"}:${sha256}:${randomUUID()}`,
        payoutId,
        headers: Object.fromEntries(redactHeaders(input.headers, 1024)),
        body: storableText(input.rawBody, REFUSED_BODY_KEEP_BYTES),
        bodyBytes: Buffer.byteLength(input.rawBody, "utf8"),
        bodySha256: sha256,
        verified: false,
        outcome: parsed.reason,
        receivedAt: now,
        processedAt: now,
      },
    });
    return { stored: true as const };
  });
  if (!kept.stored) {
    // Nothing stored and nothing done: a provider retries, a flood stops costing rows.
    return json(
      429,
      { status: "error", message: `More than ${REFUSED_CALLBACKS_PER_MINUTE} refused callbacks a minute on this connection; try again later` },
      { "retry-after": String(kept.retryAfterSeconds) },
    );
  }
  if (payoutId && (await askProviderSoon(desk.db, payoutId))) desk.jobs.wake();
  return reply(connector, input, parsed.hint ? "hint" : "refused", parsed.reason);
}

/**
 * A verified callback: stored whole under its content-derived key (the
 * unique index makes a second copy a duplicate), then applied.
 */
async function takeVerified(
  desk: Desk,
  connector: PayoutConnector,
  connectionId: string,
  input: CallbackInput,
  parsed: Extract<CallbackResult, { verified: true }>,
): Promise<CallbackReplyOut> {
  const claim = await claimReceipt(desk, connectionId, input, parsed);
  const payout = claim.payout;
  const payoutId = payout?.id ?? null;
  if (claim.kind === "duplicate") return reply(connector, input, "duplicate");
  if (claim.kind === "in_progress") return reply(connector, input, "in_progress");
  const receiptId = claim.id;

  if (!payoutId) {
    await finish(desk, receiptId, "No such payout on this connection");
    return reply(connector, input, "unknown_payout");
  }

  let outcome: Awaited<ReturnType<typeof applyProviderResult>>;
  try {
    // The status read with the payout a moment ago saves reading it again (a miss reads afresh);
    // a change marks the receipt processed in its own statement.
    outcome = await applyProviderResult(desk.db, payoutId, parsed.result, "callback", payout?.status, { receipt: { id: receiptId, outcome: "changed" } });
  } catch (error) {
    // Not applied: give the key back so the provider's resend is processed afresh.
    const message = (error as Error).message;
    console.error(`[callbacks] applying a verified callback to payout ${payoutId} failed: ${message}`);
    await release(desk, receiptId, parsed.dedupeKey, `Not applied (${message.slice(0, 500)}); the provider's resend will be`).catch(() => undefined);
    return reply(connector, input, "failed");
  }

  if (outcome.kind === "premature") {
    // The payout was never sent (still waiting for approval), so nothing the
    // provider says can be about it yet. Kept as evidence, but its key is
    // given back: when the provider resends after the payout was sent, the
    // resend must be applied, not dropped as a duplicate of this one.
    await release(desk, receiptId, parsed.dedupeKey, `premature: the payout is ${outcome.current} and has not been sent; not applied`);
    return reply(connector, input, "premature", `The payout has not been sent yet (it is ${outcome.current.replace("_", " ")})`);
  }

  if (!(outcome.kind === "changed" && outcome.alsoWritten)) await finish(desk, receiptId, outcome.kind);
  if ((outcome.kind === "not_found" || parsed.result.state === "unknown") && (await askProviderSoon(desk.db, payoutId))) desk.jobs.wake();
  return reply(connector, input, "applied");
}

type Claim = ({ kind: "new"; id: string } | { kind: "duplicate" } | { kind: "in_progress" }) & { payout: FoundPayout | null };

/**
 * Stores a verified callback under its key, or says why it is not ours to
 * apply; and, in the same statement, finds the payout it speaks of.
 */
async function claimReceipt(desk: Desk, connectionId: string, input: CallbackInput, parsed: Extract<CallbackResult, { verified: true }>): Promise<Claim> {
  const now = new Date();
  const dedupeKey = parsed.dedupeKey;
  // A copy already stored under the key inserts nothing (no error, so nothing for the pool to recover from).
  // sinceSentMs: the callback lag connector health reports (services/overview.ts), kept here so reading it needs no payouts.
  const [row] = await rawRows<{ receipt: string | null; id: string | null; submittedAt: Date | null; status: string | null }>(desk.db, Prisma.sql`
    WITH found AS (${payoutSql(connectionId, parsed)}
    ), created AS (
      INSERT INTO "CallbackReceipt" (id, "connectionId", "dedupeKey", "payoutId", headers, body, "bodyBytes", "bodySha256", verified, "receivedAt", "sinceSentMs")
      SELECT ${randomUUID()}::uuid, ${connectionId}::uuid, ${dedupeKey}, f.id, ${JSON.stringify(Object.fromEntries(redactHeaders(input.headers)))}::jsonb,
             ${storableText(input.rawBody)}, ${Buffer.byteLength(input.rawBody, "utf8")}::int, ${sha256Hex(input.rawBody)}, true, ${now}::timestamptz,
             CASE WHEN f."submittedAt" IS NOT NULL
               THEN LEAST(GREATEST(floor(extract(epoch FROM (${now}::timestamptz - f."submittedAt")) * 1000), 0), ${MAX_INT4})::int END
      FROM (SELECT 1) AS one LEFT JOIN found f ON TRUE
      ON CONFLICT ("connectionId", "dedupeKey") DO NOTHING
      RETURNING id
    )
    SELECT (SELECT id::text FROM created) AS receipt, f.id::text AS id, f."submittedAt", f.status::text AS status
    FROM (SELECT 1) AS one LEFT JOIN found f ON TRUE`);
  const payout = row?.id ? { id: row.id, submittedAt: row.submittedAt, status: row.status as PayoutStatus } : null;
  if (row?.receipt) return { kind: "new", id: row.receipt, payout };
  return { ...(await existingReceipt(desk, connectionId, dedupeKey, now)), payout };
}

/** A verified callback whose key is stored already: a duplicate, one being applied, or one a dead receiver left (taken over). */
async function existingReceipt(desk: Desk, connectionId: string, dedupeKey: string, now: Date): Promise<{ kind: "new"; id: string } | { kind: "duplicate" } | { kind: "in_progress" }> {
  const existing = await desk.db.callbackReceipt.findUnique({
    where: { connectionId_dedupeKey: { connectionId, dedupeKey } },
    select: { id: true, processedAt: true, receivedAt: true },
  });
  // Gone between our insert and this read: it was given back (not applied); the provider's next try will be taken.
  if (!existing) return { kind: "in_progress" };
  if (existing.processedAt) return { kind: "duplicate" };
  if (now.getTime() - existing.receivedAt.getTime() < ABANDONED_AFTER_MS) return { kind: "in_progress" };
  // Left unprocessed by a receiver that died: take it over (only one taker wins).
  const taken = await desk.db.callbackReceipt.updateMany({
    where: { id: existing.id, processedAt: null, receivedAt: existing.receivedAt },
    data: { receivedAt: now },
  });
  return taken.count === 1 ? { kind: "new", id: existing.id } : { kind: "in_progress" };
}

function finish(desk: Desk, receiptId: string, outcome: string) {
  return rawRows(desk.db, Prisma.sql`
    UPDATE "CallbackReceipt" SET outcome = ${outcome}, "processedAt" = ${new Date()} WHERE id = ${receiptId}::uuid RETURNING 1 AS done`);
}

/** Keeps the receipt as evidence but frees its key, so the same callback is taken when it comes again. */
function release(desk: Desk, receiptId: string, dedupeKey: string, outcome: string) {
  return desk.db.callbackReceipt.update({
    where: { id: receiptId },
    data: { dedupeKey: `${dedupeKey}#not-applied:${receiptId}`, outcome, processedAt: new Date() },
  });
}

interface FoundPayout {
  id: string;
  submittedAt: Date | null;
  status: PayoutStatus;
}

/** The payout a callback speaks of, on this connection only: by our id, or by the provider's reference. */
async function findPayout(desk: Desk, connectionId: string, parsed: CallbackResult): Promise<FoundPayout | null> {
  const [found] = await rawRows<FoundPayout>(desk.db, Prisma.sql`SELECT id::text AS id, "submittedAt", status::text AS status FROM (${payoutSql(connectionId, parsed)}) AS f`);
  return found ?? null;
}

/** The SELECT of that payout (id, submittedAt, status; no row when the callback names none). */
function payoutSql(connectionId: string, parsed: CallbackResult): Prisma.Sql {
  const payoutId = parsed.payoutId && UUID.test(parsed.payoutId) ? parsed.payoutId.toLowerCase() : undefined;
  const reference = parsed.verified ? parsed.providerReference : undefined;
  if (payoutId) return Prisma.sql`SELECT id, "submittedAt", status FROM "Payout" WHERE id = ${payoutId}::uuid AND "connectionId" = ${connectionId}::uuid`;
  if (reference) return Prisma.sql`SELECT id, "submittedAt", status FROM "Payout" WHERE "providerReference" = ${reference} AND "connectionId" = ${connectionId}::uuid LIMIT 1`;
  return Prisma.sql`SELECT id, "submittedAt", status FROM "Payout" WHERE FALSE`;
}

/**
 * What the provider gets back. A callback not taken answers non-2xx so the
 * provider retries later (by then the status query may have settled it, or
 * the payout been sent); one taken answers 200 so it stops resending. A
 * provider that prescribes its own reply (Praxis signs it) gets that.
 */
function reply(connector: PayoutConnector, input: CallbackInput, outcome: Outcome, reason?: string): CallbackReplyOut {
  const accepted = outcome === "applied" || outcome === "duplicate" || outcome === "hint" || outcome === "unknown_payout";
  if (connector.callbackReply) return connector.callbackReply(accepted, input);
  switch (outcome) {
    case "refused":
      return json(401, { status: "rejected", message: reason ?? "Callback refused" });
    case "premature":
      return json(409, { status: "rejected", message: `${reason ?? "The payout cannot take this yet"}; send it again later` }, { "retry-after": "300" });
    case "in_progress":
      return json(409, { status: "rejected", message: "The same callback is being processed; send it again later" }, { "retry-after": "60" });
    case "failed":
      return json(503, { status: "error", message: "The callback could not be applied now; send it again later" }, { "retry-after": "60" });
    case "applied":
      return json(200, { status: "ok", message: "ok" });
    case "duplicate":
      return json(200, { status: "ok", message: "Duplicate callback ignored" });
    case "hint":
      return json(200, { status: "ok", message: "Received; the status will be confirmed with the provider" });
    case "unknown_payout":
      return json(200, { status: "ok", message: "No such payout on this connection" });
  }
}

function tooLarge(): CallbackReplyOut {
  return json(413, { status: "error", message: `Callback too large (at most ${MAX_CALLBACK_BYTES} bytes)` });
}

function json(httpStatus: number, body: unknown, headers?: Record<string, string>): CallbackReplyOut {
  return { httpStatus, contentType: "application/json", body: JSON.stringify(body), ...(headers ? { headers } : {}) };
}

function sha256Hex(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

/**
 * The text as PostgreSQL can store it, cut to `maxBytes` on a character
 * boundary. A NUL (which a text column refuses) is replaced by U+FFFD: the
 * stored size and sha256 still describe the body as received.
 */
function storableText(text: string, maxBytes?: number): string {
  let kept = text;
  if (maxBytes !== undefined) {
    const bytes = Buffer.from(text, "utf8");
    if (bytes.length > maxBytes) {
      let cut = maxBytes;
      while (cut > 0 && (bytes[cut]! & 0xc0) === 0x80) cut--; // not inside a multi-byte character
      kept = bytes.subarray(0, cut).toString("utf8");
    }
  }
  return kept.includes("\u0000") ? kept.replaceAll("\u0000", "\uFFFD") : kept;
}

/** Callbacks are stored as evidence; credentials a provider might echo are not. */
function redactHeaders(headers: Headers, maxValueLength?: number): Array<[string, string]> {
  return [...headers.entries()].map(([k, v]) => [
    k,
    /^(authorization|cookie|x-api-key)$/i.test(k) ? "[redacted]" : maxValueLength !== undefined ? v.slice(0, maxValueLength) : v,
  ]);
}
