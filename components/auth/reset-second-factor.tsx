"use client";
// An admin's "Reset second factor" for a user (Settings → Users). A reset
// turns the user's two-factor sign-in off, forgets their recovery codes, ends
// every session they have at once, and lets them sign in once with their
// password to set it up again. Another admin's needs two admins: one
// proposes, a different one approves (each with a fresh code of their own);
// the one being reset can do neither. The server enforces all of it; this
// shows the state and asks before acting.
import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/client";
import { messageOf } from "@/components/trpc/errors";
import { Button } from "@/components/ui/button";
import { ErrorNote } from "@/components/ui/layout";
import { when } from "@/components/payouts/format";
import { useStepUp } from "./step-up";

type Action = "reset" | "propose" | "approve" | "cancel";

export function ResetSecondFactorButton({ userId, userName, userRole }: { userId: string; userName: string; userRole: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const me = useQuery(trpc.me.get.queryOptions());
  const isAdminTarget = userRole === "admin";
  const isYou = me.data?.id === userId;
  const canAct = me.data?.role === "admin" && !isYou;
  // Only an admin's reset has a state worth showing before anyone clicks (a proposal waiting for a second admin).
  const state = useQuery(trpc.auth.userSecondFactor.queryOptions({ userId }, { enabled: canAct && isAdminTarget }));
  const stepUp = useStepUp();
  const reset = useMutation(trpc.auth.resetSecondFactor.mutationOptions());
  const approve = useMutation(trpc.auth.approveSecondFactorReset.mutationOptions());
  const cancel = useMutation(trpc.auth.cancelSecondFactorReset.mutationOptions());
  const [confirming, setConfirming] = useState<Action | null>(null);
  const [outcome, setOutcome] = useState<string | null>(null);
  const [failure, setFailure] = useState<string | null>(null);

  if (!canAct) return null;
  const proposal = state.data?.proposal ?? null;
  const busy = reset.isPending || approve.isPending || cancel.isPending;

  async function perform(action: Action) {
    setFailure(null);
    try {
      if (action === "cancel") {
        await cancel.mutateAsync({ userId });
        setOutcome(`The reset of ${userName}'s second factor was withdrawn.`);
      } else {
        const result = await stepUp.run(() => (action === "approve" ? approve.mutateAsync({ userId }) : reset.mutateAsync({ userId })));
        setOutcome(
          result.outcome === "proposed"
            ? `Proposed. Another admin must approve it before ${when(result.expiresAt)}; until then nothing changes for ${userName}.`
            : `${userName}'s second factor is reset: ${result.sessionsEnded} session${result.sessionsEnded === 1 ? "" : "s"} ended. They can sign in once with their password to set it up again.`,
        );
      }
    } catch (error) {
      setFailure(messageOf(error));
    }
    await Promise.all([
      queryClient.invalidateQueries({ queryKey: trpc.auth.pathKey() }),
      queryClient.invalidateQueries({ queryKey: trpc.users.pathKey() }),
    ]);
  }

  const primary: { action: Action; label: string } = !isAdminTarget
    ? { action: "reset", label: "Reset second factor" }
    : proposal && !proposal.byYou
      ? { action: "approve", label: "Approve second-factor reset" }
      : { action: "propose", label: "Propose second-factor reset" };

  const question: Record<Action, string> = {
    reset: `Reset ${userName}'s second factor? Two-factor sign-in is turned off for them, their recovery codes stop working and every session they have ends at once. They can then sign in once with their password, to set it up again.`,
    propose: `Propose resetting ${userName}'s second factor? ${userName} is an admin, so a second admin must approve it within 24 hours; nothing changes until then.`,
    approve: `Approve the reset of ${userName}'s second factor, proposed by ${proposal?.proposedBy.name ?? "another admin"}? Their two-factor sign-in is turned off, their recovery codes stop working and every session they have ends at once.`,
    cancel: `Withdraw the proposed reset of ${userName}'s second factor?`,
  };

  return (
    <>
      {stepUp.dialog}
      {proposal?.byYou ? (
        <Button variant="secondary" disabled={busy} onClick={() => setConfirming("cancel")}>
          Withdraw second-factor reset
        </Button>
      ) : (
        <Button variant="secondary" disabled={busy} onClick={() => setConfirming(primary.action)}>
          {primary.label}
        </Button>
      )}
      {proposal && (
        <span className="basis-full text-xs text-amber-800" data-testid="second-factor-reset-proposal">
          Reset proposed by {proposal.byYou ? "you" : proposal.proposedBy.name} at {when(proposal.proposedAt)}; {proposal.byYou ? "a second admin must approve it" : "waiting for a second admin"} before {when(proposal.expiresAt)}.
          {!proposal.byYou && (
            <button type="button" className="ml-2 font-medium text-indigo-700 hover:underline" onClick={() => setConfirming("cancel")}>
              Withdraw it
            </button>
          )}
        </span>
      )}
      {confirming && (
        <div className="fixed inset-0 z-40 flex items-center justify-center bg-slate-900/40 px-4">
          <div role="alertdialog" aria-modal="true" aria-label={`Second factor of ${userName}`} className="w-full max-w-md space-y-4 rounded-lg bg-white p-6 shadow-xl ring-1 ring-slate-200">
            {outcome ? (
              <p role="status" className="text-sm text-slate-800">
                {outcome}
              </p>
            ) : (
              <p className="text-sm text-slate-800">{question[confirming]}</p>
            )}
            {failure && <ErrorNote>{failure}</ErrorNote>}
            <div className="flex justify-end gap-2">
              <Button
                variant="secondary"
                onClick={() => {
                  setConfirming(null);
                  setOutcome(null);
                  setFailure(null);
                }}
              >
                {outcome ? "Close" : "Keep as is"}
              </Button>
              {!outcome && (
                <Button variant="danger" busy={busy} onClick={() => perform(confirming)}>
                  {confirming === "cancel" ? "Withdraw" : confirming === "propose" ? "Propose reset" : confirming === "approve" ? "Approve reset" : "Reset second factor"}
                </Button>
              )}
            </div>
          </div>
        </div>
      )}
    </>
  );
}
