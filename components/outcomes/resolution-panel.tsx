"use client";
// The resolution panel on a payout's page: shown while the payout is in limbo
// (and afterwards, when it has proposals, as their record). It sits beside the
// timeline and the provider calls, so whoever proposes or approves an outcome
// has every request and answer in front of them. Every rule is the server's
// (server/services/outcomes.ts); this only shows what the server allows.
import { useEffect, useRef, useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/client";
import { fieldErrorsOf, messageOf } from "@/components/trpc/errors";
import { Button } from "@/components/ui/button";
import { Field } from "@/components/ui/field";
import { Card, ErrorNote } from "@/components/ui/layout";
import { when } from "@/components/payouts/format";
import { CheckNowButton } from "./check-now-button";
import { duration, OUTCOME_WORDS, useNow } from "./format";
import type { Proposal } from "./types";

const STATE_WORDS: Record<Proposal["state"], string> = {
  open: "Waiting for a second person",
  moot: "Moot",
  approved: "Approved",
  rejected: "Rejected",
  withdrawn: "Withdrawn",
};

export function ResolutionPanel({ payoutId }: { payoutId: string }) {
  const trpc = useTRPC();
  const query = useQuery(
    trpc.outcomes.forPayout.queryOptions({ payoutId }, { refetchInterval: (q) => (q.state.data?.inLimbo ? 5_000 : false) }),
  );
  const now = useNow();
  const shown = Boolean(query.data && (query.data.inLimbo || query.data.proposals.length > 0));
  useScrollIntoViewOnce(shown);
  // Nothing to add to the page while it loads or for a payout that never was in limbo.
  if (query.isPending) return null;
  if (query.isError) return <ErrorNote>{messageOf(query.error)}</ErrorNote>;
  const data = query.data;
  if (!data.inLimbo && data.proposals.length === 0) return null;
  // Undecided proposals (the open one, and moot ones still to be withdrawn or rejected) as cards; decided ones as a record.
  const undecided = data.proposals.filter((p) => p.state === "open" || p.state === "moot");
  const past = data.proposals.filter((p) => !undecided.includes(p));
  const hasOpen = undecided.some((p) => p.state === "open");

  return (
    <Card className="p-5">
      <section id="resolution" aria-labelledby="resolution-heading" className="space-y-4" data-testid="resolution-panel">
        <h2 id="resolution-heading" className="text-sm font-semibold text-slate-900">
          {data.inLimbo ? "Outcome unknown" : "Resolution proposals"}
        </h2>
        {data.inLimbo && data.limboSince && (
          <p className="text-sm text-slate-700">
            <span className="font-medium text-orange-800">
              {data.limboReason} for {duration(data.limboSince, now)}
            </span>{" "}
            (since {when(data.limboSince)}). The desk keeps asking the provider
            {data.dueAt ? `; next check ${when(data.dueAt)}` : ""}. Every call and answer is listed under Provider calls.
          </p>
        )}
        {data.inLimbo && data.canCheckNow && <CheckNowButton payoutId={payoutId} checkAgainAfter={data.checkAgainAfter} />}

        {undecided.map((p) => (
          <ProposalCard key={p.id} proposal={p} />
        ))}
        {data.canPropose && <ProposeForm payoutId={payoutId} currentReference={data.providerReference} />}
        {!hasOpen && !data.canPropose && data.inLimbo && data.proposeBlockedBecause && (
          <p className="text-sm text-slate-600" data-testid="resolve-blocked">
            {data.proposeBlockedBecause}
          </p>
        )}

        {past.length > 0 && (
          <div>
            <h3 className="text-xs font-medium uppercase tracking-wide text-slate-500">Earlier proposals</h3>
            <ul className="mt-1 space-y-2 text-sm">
              {past.map((p) => (
                <li key={p.id} className="wrap-anywhere text-slate-700">
                  <ProposalLine proposal={p} />
                  <span className="block text-xs text-slate-500">
                    {STATE_WORDS[p.state]}
                    {p.decidedBy ? ` by ${p.decidedBy.name}` : ""}
                    {p.decidedAt ? `, ${when(p.decidedAt)}` : ""}
                    {p.decisionNote ? `: “${p.decisionNote}”` : ""}
                  </span>
                </li>
              ))}
            </ul>
          </div>
        )}
      </section>
    </Card>
  );
}

/**
 * The work page links here as /payouts/<id>#resolution; the panel appears only
 * once its data has loaded, after the browser looked for the anchor, so
 * scroll to it then (once, so a refetch never yanks the page).
 */
function useScrollIntoViewOnce(shown: boolean) {
  const done = useRef(false);
  useEffect(() => {
    if (!shown || done.current) return;
    done.current = true;
    if (window.location.hash === "#resolution") document.getElementById("resolution")?.scrollIntoView({ block: "start" });
  }, [shown]);
}

function ProposalLine({ proposal }: { proposal: Proposal }) {
  return (
    <>
      <span className="font-medium">Mark {OUTCOME_WORDS[proposal.outcome]}</span>
      {proposal.providerReference && <> (provider reference <span className="font-mono text-xs">{proposal.providerReference}</span>)</>}, proposed by{" "}
      {proposal.proposedBy.name}, {when(proposal.proposedAt)}: “{proposal.note}”
    </>
  );
}

/** The open (or moot) proposal, with what this person may do about it. */
function ProposalCard({ proposal }: { proposal: Proposal }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [note, setNote] = useState("");
  const onSuccess = () => {
    setNote("");
    return queryClient.invalidateQueries();
  };
  const approve = useMutation(trpc.outcomes.approve.mutationOptions({ onSuccess }));
  const reject = useMutation(trpc.outcomes.reject.mutationOptions({ onSuccess }));
  const withdraw = useMutation(trpc.outcomes.withdraw.mutationOptions({ onSuccess }));
  const error = approve.error ?? reject.error ?? withdraw.error;
  const noteError = fieldErrorsOf(error).note;
  const busy = approve.isPending || reject.isPending || withdraw.isPending;
  const decides = proposal.canApprove || proposal.canReject || proposal.canWithdraw;
  const word = OUTCOME_WORDS[proposal.outcome];

  return (
    <div className="space-y-3 rounded-md bg-slate-50 p-3 ring-1 ring-inset ring-slate-200" data-testid="open-proposal" data-state={proposal.state}>
      <p className="text-sm text-slate-800 wrap-anywhere">
        <ProposalLine proposal={proposal} />
      </p>
      {proposal.state === "open" ? (
        <p className="text-sm text-slate-600">Waiting for a second approver or admin. The payout&apos;s status changes only when they approve.</p>
      ) : (
        <p className="text-sm text-amber-800">{proposal.mootBecause}</p>
      )}
      {proposal.approveBlockedBecause && (
        <p className="text-sm text-slate-600" data-testid="approve-blocked">
          {proposal.approveBlockedBecause}
        </p>
      )}
      {proposal.state === "open" && proposal.outcome === "failed" && proposal.canApprove && (
        <p className="text-sm text-rose-800">
          Approve only if you too have confirmed with the provider that it failed and will not be paid.
        </p>
      )}
      {error && !noteError && <ErrorNote>{messageOf(error)}</ErrorNote>}
      {decides && (
        <>
          <Field label="Your note" error={noteError} hint={`${proposal.canReject ? "Required to reject; the proposer will see it. " : ""}${note.length.toLocaleString("en")} / 500 characters.`}>
            {(props) => <textarea {...props} rows={2} value={note} onChange={(e) => setNote(e.target.value)} name="decisionNote" />}
          </Field>
          <div className="flex flex-wrap gap-2">
            {proposal.canApprove && (
              <Button
                variant={proposal.outcome === "failed" ? "danger" : "primary"}
                busy={approve.isPending}
                disabled={busy}
                onClick={() => {
                  if (window.confirm(`Approve: mark this payout ${word}? Its status changes now and is final.`)) {
                    approve.mutate({ resolutionId: proposal.id, note: note || null });
                  }
                }}
              >
                Approve: mark {word}
              </Button>
            )}
            {proposal.canReject && (
              <Button variant="secondary" busy={reject.isPending} disabled={busy} onClick={() => reject.mutate({ resolutionId: proposal.id, note })}>
                Reject proposal
              </Button>
            )}
            {proposal.canWithdraw && (
              <Button variant="ghost" busy={withdraw.isPending} disabled={busy} onClick={() => withdraw.mutate({ resolutionId: proposal.id, note: note || null })}>
                Withdraw my proposal
              </Button>
            )}
          </div>
        </>
      )}
    </div>
  );
}

/** Propose an outcome. Nothing changes until a different approver or admin approves it. */
function ProposeForm({ payoutId, currentReference }: { payoutId: string; currentReference: string | null }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [outcome, setOutcome] = useState<"succeeded" | "failed" | null>(null);
  const [providerReference, setProviderReference] = useState(currentReference ?? "");
  const [note, setNote] = useState("");
  const [confirmed, setConfirmed] = useState(false);
  const propose = useMutation(
    trpc.outcomes.propose.mutationOptions({
      onSuccess: () => {
        setOutcome(null);
        setNote("");
        setConfirmed(false);
        return queryClient.invalidateQueries();
      },
    }),
  );
  const [outcomeMissing, setOutcomeMissing] = useState(false);
  const errors = fieldErrorsOf(propose.error);
  const hasFieldErrors = Object.keys(errors).length > 0;
  const outcomeError = errors.outcome ?? (outcomeMissing ? "Choose “mark paid” or “mark failed”" : undefined);

  function submit(e: FormEvent) {
    e.preventDefault();
    // The only check made here: without an outcome there is nothing to send. Everything else is the server's to judge.
    if (!outcome) {
      setOutcomeMissing(true);
      return;
    }
    setOutcomeMissing(false);
    propose.mutate({ payoutId, outcome, providerReference: providerReference || null, note, confirmedWithProvider: outcome === "failed" ? confirmed : null });
  }

  return (
    <form className="space-y-4" onSubmit={submit} noValidate data-testid="propose-form">
      <fieldset aria-describedby={outcomeError ? "outcome-error" : undefined}>
        <legend className="text-sm font-medium text-slate-800">What the provider confirmed</legend>
        <div className="mt-2 flex flex-wrap gap-4">
          {(["succeeded", "failed"] as const).map((value) => (
            <label key={value} className="flex items-center gap-2 text-sm text-slate-800">
              <input
                type="radio"
                name="outcome"
                value={value}
                checked={outcome === value}
                onChange={() => setOutcome(value)}
                className="h-4 w-4 accent-indigo-600"
              />
              Mark {OUTCOME_WORDS[value]}
            </label>
          ))}
        </div>
        {outcomeError && (
          <p id="outcome-error" className="mt-1 text-sm text-rose-700">
            {outcomeError}
          </p>
        )}
      </fieldset>

      {outcome === "failed" && (
        <div className="rounded-md bg-rose-50 p-3 text-sm text-rose-900 ring-1 ring-inset ring-rose-200" role="note">
          <p className="font-semibold">Confirm with the provider first.</p>
          <p className="mt-1">
            Mark a payout failed only when the provider has told you it failed and will not pay it. If the provider still pays a payout the desk
            marked failed, and the payout is made again, the recipient is paid twice.
          </p>
          <label className="mt-2 flex items-start gap-2">
            <input
              type="checkbox"
              checked={confirmed}
              onChange={(e) => setConfirmed(e.target.checked)}
              aria-invalid={Boolean(errors.confirmedWithProvider)}
              aria-describedby={errors.confirmedWithProvider ? "confirmed-error" : undefined}
              className="mt-0.5 h-4 w-4 accent-rose-600"
            />
            <span>The provider has confirmed that this payout failed and will not be paid.</span>
          </label>
          {errors.confirmedWithProvider && (
            <p id="confirmed-error" className="mt-1 text-rose-700">
              {errors.confirmedWithProvider}
            </p>
          )}
        </div>
      )}

      <Field
        label="Provider's reference"
        error={errors.providerReference}
        hint={outcome === "failed" ? "Optional for a failed payout: the provider's id for it, if it has one." : "Required to mark paid: the provider's transaction id for this payout."}
      >
        {(props) => <input {...props} value={providerReference} onChange={(e) => setProviderReference(e.target.value)} name="providerReference" autoComplete="off" />}
      </Field>
      <Field label="Note" error={errors.note} hint={`How you know: who at the provider confirmed it, or where you saw it (statement, dashboard, ticket). ${note.length.toLocaleString("en")} / 1,000 characters.`}>
        {(props) => <textarea {...props} rows={3} value={note} onChange={(e) => setNote(e.target.value)} name="note" />}
      </Field>

      {propose.error && !hasFieldErrors && <ErrorNote>{messageOf(propose.error)}</ErrorNote>}
      <div>
        <Button type="submit" variant={outcome === "failed" ? "danger" : "primary"} busy={propose.isPending}>
          {outcome ? `Propose: mark ${OUTCOME_WORDS[outcome]}` : "Propose an outcome"}
        </Button>
        <p className="mt-2 text-xs text-slate-500">A different approver or admin must approve it; until then the payout&apos;s status does not change.</p>
      </div>
    </form>
  );
}
