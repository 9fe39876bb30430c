"use client";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/client";
import { messageOf } from "@/components/trpc/errors";
import { Button } from "@/components/ui/button";
import { useNow } from "./format";

/**
 * "Check again now": the next free worker asks the provider within a second
 * or so. The server allows it once every 10 s per payout (each press is a call
 * to the provider); the button says when it can be pressed again.
 */
export function CheckNowButton({ payoutId, checkAgainAfter }: { payoutId: string; checkAgainAfter: Date | null }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const now = useNow(1_000);
  const check = useMutation(
    trpc.outcomes.checkNow.mutationOptions({
      // Read again now, and once more shortly after, when the worker has had time to ask and record the answer.
      onSuccess: () => {
        void queryClient.invalidateQueries();
        setTimeout(() => void queryClient.invalidateQueries(), 2_000);
      },
    }),
  );
  const waitSeconds = checkAgainAfter ? Math.ceil((new Date(checkAgainAfter).getTime() - now.getTime()) / 1000) : 0;
  const throttled = waitSeconds > 0;
  return (
    <div className="flex flex-wrap items-center gap-2">
      <Button variant="secondary" busy={check.isPending} disabled={throttled} onClick={() => check.mutate({ payoutId })}>
        Check again now
      </Button>
      <p className="text-xs text-slate-600" aria-live="polite">
        {check.isError
          ? <span className="text-rose-700">{messageOf(check.error)}</span>
          : check.isSuccess
            ? `Asked: the answer appears here in a moment${throttled ? `; you can ask again in ${waitSeconds} s` : ""}.`
            : throttled
              ? `The provider was just asked; you can ask again in ${waitSeconds} s.`
              : null}
      </p>
    </div>
  );
}
