"use client";
import Link from "next/link";
import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/client";
import { messageOf } from "@/components/trpc/errors";
import { Card, EmptyState, ErrorNote, Loading } from "@/components/ui/layout";
import { money, phone, when } from "@/components/payouts/format";
import { DecisionControls } from "./decision-controls";

export function ApprovalsList() {
  const trpc = useTRPC();
  const pending = useQuery(trpc.approvals.pending.queryOptions(undefined, { refetchInterval: 10_000 }));
  if (pending.isPending) return <Loading label="Loading payouts waiting for approval…" />;
  if (pending.isError) return <ErrorNote>{messageOf(pending.error)}</ErrorNote>;
  if (pending.data.length === 0) {
    return (
      <Card>
        <EmptyState title="Nothing is waiting for approval">New payouts appear here as makers create them.</EmptyState>
      </Card>
    );
  }
  return (
    <ul className="space-y-3" data-testid="approvals-list">
      {pending.data.map(({ payout, canDecide, blockedBecause }) => (
        <li key={payout.id}>
          <Card className="flex flex-wrap items-start justify-between gap-4 p-4">
            <div className="min-w-0">
              <Link href={`/payouts/${payout.id}`} className="tabular text-base font-semibold text-indigo-700 hover:underline">
                {money(payout.amountMinor, payout.currency)}
              </Link>
              {/* Text people typed wraps anywhere: an unbroken paste must not widen the list. */}
              <p className="text-sm text-slate-700 wrap-anywhere">
                to {payout.recipientName ? `${payout.recipientName}, ` : ""}
                {phone(payout.recipientPhone, payout.recipientAccount)} · {payout.description}
              </p>
              <p className="text-xs text-slate-500 wrap-anywhere">
                {payout.connection.name} · created {when(payout.createdAt)} by {payout.createdBy.name}
              </p>
            </div>
            <div className="w-full max-w-sm sm:w-auto">
              {canDecide ? (
                <DecisionControls payoutId={payout.id} compact />
              ) : (
                <p className="text-sm text-slate-500 wrap-anywhere" data-testid="decision-blocked">
                  {blockedBecause}
                </p>
              )}
            </div>
          </Card>
        </li>
      ))}
    </ul>
  );
}
