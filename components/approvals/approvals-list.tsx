"use client";
// The approvals queue: every payout waiting for approval, those whose window
// ends first on top, each with where it stands under its policy version, the
// money and likely duplicates, and what this person may do. Payouts this
// person may approve can be selected (one by one or all at once) and
// approved together after a review (batch-approval.tsx), with one step-up.
// A bulk file's payouts are not listed one by one: each batch is one card
// (batch-card.tsx) deciding on the whole batch, or chosen rows, at once.
import { useEffect, useMemo, useRef, useState } from "react";
import Link from "next/link";
import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/client";
import { messageOf } from "@/components/trpc/errors";
import { Button } from "@/components/ui/button";
import { Card, EmptyState, ErrorNote, Loading } from "@/components/ui/layout";
import { money, phone, when } from "@/components/payouts/format";
import { DuplicateWarning, ExpiresSoonBadge, ExpiryNote, LevelProgress, LiquidityFacts, PolicyLine } from "./approval-facts";
import { BatchReview } from "./batch-approval";
import { BatchCard, BatchDecisionNote } from "./batch-card";
import { DecisionForm } from "./decision-controls";
import type { ApprovalCard, BatchDecisionOutcome } from "./types";

export function ApprovalsList() {
  const trpc = useTRPC();
  const pending = useQuery(trpc.approvals.queue.queryOptions(undefined, { refetchInterval: 10_000 }));
  const cards = useMemo(() => pending.data?.singles ?? [], [pending.data]);
  const batches = pending.data?.batches ?? [];
  // Batch decisions made here, shown after their batch has left the queue.
  const [decided, setDecided] = useState<Array<{ outcome: BatchDecisionOutcome; fileName: string; at: number }>>([]);
  const notes =
    decided.length > 0 ? (
      <div className="space-y-2" data-testid="batch-decisions">
        {decided.map((d) => (
          <BatchDecisionNote key={d.at} outcome={d.outcome} fileName={d.fileName} />
        ))}
      </div>
    ) : null;

  if (pending.isPending) return <Loading label="Loading payouts waiting for approval…" />;
  if (pending.isError) return <ErrorNote>{messageOf(pending.error)}</ErrorNote>;
  if (cards.length === 0 && batches.length === 0) {
    return (
      <div className="space-y-4">
        {notes}
        <Card>
          <EmptyState title="Nothing is waiting for approval">New payouts appear here as makers create them.</EmptyState>
        </Card>
      </div>
    );
  }

  return (
    <div className="space-y-4">
      {notes}
      {batches.length > 0 && (
        <section aria-labelledby="batches-heading" className="space-y-3">
          <h2 id="batches-heading" className="text-sm font-semibold text-slate-900">
            Batches from bulk files ({batches.length})
          </h2>
          <ul className="space-y-3" data-testid="approval-batches">
            {batches.map((group) => (
              <li key={group.batch.id}>
                <BatchCard group={group} onDecided={(outcome, fileName) => setDecided((all) => [{ outcome, fileName, at: Date.now() }, ...all].slice(0, 3))} />
              </li>
            ))}
          </ul>
          {cards.length > 0 && <h2 className="pt-2 text-sm font-semibold text-slate-900">Single payouts ({cards.length})</h2>}
        </section>
      )}
      {cards.length > 0 && <SinglePayouts cards={cards} />}
    </div>
  );
}

/** The payouts made one at a time: a card each, selectable for one batch decision (batch-approval.tsx). */
function SinglePayouts({ cards }: { cards: ApprovalCard[] }) {
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [soonOnly, setSoonOnly] = useState(false);
  const [reviewing, setReviewing] = useState<string[] | null>(null);

  // A payout decided elsewhere (or no longer approvable by this person) leaves the selection.
  useEffect(() => {
    const approvable = new Set(cards.filter((c) => c.approve.ok).map((c) => c.payout.id));
    setSelected((current) => {
      const kept = new Set([...current].filter((id) => approvable.has(id)));
      return kept.size === current.size ? current : kept;
    });
  }, [cards]);

  const expiringSoon = cards.filter((c) => c.expiresSoon);
  const shown = soonOnly ? expiringSoon : cards;
  const approvable = shown.filter((c) => c.approve.ok);
  const chosen = cards.filter((c) => selected.has(c.payout.id));
  const allChosen = approvable.length > 0 && approvable.every((c) => selected.has(c.payout.id));
  const someChosen = approvable.some((c) => selected.has(c.payout.id));

  const toggle = (id: string, on: boolean) =>
    setSelected((current) => {
      const next = new Set(current);
      if (on) next.add(id);
      else next.delete(id);
      return next;
    });

  return (
    <div className="space-y-4">
      {expiringSoon.length > 0 && (
        <div className="flex flex-wrap items-center justify-between gap-3 rounded-md bg-rose-50 px-4 py-3 text-sm text-rose-900 ring-1 ring-inset ring-rose-200" data-testid="expiring-soon">
          <p>
            <span className="font-semibold">
              {expiringSoon.length} payout{expiringSoon.length === 1 ? "" : "s"} expire{expiringSoon.length === 1 ? "s" : ""} within 24 hours
            </span>{" "}
            if not fully approved by then; the maker would have to create {expiringSoon.length === 1 ? "it" : "them"} again.
          </p>
          <Button variant="secondary" aria-pressed={soonOnly} onClick={() => setSoonOnly((v) => !v)}>
            {soonOnly ? "Show all waiting" : "Show only these"}
          </Button>
        </div>
      )}

      <BatchBar
        cards={chosen}
        approvableCount={approvable.length}
        allChosen={allChosen}
        someChosen={someChosen}
        onSelectAll={(on) =>
          setSelected((current) => {
            const next = new Set(current);
            for (const c of approvable) {
              if (on) next.add(c.payout.id);
              else next.delete(c.payout.id);
            }
            return next;
          })
        }
        onReview={() => setReviewing(chosen.map((c) => c.payout.id))}
        onClear={() => setSelected(new Set())}
      />

      {reviewing && (
        <BatchReview
          key={reviewing.join(",")}
          payoutIds={reviewing}
          onClose={() => setReviewing(null)}
          onDone={() => {
            setSelected(new Set());
          }}
        />
      )}

      <ul className="space-y-3" data-testid="approvals-list">
        {shown.map((card) => (
          <li key={card.payout.id}>
            <QueueCard card={card} selected={selected.has(card.payout.id)} onSelect={(on) => toggle(card.payout.id, on)} />
          </li>
        ))}
      </ul>
    </div>
  );
}

