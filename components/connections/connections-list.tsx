"use client";
import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/client";
import { messageOf } from "@/components/trpc/errors";
import { Card, EmptyState, ErrorNote, Loading } from "@/components/ui/layout";

/** Read-only for now: what each connection is and what to register at the provider. */
export function ConnectionsList() {
  const trpc = useTRPC();
  const list = useQuery(trpc.connections.list.queryOptions());
  if (list.isPending) return <Loading label="Loading connections…" />;
  if (list.isError) return <ErrorNote>{messageOf(list.error)}</ErrorNote>;
  if (list.data.length === 0) return <Card><EmptyState title="No connections yet" /></Card>;
  return (
    <ul className="space-y-4">
      {list.data.map((c) => (
        <li key={c.id}>
          <Card className="p-5">
            <div className="flex flex-wrap items-center gap-2">
              <h2 className="text-base font-semibold">{c.name}</h2>
              <span className="rounded bg-slate-100 px-1.5 py-0.5 text-xs">{c.providerLabel}</span>
              <span className={`rounded px-1.5 py-0.5 text-xs ${c.environment === "live" ? "bg-rose-50 text-rose-700" : "bg-amber-50 text-amber-800"}`}>
                {c.environment}
              </span>
              {!c.enabled && <span className="rounded bg-slate-200 px-1.5 py-0.5 text-xs">paused</span>}
              {!c.supported && <span className="rounded bg-slate-200 px-1.5 py-0.5 text-xs">connector not available yet</span>}
            </div>
            <dl className="mt-3 grid gap-3 text-sm sm:grid-cols-2">
              <div>
                <dt className="text-xs font-medium uppercase text-slate-500">Base URL</dt>
                <dd className="font-mono text-xs">{c.baseUrl}</dd>
              </div>
              {c.callbackUrl && (
                <div>
                  <dt className="text-xs font-medium uppercase text-slate-500">Callback URL to register</dt>
                  <dd className="break-all font-mono text-xs">{c.callbackUrl}</dd>
                </div>
              )}
              {c.publicKeyPem && (
                <div className="sm:col-span-2">
                  <dt className="text-xs font-medium uppercase text-slate-500">
                    Public signing key to register ({c.signingAlgorithm}, key id {c.signingKeyId})
                  </dt>
                  <dd>
                    <pre className="mt-1 overflow-auto rounded bg-slate-50 p-2 text-xs ring-1 ring-slate-200">{c.publicKeyPem}</pre>
                  </dd>
                </div>
              )}
            </dl>
          </Card>
        </li>
      ))}
    </ul>
  );
}
