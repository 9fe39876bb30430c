"use client";
import { useState } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/client";
import { messageOf } from "@/components/trpc/errors";
import { Button } from "@/components/ui/button";
import { Card, ErrorNote } from "@/components/ui/layout";
import type { AdminConnection } from "./types";

/** One connection: what it is, whether it takes payouts, what to register at the provider, and its actions. */
export function ConnectionCard({ connection: c, onEdit }: { connection: AdminConnection; onEdit: () => void }) {
  const headingId = `connection-${c.id}`;
  return (
    <Card className={`p-5 ${c.enabled ? "" : "bg-slate-50"}`}>
      <section aria-labelledby={headingId} data-testid="connection" data-connection-name={c.name} data-enabled={c.enabled}>
        <div className="flex flex-wrap items-start justify-between gap-3">
          <div className="flex flex-wrap items-center gap-2">
            <h2 id={headingId} className="text-base font-semibold">
              {c.name}
            </h2>
            <span className="rounded bg-slate-100 px-1.5 py-0.5 text-xs">{c.providerLabel}</span>
            <span className={`rounded px-1.5 py-0.5 text-xs ${c.environment === "live" ? "bg-rose-50 text-rose-700" : "bg-amber-50 text-amber-800"}`}>
              {c.environment}
            </span>
            <EnabledBadge enabled={c.enabled} />
            {!c.supported && <span className="rounded bg-slate-200 px-1.5 py-0.5 text-xs">connector not available yet</span>}
          </div>
          <div className="flex flex-wrap gap-2">
            <Button variant="secondary" onClick={onEdit} aria-label={`Edit ${c.name}`}>
              Edit
            </Button>
          </div>
        </div>
        {c.credentialsUnreadable && (
          <p className="mt-2 text-sm text-rose-800" data-testid="credentials-unreadable">
            Its stored credentials cannot be decrypted with this desk&apos;s DESK_CREDENTIALS_KEY. Edit the connection and enter them again.
          </p>
        )}
        {!c.enabled && (
          <p className="mt-2 text-sm text-slate-700" data-testid="paused-note">
            Paused: makers cannot choose it for new payouts. Payouts already approved or sent carry on.
          </p>
        )}
        <dl className="mt-3 grid gap-3 text-sm sm:grid-cols-2">
          <div>
            <dt className="text-xs font-medium uppercase text-slate-500">Base URL</dt>
            <dd className="break-all font-mono text-xs">{c.baseUrl}</dd>
          </div>
          {c.callbackUrl && (
            <div>
              <dt className="text-xs font-medium uppercase text-slate-500">Callback URL to register</dt>
              <dd className="break-all font-mono text-xs" data-testid="callback-url">
                {c.callbackUrl}
              </dd>
            </div>
          )}
          {c.publicKeyPem && (
            <div className="sm:col-span-2">
              <dt className="text-xs font-medium uppercase text-slate-500">
                Public signing key to register ({c.signingAlgorithm}, key id {c.signingKeyId})
              </dt>
              <dd>
                <pre className="mt-1 overflow-auto rounded bg-white p-2 text-xs ring-1 ring-slate-200" data-testid="public-key">
                  {c.publicKeyPem}
                </pre>
              </dd>
            </div>
          )}
        </dl>
        <div className="mt-4 flex flex-wrap items-start gap-x-6 gap-y-3 border-t border-slate-100 pt-4">
          <TestControl connection={c} />
          <PauseControl connection={c} />
        </div>
      </section>
    </Card>
  );
}

function EnabledBadge({ enabled }: { enabled: boolean }) {
  return enabled ? (
    <span className="rounded bg-emerald-50 px-1.5 py-0.5 text-xs font-medium text-emerald-800 ring-1 ring-inset ring-emerald-600/20" data-testid="connection-status">
      Active
    </span>
  ) : (
    <span className="rounded bg-slate-200 px-1.5 py-0.5 text-xs font-medium text-slate-800 ring-1 ring-inset ring-slate-500/30" data-testid="connection-status">
      Paused
    </span>
  );
}

function TestControl({ connection: c }: { connection: AdminConnection }) {
  const trpc = useTRPC();
  const test = useMutation(trpc.connections.test.mutationOptions());
  return (
    <div className="flex min-w-0 flex-1 flex-col gap-2">
      <div>
        <Button variant="secondary" busy={test.isPending} onClick={() => test.mutate({ id: c.id })} aria-label={`Test connection ${c.name}`}>
          Test connection
        </Button>
      </div>
      {/* Announced when it arrives: the result of a call that may take seconds. */}
      <div aria-live="polite">
        {test.isError && <ErrorNote>{messageOf(test.error)}</ErrorNote>}
        {test.data && (
          <p
            className={`text-sm ${test.data.ok ? "text-emerald-800" : "text-rose-800"}`}
            data-testid="test-result"
            data-ok={test.data.ok}
          >
            <span className="font-semibold">{test.data.ok ? "✓ Works" : "✗ Did not work"}</span>
            {" — "}
            {test.data.message}
            {test.data.via !== "none" && <span className="text-slate-500"> ({test.data.latencyMs} ms)</span>}
          </p>
        )}
      </div>
    </div>
  );
}

function PauseControl({ connection: c }: { connection: AdminConnection }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [confirming, setConfirming] = useState(false);
  const onSuccess = async () => {
    setConfirming(false);
    // The payout form's list of connections changes too.
    await queryClient.invalidateQueries({ queryKey: trpc.connections.pathKey() });
  };
  const pause = useMutation(trpc.connections.pause.mutationOptions({ onSuccess }));
  const resume = useMutation(trpc.connections.resume.mutationOptions({ onSuccess }));
  const action = c.enabled ? pause : resume;
  const verb = c.enabled ? "Pause" : "Resume";

  return (
    <div className="flex flex-col gap-2">
      {action.isError && <ErrorNote>{messageOf(action.error)}</ErrorNote>}
      {confirming ? (
        <div role="group" aria-label={`${verb} ${c.name}?`} className="flex flex-wrap items-center gap-2 rounded-md bg-amber-50 p-3 ring-1 ring-amber-200">
          <p className="text-sm text-slate-800">
            {c.enabled
              ? `Pause ${c.name}? Makers will not be able to choose it for new payouts; payouts already approved or sent carry on.`
              : `Resume ${c.name}? Makers can choose it for new payouts again.`}
          </p>
          <Button variant={c.enabled ? "danger" : "primary"} busy={action.isPending} onClick={() => action.mutate({ id: c.id })} autoFocus>
            {verb} connection
          </Button>
          <Button variant="ghost" onClick={() => setConfirming(false)}>
            Back
          </Button>
        </div>
      ) : (
        <div>
          <Button variant="secondary" onClick={() => setConfirming(true)} aria-label={`${verb} ${c.name}…`}>
            {verb}…
          </Button>
        </div>
      )}
    </div>
  );
}
