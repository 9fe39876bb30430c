// Approving in tests as an approver at the desk does: read the approval card
// first and acknowledge what it shows (approving past the available balance,
// likely duplicates), so suites that create many alike payouts (the same
// sandbox number and amount) approve them as a careful approver would.
// Tests of the acknowledgements themselves call the procedures directly.
import type { TestDesk } from "./desk";

type Caller = ReturnType<TestDesk["caller"]>;

/** Reads the payout's approval card, then approves acknowledging exactly what it asks for. */
export async function approveAsRead(caller: Caller, payoutId: string, reason?: string) {
  const card = await caller.approvals.card({ payoutId });
  return caller.approvals.approve({ payoutId, reason, acknowledge: { overBalance: card.needs.overBalance, duplicates: card.needs.duplicates } });
}

/** Previews the batch, then approves it acknowledging what each payout in it asks for. */
export async function approveManyAsRead(caller: Caller, payoutIds: string[]) {
  const preview = await caller.approvals.previewBatch({ payoutIds });
  return caller.approvals.approveMany({
    payoutIds,
    acknowledgements: preview.items.map((i) => ({ payoutId: i.payout.id, overBalance: i.needs.overBalance, duplicates: i.needs.duplicates })),
  });
}
