// "Copy as new payout" (issue 10): a failed payout's fields, loaded on the
// server for a maker, to pre-fill the single payout form
// (/payouts/new?copy=<id>). The maker reviews and submits as usual: the new
// payout gets its own id from the form, so never the failed one's
// idempotency key (the payout id is what providers deduplicate on), and goes
// through the same checks and approval as any other.
import { payoutFormFields, type PayoutFormFields } from "@/server/domain/payout-form-fields";
import { Conflict, Forbidden, NotFound } from "./errors";
import type { Actor, Desk } from "./types";

/** The form's fields (PayoutFormPrefill in components/payouts/payout-form.tsx). Deliberately no `id`. */
export type PayoutCopy = PayoutFormFields & { copiedFromId: string };

/** Statuses a payout may be copied from: it ended without paying, and the provider said so. */
export const COPYABLE_STATUSES = ["failed"] as const;

export async function payoutCopy(desk: Desk, actor: Actor, id: string): Promise<PayoutCopy> {
  if (actor.role !== "maker") throw new Forbidden(`Only makers create payouts, so only makers copy one; you are ${actor.role}`, "payouts.copy.role");
  const payout = await desk.db.payout.findUnique({ where: { id }, include: { connection: { select: { id: true, name: true } } } });
  if (!payout) throw new NotFound("Payout");
  if (!(COPYABLE_STATUSES as readonly string[]).includes(payout.status)) {
    throw new Conflict(`Only a failed payout is copied as a new one; this one is ${payout.status.replaceAll("_", " ")}`);
  }
  return { copiedFromId: payout.id, ...payoutFormFields(payout) };
}
