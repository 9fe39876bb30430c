"use client";
import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/client";
import { messageOf } from "@/components/trpc/errors";
import { money, when } from "@/components/payouts/format";
import { Button } from "@/components/ui/button";
import { Card, EmptyState, ErrorNote, Loading } from "@/components/ui/layout";
import { BalanceChart } from "./balance-chart";
import type { ConnectionBalances, CurrencyPosition } from "./types";

type Selection = { connectionId: string; currency: string };

/** Balances per connection and currency, what is committed against them, and the chart of one. */
export function BalancesOverview() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const overview = useQuery(trpc.balances.overview.queryOptions(undefined, { refetchInterval: 60_000 }));
  const refresh = useMutation(
    trpc.balances.refresh.mutationOptions({
      onSettled: () => queryClient.invalidateQueries({ queryKey: trpc.balances.pathKey() }),
    }),
  );
  const [selected, setSelected] = useState<Selection | null>(null);

  if (overview.isPending) return <Loading label="Loading balances…" />;
  if (overview.isError) return <ErrorNote>{messageOf(overview.error)}</ErrorNote>;

  const connections = overview.data;
  // By default, chart the first balance the desk has read.
  const firstRead = connections.flatMap((c) => c.currencies.filter((p) => p.balanceMinor !== null).map((p) => ({ connectionId: c.connectionId, currency: p.currency })))[0];
  const chart = selected ?? firstRead ?? null;
  const chartConnection = chart && connections.find((c) => c.connectionId === chart.connectionId);
  const refreshing = (connectionId?: string) => refresh.isPending && refresh.variables?.connectionId === connectionId;

  return (
    <div className="space-y-6">
      <div className="flex flex-wrap items-center justify-between gap-3">
        <p className="max-w-3xl text-sm text-slate-600">
          <strong className="font-medium text-slate-800">Available after reservations</strong> is the provider&apos;s balance less payouts approved but not yet sent
          (reserved) and payouts the provider is still working on (in flight). It is cautious: the provider may already have taken an in-flight payout from the
          balance.
        </p>
        <Button busy={refreshing(undefined)} disabled={refresh.isPending} onClick={() => refresh.mutate({})}>
          Refresh balances
        </Button>
      </div>
      {refresh.isError && <ErrorNote>{messageOf(refresh.error)}</ErrorNote>}

      {connections.length === 0 ? (
        <Card>
          <EmptyState title="No connections yet">An admin adds provider connections on the Connections page.</EmptyState>
        </Card>
      ) : (
        connections.map((c) => (
          <ConnectionBalancesCard
            key={c.connectionId}
            connection={c}
            selected={chart?.connectionId === c.connectionId ? chart.currency : null}
            onSelect={(currency) => setSelected({ connectionId: c.connectionId, currency })}
            onRefresh={() => refresh.mutate({ connectionId: c.connectionId })}
            refreshing={refreshing(c.connectionId)}
            refreshDisabled={refresh.isPending}
          />
        ))
      )}

      {chart && chartConnection && (
        <BalanceChart key={`${chart.connectionId}:${chart.currency}`} connectionId={chart.connectionId} connectionName={chartConnection.name} currency={chart.currency} />
      )}
    </div>
  );
}

function ConnectionBalancesCard({
  connection: c,
  selected,
  onSelect,
  onRefresh,
  refreshing,
  refreshDisabled,
}: {
  connection: ConnectionBalances;
  selected: string | null;
  onSelect: (currency: string) => void;
  onRefresh: () => void;
  refreshing: boolean;
  refreshDisabled: boolean;
}) {
  const headingId = `balances-${c.connectionId}`;
  const hasBalance = c.currencies.some((p) => p.balanceMinor !== null);
  return (
    <Card>
      <section aria-labelledby={headingId} data-testid="connection-balances" data-connection-name={c.name}>
        <div className="flex flex-wrap items-center justify-between gap-3 border-b border-slate-100 px-5 py-4">
          <div className="flex flex-wrap items-center gap-2">
            <h2 id={headingId} className="text-base font-semibold">
              {c.name}
            </h2>
            <span className="rounded bg-slate-100 px-1.5 py-0.5 text-xs">{c.providerLabel}</span>
            {c.environment === "sandbox" && <span className="rounded bg-amber-50 px-1.5 py-0.5 text-xs text-amber-800">sandbox</span>}
            {!c.enabled && <span className="rounded bg-slate-200 px-1.5 py-0.5 text-xs font-medium">Paused</span>}
          </div>
          {c.reportsBalances && (
            <Button variant="secondary" busy={refreshing} disabled={refreshDisabled} onClick={onRefresh} aria-label={`Refresh ${c.name}`}>
              Refresh
            </Button>
          )}
        </div>
        {c.lastError && (
          <div className="px-5 pt-4">
            <ErrorNote>
              The last balance read failed ({when(c.lastError.at)}): {c.lastError.message}
            </ErrorNote>
          </div>
        )}
        {!c.reportsBalances && (
          <p className="px-5 pt-4 text-sm text-slate-600">{c.providerLabel} does not report balances to the desk; only the desk&apos;s own commitments are shown.</p>
        )}
        {c.reportsBalances && !hasBalance && (
          <EmptyState title="No balance read yet">
            <button type="button" onClick={onRefresh} disabled={refreshDisabled} className="font-medium text-indigo-700 underline hover:text-indigo-900">
              Refresh
            </button>{" "}
            to ask {c.providerLabel} now; the desk also reads it every few minutes.
          </EmptyState>
        )}
        {c.currencies.length > 0 && <PositionsTable connection={c} selected={selected} onSelect={onSelect} />}
      </section>
    </Card>
  );
}

