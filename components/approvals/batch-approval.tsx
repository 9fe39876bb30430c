"use client";
// The batch review: what approving the selected payouts together would do,
// as the server works it out (approvals.previewBatch: each payout's level,
// or why it cannot be approved; the acknowledgements each needs, counting
// the batch's earlier payouts against the balance; totals per currency),
// then one approval of them all behind one step-up.
import { useEffect, useRef, useState } from "react";
import Link from "next/link";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/client";
import { fieldErrorsOf, messageOf } from "@/components/trpc/errors";
import { useStepUp } from "@/components/auth/step-up";
import { Button } from "@/components/ui/button";
import { Card, ErrorNote, Loading } from "@/components/ui/layout";
import { money, phone } from "@/components/payouts/format";
import { AcknowledgementChecks, DuplicateWarning, LiquidityFacts } from "./approval-facts";
import { acknowledged, NO_ACK, needsAcknowledgement, type AckState, type BatchResult } from "./types";

export function BatchReview({ payoutIds, onClose, onDone }: { payoutIds: string[]; onClose: () => void; onDone: () => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const stepUp = useStepUp();
  const heading = useRef<HTMLHeadingElement>(null);
  const preview = useQuery(trpc.approvals.previewBatch.queryOptions({ payoutIds }, { staleTime: 0 }));
  const approveMany = useMutation(trpc.approvals.approveMany.mutationOptions({ onSuccess: () => queryClient.invalidateQueries() }));
  const [acks, setAcks] = useState<Record<string, AckState>>({});
  const [result, setResult] = useState<BatchResult | null>(null);

  useEffect(() => heading.current?.focus(), []);
  const errors = fieldErrorsOf(approveMany.error);

  async function confirm(ids: string[]) {
    try {
      const done = await stepUp.run(() =>
        approveMany.mutateAsync({
          payoutIds: ids,
          acknowledgements: ids.map((id) => ({ payoutId: id, overBalance: acks[id]?.overBalance ?? false, duplicates: acks[id]?.duplicates ?? [] })),
        }),
      );
      setResult(done);
      onDone();
    } catch {
      // Field errors show beside each payout; anything else below.
    }
  }

  return (
    <Card className="p-5">
      <section
        aria-labelledby="batch-review-heading"
        className="space-y-4"
        data-testid="batch-review"
        onKeyDown={(e) => {
          if (e.key === "Escape") onClose();
        }}
      >
        {stepUp.dialog}
        <div className="flex items-start justify-between gap-3">
          <h2 id="batch-review-heading" ref={heading} tabIndex={-1} className="text-base font-semibold text-slate-900 focus:outline-none">
            {result ? "Batch approval done" : `Approve ${payoutIds.length} payout${payoutIds.length === 1 ? "" : "s"} together`}
          </h2>
          <Button variant="ghost" onClick={onClose}>
            Close
          </Button>
        </div>

        {result ? (
          <BatchOutcome result={result} />
        ) : preview.isPending ? (
          <Loading label="Checking each payout under its policy…" />
        ) : preview.isError ? (
          <ErrorNote>{messageOf(preview.error)}</ErrorNote>
        ) : (
          (() => {
            const { items, totals } = preview.data;
            const going = items.filter((i) => i.approve.ok);
            const skipped = items.filter((i) => !i.approve.ok);
            const asking = going.filter((i) => needsAcknowledgement(i));
            const ready = going.length > 0 && going.every((i) => acknowledged(i, acks[i.payout.id] ?? NO_ACK));
            const completing = going.filter((i) => i.approve.ok && i.approve.completes).length;
            return (
              <>
                <div className="text-sm text-slate-800" data-testid="batch-totals">
                  <p>
                    <span className="font-semibold">{going.length}</span> to approve:{" "}
                    {totals.map((t) => `${t.count} × ${t.currency}, ${money(t.amountMinor, t.currency)}`).join(" · ") || "none"}.
                  </p>
                  <p className="text-slate-600">
                    {completing} become{completing === 1 ? "s" : ""} approved and will be sent; {going.length - completing} wait{going.length - completing === 1 ? "s" : ""} for a further level after yours.
                  </p>
                </div>

                {skipped.length > 0 && (
                  <div>
                    <h3 className="text-xs font-semibold uppercase tracking-wide text-slate-500">Left out ({skipped.length})</h3>
                    <ul className="mt-1 space-y-1 text-sm">
                      {skipped.map((i) => (
                        <li key={i.payout.id} className="wrap-anywhere text-slate-700">
                          <Link href={`/payouts/${i.payout.id}`} className="font-medium text-indigo-700 hover:underline">
                            {money(i.payout.amountMinor, i.payout.currency)}
                          </Link>{" "}
                          to {phone(i.payout.recipientPhone, i.payout.recipientAccount)}: {i.approve.ok ? "" : i.approve.message}
                        </li>
                      ))}
                    </ul>
                  </div>
                )}

                {asking.length > 0 && (
                  <div className="space-y-3">
                    <h3 className="text-xs font-semibold uppercase tracking-wide text-slate-500">To acknowledge ({asking.length})</h3>
                    <p className="text-xs text-slate-600">Counted in this batch&apos;s order: each payout&apos;s &ldquo;after&rdquo; includes the ones above it that this batch approves.</p>
                    <ul className="space-y-3">
                      {asking.map((i) => (
                        <li key={i.payout.id} className="space-y-2 rounded-md border border-slate-200 p-3">
                          <p className="text-sm font-medium text-slate-900">
                            <Link href={`/payouts/${i.payout.id}`} className="text-indigo-700 hover:underline">
                              {money(i.payout.amountMinor, i.payout.currency)}
                            </Link>{" "}
                            to {i.payout.recipientName ? `${i.payout.recipientName}, ` : ""}
                            {phone(i.payout.recipientPhone, i.payout.recipientAccount)}
                          </p>
                          {i.needs.overBalance && <LiquidityFacts card={i} />}
                          <DuplicateWarning card={i} />
                          <AcknowledgementChecks
                            card={i}
                            value={acks[i.payout.id] ?? NO_ACK}
                            onChange={(next) => setAcks((all) => ({ ...all, [i.payout.id]: next }))}
                            errors={{
                              overBalance: errors[`acknowledgements.${i.payout.id}.overBalance`],
                              duplicates: errors[`acknowledgements.${i.payout.id}.duplicates`],
                            }}
                            idPrefix={`batch-${i.payout.id}`}
                          />
                        </li>
                      ))}
                    </ul>
                  </div>
                )}

                {approveMany.error && Object.keys(errors).length === 0 && <ErrorNote>{messageOf(approveMany.error)}</ErrorNote>}
                {approveMany.error && Object.keys(errors).length > 0 && (
                  <ErrorNote>Nothing was approved: some acknowledgements are missing or out of date (each is named above). Tick them and approve again.</ErrorNote>
                )}
                <div className="flex flex-wrap items-center gap-3">
                  <Button onClick={() => void confirm(going.map((i) => i.payout.id))} busy={approveMany.isPending} disabled={!ready} data-testid="approve-batch">
                    Approve {going.length} with one code
                  </Button>
                  {!ready && going.length > 0 && <span className="text-xs text-slate-600">Tick every acknowledgement above first.</span>}
                  <Button variant="ghost" onClick={onClose}>
                    Cancel
                  </Button>
                </div>
              </>
            );
          })()
        )}
      </section>
    </Card>
  );
}

function BatchOutcome({ result }: { result: BatchResult }) {
  return (
    <div className="space-y-2 text-sm" role="status" data-testid="batch-outcome">
      <p className="text-emerald-800">
        {result.approved.length} approved and due for sending; {result.awaitingMore.length} approved at your level, waiting for the next.
      </p>
      {result.refused.length > 0 && (
        <div>
          <p className="font-medium text-slate-900">Not approved ({result.refused.length}):</p>
          <ul className="mt-1 space-y-1">
            {result.refused.map((r) => (
              <li key={r.payoutId} className="wrap-anywhere text-slate-700">
                <Link href={`/payouts/${r.payoutId}`} className="font-mono text-indigo-700 hover:underline">
                  {r.payoutId.slice(0, 8)}
                </Link>
                : {r.reason}
              </li>
            ))}
          </ul>
        </div>
      )}
    </div>
  );
}