/** Selection, its count and totals per currency, and the way to the batch review. */
function BatchBar({
  cards,
  approvableCount,
  allChosen,
  someChosen,
  onSelectAll,
  onReview,
  onClear,
}: {
  cards: ApprovalCard[];
  approvableCount: number;
  allChosen: boolean;
  someChosen: boolean;
  onSelectAll: (on: boolean) => void;
  onReview: () => void;
  onClear: () => void;
}) {
  const all = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (all.current) all.current.indeterminate = someChosen && !allChosen;
  }, [someChosen, allChosen]);
  const totals = new Map<string, bigint>();
  for (const c of cards) totals.set(c.payout.currency, (totals.get(c.payout.currency) ?? 0n) + c.payout.amountMinor);
  if (approvableCount === 0 && cards.length === 0) {
    return <p className="text-sm text-slate-600">None of these is yours to approve now; each says why below.</p>;
  }
  return (
    <Card className="flex flex-wrap items-center justify-between gap-3 px-4 py-3">
      <label className="flex items-center gap-2 text-sm font-medium text-slate-800">
        <input
          ref={all}
          type="checkbox"
          className="h-4 w-4 rounded border-slate-300 text-indigo-600 focus:ring-indigo-600"
          checked={allChosen}
          onChange={(e) => onSelectAll(e.target.checked)}
          disabled={approvableCount === 0}
          data-testid="select-all"
        />
        Select all you can approve ({approvableCount})
      </label>
      <div className="flex flex-wrap items-center gap-3" aria-live="polite">
        {cards.length > 0 ? (
          <>
            <p className="text-sm text-slate-800" data-testid="batch-summary">
              <span className="font-semibold">{cards.length} selected</span>
              {": "}
              <span className="tabular">{[...totals].sort(([a], [b]) => a.localeCompare(b)).map(([currency, sum]) => money(sum, currency)).join(" · ")}</span>
            </p>
            <Button onClick={onReview} data-testid="review-batch">
              Review and approve {cards.length}…
            </Button>
            <Button variant="ghost" onClick={onClear}>
              Clear
            </Button>
          </>
        ) : (
          <p className="text-sm text-slate-600">Select payouts to approve several at once with one code.</p>
        )}
      </div>
    </Card>
  );
}

function QueueCard({ card, selected, onSelect }: { card: ApprovalCard; selected: boolean; onSelect: (on: boolean) => void }) {
  const { payout } = card;
  const checkboxId = `select-${payout.id}`;
  return (
    <Card className={`p-4 ${selected ? "ring-2 ring-indigo-500" : ""}`}>
      <div className="flex flex-wrap items-start justify-between gap-4">
        <div className="flex min-w-0 flex-1 gap-3">
          <div className="pt-1">
            <input
              id={checkboxId}
              type="checkbox"
              className="h-4 w-4 rounded border-slate-300 text-indigo-600 focus:ring-indigo-600 disabled:opacity-40"
              checked={selected}
              onChange={(e) => onSelect(e.target.checked)}
              disabled={!card.approve.ok}
              aria-label={`Select ${money(payout.amountMinor, payout.currency)} to ${payout.recipientName ?? phone(payout.recipientPhone, payout.recipientAccount)}`}
              title={card.approve.ok ? "Select for a batch approval" : card.approve.message}
            />
          </div>
          <div className="min-w-0 space-y-1.5">
            <div className="flex flex-wrap items-center gap-2">
              <Link href={`/payouts/${payout.id}`} className="tabular text-base font-semibold text-indigo-700 hover:underline">
                {money(payout.amountMinor, payout.currency)}
              </Link>
              <ExpiresSoonBadge card={card} />
            </div>
            {/* Text people typed wraps anywhere: an unbroken paste must not widen the list. */}
            <p className="text-sm text-slate-700 wrap-anywhere">
              to {payout.recipientName ? `${payout.recipientName}, ` : ""}
              {phone(payout.recipientPhone, payout.recipientAccount)} · {payout.description}
            </p>
            <p className="text-xs text-slate-500 wrap-anywhere">
              {payout.connection.name} · created {when(payout.createdAt)} by {payout.createdBy.name}
            </p>
            <PolicyLine card={card} />
            <LevelProgress card={card} compact />
            <ExpiryNote card={card} />
            <LiquidityFacts card={card} />
            <DuplicateWarning card={card} />
          </div>
        </div>
        <div className="w-full sm:w-80">
          <DecisionForm card={card} compact />
        </div>
      </div>
    </Card>
  );
}
