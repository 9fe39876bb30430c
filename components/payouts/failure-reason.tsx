"use client";
import Link from "next/link";
import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/client";
import { canUse } from "@/server/auth/controls";
import type { Role } from "@/server/auth/roles";
import { explainFailure, PROVIDER_NAMES, type FailureProvider } from "@/server/domain/failure-reasons";

/**
 * A failed payout's reason in words (server/domain/failure-reasons.ts): a
 * plain sentence and a next step, with the provider's own code kept beside
 * them and its message quoted; and, on a failed payout, "Copy as new payout"
 * for makers.
 */
export function FailureReason({ payoutId, status, provider, code, message }: { payoutId: string; status: string; provider: string; code: string | null; message: string | null }) {
  const explained = explainFailure(provider, code, message);
  if (!explained) return status === "failed" ? <CopyAsNew payoutId={payoutId} /> : null;
  const providerName = PROVIDER_NAMES[provider as FailureProvider] ?? "Provider";
  return (
    <div className="space-y-1" data-testid="failure-reason">
      <p className="font-medium text-rose-800" data-testid="failure-sentence">
        {explained.sentence}
      </p>
      <p className="text-slate-700" data-testid="failure-next-step">
        <span className="font-medium">Next: </span>
        {explained.nextStep}
      </p>
      <p className="text-xs text-slate-500">
        {explained.code && (
          <>
            {explained.source === "desk" ? "Desk code" : `${providerName} code`}:{" "}
            <span className="font-mono text-rose-700" data-testid="failure-code">
              {explained.code}
            </span>
            {explained.generic && " (generic: it does not say why)"}
          </>
        )}
      </p>
      {explained.message && !explained.sentence.includes(explained.message) && (
        <p className="text-xs text-slate-600 wrap-anywhere">
          {explained.source === "desk" ? "Message" : `${providerName}'s message, as recorded`}: {explained.message}
        </p>
      )}
      {status === "failed" && <CopyAsNew payoutId={payoutId} />}
    </div>
  );
}

/** For makers: the single payout form, pre-filled from this payout on the server (never its id). */
function CopyAsNew({ payoutId }: { payoutId: string }) {
  const trpc = useTRPC();
  const me = useQuery(trpc.me.get.queryOptions(undefined, { staleTime: 60_000 }));
  if (!me.data || !canUse(me.data.role as Role, "createPayout")) return null;
  return (
    <div className="pt-2">
      <Link
        href={`/payouts/new?copy=${payoutId}`}
        className="inline-flex items-center rounded-md bg-white px-3.5 py-2 text-sm font-semibold text-slate-800 shadow-sm ring-1 ring-inset ring-slate-300 hover:bg-slate-50"
        data-testid="copy-as-new"
      >
        Copy as new payout
      </Link>
    </div>
  );
}
