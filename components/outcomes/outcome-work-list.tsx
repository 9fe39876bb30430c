"use client";
// The "Outcome unknown" work page: every payout whose outcome the desk could
// not learn, longest in limbo first. Resolving happens on the payout's own
// page (the "Review" link), where the whole timeline and every provider call
// with its raw request and answer sit next to the resolution panel: a person
// deciding that money was or was not paid should have all the evidence in
// front of them, and the two-person rule means the second person lands there
// too. This page is the queue: what, how long, what the provider last said,
// whether someone has proposed an answer, and "check again now".
import Link from "next/link";
import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/client";
import { messageOf } from "@/components/trpc/errors";
import { Card, EmptyState, ErrorNote, Loading } from "@/components/ui/layout";
import { StatusBadge } from "@/components/ui/status-badge";
import { money, phone, when } from "@/components/payouts/format";
import { CheckNowButton } from "./check-now-button";
import { callSummary, duration, OUTCOME_WORDS, useNow } from "./format";
import type { OutcomeWorkItem } from "./types";

export function OutcomeWorkList() {
  const trpc = useTRPC();
  const list = useQuery(trpc.outcomes.list.queryOptions(undefined, { refetchInterval: 5_000 }));
  const now = useNow();
  if (list.isPending) return <Loading label="Loading payouts in limbo…" />;
  if (list.isError) return <ErrorNote>{messageOf(list.error)}</ErrorNote>;
  const { items, total, shown } = list.data;
  if (items.length === 0) {
    return (
      <Card>
        <EmptyState title="Nothing in limbo: every sent payout has a known outcome">
          A payout appears here when the desk sent it and could not learn the result, or when it is flagged for attention while in flight.
        </EmptyState>
      </Card>
    );
  }
  return (
    <>
      <p className="mb-3 text-sm text-slate-600" data-testid="outcome-work-count">
        {total === 1 ? "1 payout" : `${total} payouts`} in limbo{total > shown ? `; the ${shown} longest are shown` : ""}.
      </p>
      <ul className="space-y-3" data-testid="outcome-work-list">
        {items.map((item) => (
          <li key={item.payout.id}>
            <WorkItem item={item} now={now} />
          </li>
        ))}
      </ul>
    </>
  );
}

function WorkItem({ item, now }: { item: OutcomeWorkItem; now: Date }) {
  const { payout, lastCall, proposal } = item;
  const review = proposal?.state === "open" ? "Review the proposal" : item.canPropose ? "Review the calls and resolve" : "Review the calls";
  return (
    <Card className="p-4">
      <div className="flex flex-wrap items-start justify-between gap-4">
        <div className="min-w-0 space-y-1">
          <div className="flex flex-wrap items-center gap-2">
            <Link href={`/payouts/${payout.id}`} className="tabular text-base font-semibold text-indigo-700 hover:underline">
              {money(payout.amountMinor, payout.currency)}
            </Link>
            <StatusBadge status={payout.status} />
            {payout.status !== "unknown" && (
              <span className="rounded-md bg-orange-50 px-2 py-0.5 text-xs font-medium text-orange-800 ring-1 ring-inset ring-orange-600/30">
                {item.limboReason}
              </span>
            )}
          </div>
          <p className="text-sm text-slate-700 wrap-anywhere">
            to {payout.recipientName ? `${payout.recipientName}, ` : ""}
            {phone(payout.recipientPhone, payout.recipientAccount)} · {payout.description}
          </p>
          <p className="text-xs text-slate-500">
            {payout.connection.name}
            {payout.submittedAt ? ` · sent ${when(payout.submittedAt)}` : ""}
          </p>
        </div>
        <div className="text-right">
          <p className="text-sm font-semibold text-orange-800">In limbo for {duration(item.limboSince, now)}</p>
          <p className="text-xs text-slate-500">since {when(item.limboSince)}</p>
        </div>
      </div>

      <dl className="mt-3 grid gap-3 text-sm sm:grid-cols-2">
        <div className="min-w-0">
          <dt className="text-xs font-medium uppercase tracking-wide text-slate-500">Last provider answer</dt>
          <dd className="mt-0.5 text-slate-900 wrap-anywhere">
            {lastCall ? (
              <>
                <span className="font-mono text-xs">{callSummary(lastCall)}</span>
                {payout.providerStatus && <span className="ml-1 text-xs text-slate-600">({payout.providerStatus})</span>}
                <span className="block text-xs text-slate-500">{when(lastCall.at)}</span>
                {lastCall.error && <span className="block text-xs text-rose-700">{lastCall.error}</span>}
              </>
            ) : (
              "No call recorded"
            )}
          </dd>
        </div>
        <div>
          <dt className="text-xs font-medium uppercase tracking-wide text-slate-500">Next check by the desk</dt>
          <dd className="mt-0.5 text-slate-900">
            {payout.dueAt ? when(payout.dueAt) : "None scheduled"}
          </dd>
        </div>
      </dl>

      {proposal && (
        <p className="mt-3 rounded-md bg-slate-50 px-3 py-2 text-sm text-slate-800 ring-1 ring-inset ring-slate-200 wrap-anywhere" data-testid="outcome-proposal">
          {proposal.state === "moot" ? "Moot proposal" : "Proposed"}: mark {OUTCOME_WORDS[proposal.outcome]}
          {proposal.providerReference ? ` (provider reference ${proposal.providerReference})` : ""} by {proposal.proposedBy.name},{" "}
          {when(proposal.proposedAt)}.{" "}
          {proposal.state === "open" ? "Waiting for a second approver or admin." : proposal.mootBecause}
        </p>
      )}

      <div className="mt-3 flex flex-wrap items-center justify-between gap-3">
        {item.canCheckNow ? <CheckNowButton payoutId={payout.id} checkAgainAfter={item.checkAgainAfter} /> : <span />}
        <Link href={`/payouts/${payout.id}#resolution`} className="text-sm font-medium text-indigo-700 hover:underline">
          {review} →
        </Link>
      </div>
      {!item.resolvable && item.notResolvableBecause && <p className="mt-2 text-xs text-slate-500">{item.notResolvableBecause}</p>}
    </Card>
  );
}
