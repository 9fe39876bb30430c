// What an approver approves: a payout's payload in one canonical form, its
// hash, and which fields differ between two of them. An approval stores the
// hash (and the payload) of what it approved; the worker recomputes it from
// the row before sending, so an approval binds exactly what was approved.
import { createHash } from "node:crypto";

/** The fields that decide where money goes and how much: anything else may change without a new approval. */
export interface PayoutPayload {
  connectionId: string;
  /** Minor units as decimal text (JSON has no bigint). */
  amountMinor: string;
  currency: string;
  recipientPhone: string | null;
  recipientName: string | null;
  recipientAccount: string | null;
  recipientCountry: string | null;
  recipientDetails: Record<string, string> | null;
  channel: string | null;
  description: string;
}

export const PAYLOAD_FIELDS: ReadonlyArray<keyof PayoutPayload> = [
  "connectionId",
  "amountMinor",
  "currency",
  "recipientPhone",
  "recipientName",
  "recipientAccount",
  "recipientCountry",
  "recipientDetails",
  "channel",
  "description",
];

/** Field names as people read them, for events and diffs. */
export const PAYLOAD_FIELD_LABELS: Readonly<Record<keyof PayoutPayload, string>> = {
  connectionId: "connection",
  amountMinor: "amount",
  currency: "currency",
  recipientPhone: "recipient phone",
  recipientName: "recipient name",
  recipientAccount: "account number",
  recipientCountry: "recipient country",
  recipientDetails: "recipient details",
  channel: "channel",
  description: "description",
};

interface PayoutLike {
  connectionId: string;
  amountMinor: bigint;
  currency: string;
  recipientPhone: string | null;
  recipientName: string | null;
  recipientAccount: string | null;
  recipientCountry: string | null;
  recipientDetails: unknown;
  channel: string | null;
  description: string;
}

/** The payload of a payout row, with details' keys sorted and empty values normalised to null. */
export function payoutPayload(payout: PayoutLike): PayoutPayload {
  const details =
    payout.recipientDetails && typeof payout.recipientDetails === "object" && !Array.isArray(payout.recipientDetails)
      ? Object.fromEntries(
          Object.entries(payout.recipientDetails as Record<string, unknown>)
            .filter(([, v]) => v !== null && v !== undefined && String(v) !== "")
            .map(([k, v]) => [k, String(v)] as const)
            .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : null;
  return {
    connectionId: payout.connectionId.toLowerCase(),
    amountMinor: payout.amountMinor.toString(),
    currency: payout.currency,
    recipientPhone: payout.recipientPhone || null,
    recipientName: payout.recipientName || null,
    recipientAccount: payout.recipientAccount || null,
    recipientCountry: payout.recipientCountry || null,
    recipientDetails: details && Object.keys(details).length > 0 ? details : null,
    channel: payout.channel || null,
    description: payout.description,
  };
}

/** The canonical text of a payload: fields in a fixed order, so equal payloads hash equal. */
export function canonicalPayloadText(payload: PayoutPayload): string {
  return JSON.stringify(PAYLOAD_FIELDS.map((field) => [field, payload[field]]));
}

/** sha256 (hex) of the canonical payload. */
export function payloadHash(payload: PayoutPayload): string {
  return createHash("sha256").update(canonicalPayloadText(payload)).digest("hex");
}

/** The fields whose values differ between two payloads, in the fixed order. */
export function changedPayloadFields(before: PayoutPayload, after: PayoutPayload): Array<keyof PayoutPayload> {
  return PAYLOAD_FIELDS.filter((field) => JSON.stringify(before[field]) !== JSON.stringify(after[field]));
}
