"use client";
// The payout page's approval block: the policy version the payout was
// created under (it keeps it), the rule it falls under, each level with who
// approved at it, and when the approval window ends.
import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/client";
import { messageOf } from "@/components/trpc/errors";
import { Card, ErrorNote } from "@/components/ui/layout";
import { ExpiresSoonBadge, ExpiryNote, LevelProgress, PolicyLine } from "./approval-facts";

export function ApprovalStanding({ payoutId, status }: { payoutId: string; status: string }) {
  const trpc = useTRPC();
  const waiting = status === "pending_approval";
  // Refreshed with the decisions others make while the page is open; a decided payout's record no longer moves.
  const card = useQuery(trpc.approvals.card.queryOptions({ payoutId }, { refetchInterval: waiting ? 10_000 : false }));
  if (card.isPending) return null;
  if (card.isError) return <ErrorNote>{messageOf(card.error)}</ErrorNote>;
  return (
    <Card className="p-5">
      <section aria-labelledby="approval-standing-heading" className="space-y-2" data-testid="approval-standing-card">
        <div className="flex items-center justify-between gap-2">
          <h2 id="approval-standing-heading" className="text-sm font-semibold text-slate-900">
            Approval
          </h2>
          <ExpiresSoonBadge card={card.data} />
        </div>
        <PolicyLine card={card.data} />
        {waiting || card.data.standing.levels.some((l) => l.approverIds.length > 0) ? (
          <LevelProgress card={card.data} />
        ) : (
          <p className="text-sm text-slate-600">No approvals stand for this payout{status === "rejected" ? ": it was rejected" : ""}.</p>
        )}
        <ExpiryNote card={card.data} />
      </section>
    </Card>
  );
}
