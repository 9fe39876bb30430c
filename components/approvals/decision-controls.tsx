"use client";
import { useState } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/client";
import { fieldErrorsOf, messageOf } from "@/components/trpc/errors";
import { Button } from "@/components/ui/button";
import { ErrorNote } from "@/components/ui/layout";
import { controlClass } from "@/components/ui/field";

/** Approve, or reject with a reason. Rendered only for an approver who may decide; the server checks again. */
export function DecisionControls({ payoutId, compact = false }: { payoutId: string; compact?: boolean }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [rejecting, setRejecting] = useState(false);
  const [reason, setReason] = useState("");
  const onSuccess = () => queryClient.invalidateQueries();
  const approve = useMutation(trpc.approvals.approve.mutationOptions({ onSuccess }));
  const reject = useMutation(trpc.approvals.reject.mutationOptions({ onSuccess }));
  const error = approve.error ?? reject.error;
  const reasonError = fieldErrorsOf(reject.error).reason;

  return (
    <div className={compact ? "flex flex-wrap items-start gap-2" : "space-y-3"}>
      {error && !reasonError && <ErrorNote>{messageOf(error)}</ErrorNote>}
      {rejecting ? (
        <form
          className="flex w-full flex-col gap-2"
          onSubmit={(e) => {
            e.preventDefault();
            reject.mutate({ payoutId, reason });
          }}
        >
          <label className="text-sm font-medium text-slate-800">
            Reason for rejecting
            <textarea
              className={`${controlClass} mt-1`}
              rows={2}
              value={reason}
              onChange={(e) => setReason(e.target.value)}
              autoFocus
              aria-invalid={Boolean(reasonError)}
              name="reason"
            />
          </label>
          {reasonError && <p className="text-sm text-rose-700 wrap-anywhere">{reasonError}</p>}
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
        <div className="flex gap-2">
          <Button onClick={() => approve.mutate({ payoutId })} busy={approve.isPending}>
            Approve
          </Button>
          <Button variant="secondary" onClick={() => setRejecting(true)}>
            Reject…
          </Button>
        </div>
      )}
    </div>
  );
}
