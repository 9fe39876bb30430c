// A payout's fields as the single payout form takes them: what a maker's edit
// starts from (components/payouts/edit-payout.tsx) and what "Copy as new
// payout" pre-fills (server/services/payout-copy.ts). Never the payout's id.
import { toDecimalString } from "./money";

export interface PayoutFormFields {
  connectionId: string;
  connectionName: string;
  channel: string | null;
  currency: string;
  /** Major units, plain ("15.00"). */
  amount: string;
  recipientPhone: string | null;
  recipientName: string | null;
  recipientAccount: string | null;
  recipientDetails: Record<string, string> | null;
  description: string;
}

export function payoutFormFields(payout: {
  connection: { id: string; name: string };
  channel: string | null;
  currency: string;
  amountMinor: bigint;
  recipientPhone: string | null;
  recipientName: string | null;
  recipientAccount: string | null;
  recipientDetails: unknown;
  description: string;
}): PayoutFormFields {
  return {
    connectionId: payout.connection.id,
    connectionName: payout.connection.name,
    channel: payout.channel,
    currency: payout.currency,
    amount: toDecimalString(payout.amountMinor, payout.currency),
    recipientPhone: payout.recipientPhone,
    recipientName: payout.recipientName,
    recipientAccount: payout.recipientAccount,
    recipientDetails: stringRecord(payout.recipientDetails),
    description: payout.description,
  };
}

function stringRecord(value: unknown): Record<string, string> | null {
  if (!value || typeof value !== "object" || Array.isArray(value)) return null;
  return Object.fromEntries(Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== null && v !== undefined).map(([k, v]) => [k, String(v)]));
}
