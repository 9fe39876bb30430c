"use client";
// Approve (with the acknowledgements the card asks for) or reject with a
// reason, each behind step-up (a fresh second-factor code). What is offered
// follows the server's judgement of this payout for this person (its policy
// version, the level waiting, the money); the server checks it all again.
import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/client";
import { fieldErrorsOf, messageOf } from "@/components/trpc/errors";
import { useStepUp } from "@/components/auth/step-up";
import { Button } from "@/components/ui/button";
import { ErrorNote, Loading } from "@/components/ui/layout";
import { controlClass } from "@/components/ui/field";
import { AcknowledgementChecks, DuplicateWarning, LiquidityFacts } from "./approval-facts";
import { acknowledged, NO_ACK, type AckState, type ApprovalCard } from "./types";

/** On the payout page: loads the payout's approval card, then the controls. */
export function DecisionControls({ payoutId }: { payoutId: string }) {
  const trpc = useTRPC();
  const card = useQuery(trpc.approvals.card.queryOptions({ payoutId }, { refetchInterval: 15_000 }));
  if (card.isPending) return <Loading label="Checking what you may decide…" />;
  if (card.isError) return <ErrorNote>{messageOf(card.error)}</ErrorNote>;
  return (
    <div className="space-y-3">
      <DuplicateWarning card={card.data} />
      <LiquidityFacts card={card.data} />
      <DecisionForm card={card.data} />
    </div>
  );
}

/** The acknowledgements and the two decisions for one card (the queue shows the facts itself). */
export function DecisionForm({ card, compact = false }: { card: ApprovalCard; compact?: boolean }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const stepUp = useStepUp();
  const [rejecting, setRejecting] = useState(false);
  const [reason, setReason] = useState("");
  const [ack, setAck] = useState<AckState>(NO_ACK);
  const [outcome, setOutcome] = useState<string | null>(null);
  const onSuccess = () => queryClient.invalidateQueries();
  const approve = useMutation(trpc.approvals.approve.mutationOptions({ onSuccess }));
  const reject = useMutation(trpc.approvals.reject.mutationOptions({ onSuccess }));
  const error = approve.error ?? reject.error;
  const approveErrors = fieldErrorsOf(approve.error);
  const ackErrors = { overBalance: approveErrors["acknowledge.overBalance"], duplicates: approveErrors["acknowledge.duplicates"] };
  const reasonError = fieldErrorsOf(reject.error).reason;
  const payoutId = card.payout.id;
  const idPrefix = `decision-${payoutId}`;

  const canApprove = card.approve.ok;
  const canReject = card.rejectBlockedBecause === null;
  if (!canApprove && !canReject) {
    return (
      <p className="text-sm text-slate-600 wrap-anywhere" data-testid="decision-blocked">
        {card.approve.ok ? card.rejectBlockedBecause : card.approve.message}
      </p>
    );
  }

  async function doApprove() {
    setOutcome(null);
    try {
      const result = await stepUp.run(() =>
        approve.mutateAsync({ payoutId, acknowledge: { overBalance: ack.overBalance, duplicates: ack.duplicates } }),
      );
      setOutcome(result.status === "approved" ? "Approved: it will be sent now." : `Approved at level ${result.level}; it waits for the next level.`);
    } catch {
      // Shown from the mutation's error below (or the step-up dialog was closed).
    }
  }

  async function doReject() {
    setOutcome(null);
    try {
      await stepUp.run(() => reject.mutateAsync({ payoutId, reason }));
    } catch {
      // Shown beside the reason.
    }
  }

  const ready = acknowledged(card, ack);
  const ackFieldErrors = Boolean(ackErrors.overBalance || ackErrors.duplicates);
  return (
    <div className={compact ? "space-y-2" : "space-y-3"}>
      {stepUp.dialog}
      {error && !reasonError && !ackFieldErrors && <ErrorNote>{messageOf(error)}</ErrorNote>}
      {outcome && (
        <p role="status" className="text-sm text-emerald-800">
          {outcome}
        </p>
      )}
      {rejecting ? (
        <form
          className="flex w-full flex-col gap-2"
          onSubmit={(e) => {
            e.preventDefault();
            void doReject();
          }}
        >
          <label className="text-sm font-medium text-slate-800" htmlFor={`${idPrefix}-reason`}>
            Reason for rejecting
          </label>
          <textarea
            id={`${idPrefix}-reason`}
            className={controlClass}
            rows={2}
            value={reason}
            onChange={(e) => setReason(e.target.value)}
            autoFocus
            aria-invalid={Boolean(reasonError)}
            aria-describedby={reasonError ? `${idPrefix}-reason-error` : undefined}
            name="reason"
          />
          {reasonError && (
            <p id={`${idPrefix}-reason-error`} className="text-sm text-rose-700 wrap-anywhere">
              {reasonError}
            </p>
          )}
          <div className="flex gap-2">
            <Button type="submit" variant="danger" busy={reject.isPending}>
              Reject payout
            </Button>
            <Button type="button" variant="ghost" onClick={() => setRejecting(false)}>
              Back
            </Button>
          </div>
        </form>
      ) : (
        <>
          {canApprove && <AcknowledgementChecks card={card} value={ack} onChange={setAck} errors={ackErrors} idPrefix={idPrefix} />}
          {!canApprove && !card.approve.ok && (
            <p className="text-sm text-slate-600 wrap-anywhere" data-testid="decision-blocked">
              {card.approve.message}
            </p>
          )}
          <div className="flex flex-wrap items-center gap-2">
            {canApprove && card.approve.ok && (
              <Button onClick={() => void doApprove()} busy={approve.isPending} disabled={!ready} aria-describedby={ready ? undefined : `${idPrefix}-why`}>
                {card.approve.completes ? "Approve" : `Approve at level ${card.approve.level}`}
              </Button>
            )}
            {canReject && (
              <Button variant="secondary" onClick={() => setRejecting(true)}>
                Reject…
              </Button>
            )}
            {canApprove && !ready && (
              <span id={`${idPrefix}-why`} className="text-xs text-slate-600">
                Tick the acknowledgements above to approve.
              </span>
            )}
          </div>
        </>
      )}
    </div>
  );
}
