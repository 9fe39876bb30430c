// Approvals expire: a payout not fully approved by the end of its approval
// window (set at creation from its policy version) ends `expired`, with an
// event and an audit entry. Run by the sweeper in every worker process; its
// writes are guarded (only from pending_approval, rows locked in id order),
// so several at once are harmless, and an approval that lands first wins.
// Kept apart from approvals.ts so the sweeper needs nothing but this.
import type { Db } from "./types";
import { auditMany } from "./audit";
import { changeStatusManyInTx } from "./payout-status";

/** Payouts expired per transaction: bounded so one sweep never holds many rows at once. */
const EXPIRE_CHUNK = 200;

/** Expires every payout whose approval window ended by `now`; answers how many it expired. */
export async function expireOverdueApprovals(db: Db, now: Date = new Date()): Promise<number> {
  let expired = 0;
  let after = "00000000-0000-0000-0000-000000000000";
  for (;;) {
    // Keyset over ids, so payouts another process decided meanwhile are passed over, not read again.
    const due = await db.payout.findMany({
      where: { status: "pending_approval", approvalExpiresAt: { lte: now }, id: { gt: after } },
      orderBy: { id: "asc" },
      take: EXPIRE_CHUNK,
      select: { id: true, policyVersion: true, approvalExpiresAt: true },
    });
    if (due.length === 0) break;
    after = due.at(-1)!.id;
    expired += await db.$transaction(async (tx) => {
      const moved = await changeStatusManyInTx(
        tx,
        due.map((p) => p.id),
        {
          to: "expired",
          from: ["pending_approval"],
          source: "system",
          note: "Not fully approved by the end of its approval window: expired. The maker may create it again",
        },
      );
      const changed = new Set(moved.changed);
      // The audit entries are the transaction's last write (see audit.ts).
      await auditMany(
        tx,
        due
          .filter((p) => changed.has(p.id))
          .map((p) => ({
            actorId: null,
            action: "payout.expire",
            entityType: "payout",
            entityId: p.id,
            details: { policyVersion: p.policyVersion ?? 1, approvalExpiresAt: p.approvalExpiresAt!.toISOString() },
          })),
      );
      return changed.size;
    });
    if (due.length < EXPIRE_CHUNK) break;
  }
  if (expired > 0) console.warn(`[jobs] ${expired} payout(s) not fully approved within their approval window: expired`);
  return expired;
}