function PositionsTable({ connection: c, selected, onSelect }: { connection: ConnectionBalances; selected: string | null; onSelect: (currency: string) => void }) {
  return (
    <div className="overflow-x-auto">
      <table className="min-w-full text-sm">
        <caption className="sr-only">Balances of {c.name} by currency</caption>
        <thead>
          <tr className="text-left text-xs uppercase text-slate-500">
            <th scope="col" className="px-5 py-2 font-medium">Currency</th>
            <th scope="col" className="px-3 py-2 text-right font-medium">Balance</th>
            <th scope="col" className="px-3 py-2 text-right font-medium">Reserved</th>
            <th scope="col" className="px-3 py-2 text-right font-medium">In flight</th>
            <th scope="col" className="px-3 py-2 text-right font-medium">Available after reservations</th>
            <th scope="col" className="px-3 py-2 font-medium">As of</th>
            <th scope="col" className="px-5 py-2"><span className="sr-only">Chart</span></th>
          </tr>
        </thead>
        <tbody className="divide-y divide-slate-100">
          {c.currencies.map((p) => (
            <PositionRow key={p.currency} position={p} connectionName={c.name} selected={selected === p.currency} onSelect={() => onSelect(p.currency)} />
          ))}
        </tbody>
      </table>
    </div>
  );
}

function PositionRow({ position: p, connectionName, selected, onSelect }: { position: CurrencyPosition; connectionName: string; selected: boolean; onSelect: () => void }) {
  const negative = p.availableMinor !== null && p.availableMinor < 0n;
  return (
    <tr data-testid="balance-row" data-currency={p.currency} className={selected ? "bg-indigo-50/40" : ""}>
      <th scope="row" className="px-5 py-2 text-left font-medium">
        {p.currency}
        {p.wallets.length > 1 && <span className="block text-xs font-normal text-slate-500">{p.wallets.map((w) => w.label || "main").join(", ")}</span>}
        {p.wallets.length === 1 && p.wallets[0]!.label && <span className="block text-xs font-normal text-slate-500">{p.wallets[0]!.label}</span>}
      </th>
      <td className="tabular px-3 py-2 text-right" data-testid="balance">
        {p.balanceMinor === null ? <span className="text-slate-500">not read yet</span> : money(p.balanceMinor, p.currency)}
      </td>
      <td className="tabular px-3 py-2 text-right" data-testid="reserved">
        {money(p.reservedMinor, p.currency)}
        {p.reservedCount > 0 && <span className="block text-xs text-slate-500">{p.reservedCount} approved</span>}
      </td>
      <td className="tabular px-3 py-2 text-right" data-testid="in-flight">
        {money(p.inFlightMinor, p.currency)}
        {p.inFlightCount > 0 && <span className="block text-xs text-slate-500">{p.inFlightCount} at the provider</span>}
      </td>
      <td className={`tabular px-3 py-2 text-right font-semibold ${negative ? "text-rose-700" : ""}`} data-testid="available">
        {p.availableMinor === null ? "—" : money(p.availableMinor, p.currency)}
        {negative && <span className="block text-xs font-normal">short of what is committed</span>}
      </td>
      <td className="px-3 py-2 text-xs text-slate-600">{p.at ? when(p.at) : "—"}</td>
      <td className="px-5 py-2 text-right">
        {p.balanceMinor !== null && (
          <button
            type="button"
            onClick={onSelect}
            aria-pressed={selected}
            aria-label={`Chart ${connectionName} ${p.currency}`}
            className="rounded-md px-2 py-1 text-xs font-medium text-indigo-700 hover:bg-indigo-50 focus-visible:outline focus-visible:outline-2 focus-visible:outline-indigo-600"
          >
            {selected ? "Charted" : "Chart"}
          </button>
        )}
      </td>
    </tr>
  );
}
