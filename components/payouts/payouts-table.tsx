"use client";
import Link from "next/link";
import { useRouter, useSearchParams, usePathname } from "next/navigation";
import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/client";
import { Button } from "@/components/ui/button";
import { controlClass } from "@/components/ui/field";
import { Card, EmptyState, ErrorNote, Loading } from "@/components/ui/layout";
import { StatusBadge } from "@/components/ui/status-badge";
import { PAYOUT_STATUSES, STATUS_LABELS, type PayoutStatus } from "@/server/domain/payout-state";
import { fieldErrorsOf, messageOf } from "@/components/trpc/errors";
import { money, phone, reported, when } from "./format";

/** Filters live in the URL, so a filtered list can be bookmarked, shared and reloaded. */
function useFilters() {
  const params = useSearchParams();
  const router = useRouter();
  const pathname = usePathname();
  const status = (params.get("status") ?? "").split(",").filter((s): s is PayoutStatus => (PAYOUT_STATUSES as readonly string[]).includes(s));
  const filters = {
    status: status.length ? status : undefined,
    connectionId: params.get("connection") || undefined,
    createdFrom: params.get("from") || undefined,
    createdTo: params.get("to") || undefined,
    search: params.get("q") || undefined,
    attention: params.get("attention") === "1" || undefined,
  };
  function set(key: string, value: string) {
    const next = new URLSearchParams(params);
    if (value) next.set(key, value);
    else next.delete(key);
    router.replace(`${pathname}${next.size ? `?${next}` : ""}`, { scroll: false });
  }
  return { filters, set, raw: params };
}

/** `canCreate`: the signed-in role may create payouts (the empty list then offers to). */
export function PayoutsTable({ canCreate = false }: { canCreate?: boolean } = {}) {
  const trpc = useTRPC();
  const { filters, set, raw } = useFilters();
  const connections = useQuery(trpc.connections.names.queryOptions());
  const list = useInfiniteQuery(
    trpc.payouts.list.infiniteQueryOptions(
      { ...filters, limit: 50 },
      { getNextPageParam: (last) => last.nextCursor, refetchInterval: 10_000 },
    ),
  );
  const rows = list.data?.pages.flatMap((p) => p.items) ?? [];
  const filterErrors = fieldErrorsOf(list.error);

  return (
    <div className="space-y-4">
      <form className="grid grid-cols-2 gap-3 md:grid-cols-5" onSubmit={(e) => e.preventDefault()} aria-label="Filters">
        <label className="text-xs font-medium text-slate-700">
          Status
          <select className={`${controlClass} mt-1`} value={raw.get("status") ?? ""} onChange={(e) => set("status", e.target.value)} name="status">
            <option value="">All statuses</option>
            {PAYOUT_STATUSES.map((s) => (
              <option key={s} value={s}>
                {STATUS_LABELS[s]}
              </option>
            ))}
          </select>
        </label>
        <label className="text-xs font-medium text-slate-700">
          Connection
          <select className={`${controlClass} mt-1`} value={raw.get("connection") ?? ""} onChange={(e) => set("connection", e.target.value)} name="connection">
            <option value="">All connections</option>
            {connections.data?.map((c) => (
              <option key={c.id} value={c.id}>
                {c.name}
              </option>
            ))}
          </select>
        </label>
        <label className="text-xs font-medium text-slate-700">
          Created from (UTC)
          <input type="date" className={`${controlClass} mt-1`} value={raw.get("from") ?? ""} onChange={(e) => set("from", e.target.value)} name="from" />
          {filterErrors.createdFrom && <span className="block text-rose-700 wrap-anywhere">{filterErrors.createdFrom}</span>}
        </label>
        <label className="text-xs font-medium text-slate-700">
          Created to (UTC)
          <input type="date" className={`${controlClass} mt-1`} value={raw.get("to") ?? ""} onChange={(e) => set("to", e.target.value)} name="to" />
          {filterErrors.createdTo && <span className="block text-rose-700 wrap-anywhere">{filterErrors.createdTo}</span>}
        </label>
        <label className="text-xs font-medium text-slate-700">
          Search
          <input
            type="search"
            placeholder="Payout id, phone, reference"
            className={`${controlClass} mt-1`}
            defaultValue={raw.get("q") ?? ""}
            onKeyDown={(e) => e.key === "Enter" && set("q", e.currentTarget.value.trim())}
            onBlur={(e) => set("q", e.currentTarget.value.trim())}
            name="q"
          />
        </label>
      </form>

      <Card className="overflow-hidden">
        {list.isPending ? (
          <Loading label="Loading payouts…" />
        ) : list.isError ? (
          <div className="p-4">
            <ErrorNote>{messageOf(list.error)}</ErrorNote>
          </div>
        ) : rows.length === 0 ? (
          <EmptyState title="No payouts match">
            {filters.status || filters.connectionId || filters.createdFrom || filters.createdTo || filters.search || filters.attention ? (
              "Clear a filter to see more."
            ) : canCreate ? (
              <>
                Nothing has been paid out yet.{" "}
                <Link className="font-medium text-indigo-700 hover:underline" href="/payouts/new">
                  Create the first payout
                </Link>
                .
              </>
            ) : (
              "Nothing has been paid out yet. Makers create payouts; they appear here."
            )}
          </EmptyState>
        ) : (
          <table className="min-w-full divide-y divide-slate-200 text-sm" data-testid="payouts-table">
            <thead className="bg-slate-50 text-left text-xs font-semibold uppercase tracking-wide text-slate-600">
              <tr>
                <th className="px-4 py-3">Created</th>
                <th className="px-4 py-3">Recipient</th>
                <th className="px-4 py-3 text-right">Amount</th>
                <th className="px-4 py-3 text-right">Fee</th>
                <th className="px-4 py-3">Status</th>
                <th className="px-4 py-3">Connection</th>
                <th className="px-4 py-3">Maker</th>
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-100 bg-white">
              {rows.map((p) => (
                <tr key={p.id} className="hover:bg-slate-50">
                  <td className="whitespace-nowrap px-4 py-3 text-slate-600">
                    <Link href={`/payouts/${p.id}`} className="font-medium text-indigo-700 hover:underline">
                      {when(p.createdAt)}
                    </Link>
                  </td>
                  {/* Names come from people: an unbroken one wraps anywhere instead of widening the table. */}
                  <td className="min-w-32 px-4 py-3 wrap-anywhere">
                    <div className="font-medium">{p.recipientName ?? phone(p.recipientPhone, p.recipientAccount)}</div>
                    {p.recipientName && <div className="text-xs text-slate-500">{phone(p.recipientPhone, p.recipientAccount)}</div>}
                  </td>
                  <td className="tabular whitespace-nowrap px-4 py-3 text-right font-medium">{money(p.amountMinor, p.currency)}</td>
                  {/* The fee as the provider booked it; "Not reported" (never 0) where it stated none. */}
                  <td className={`tabular whitespace-nowrap px-4 py-3 text-right ${p.feeMinor === null ? "text-xs text-slate-500" : "text-slate-700"}`} data-testid="payout-fee">
                    {reported(p.feeMinor, p.feeCurrency)}
                  </td>
                  <td className="px-4 py-3">
                    <StatusBadge status={p.status} />
                    {p.attentionSince && (
                      <span className="ml-1 rounded bg-orange-100 px-1 text-xs font-medium text-orange-800" title="In flight for too long">
                        needs attention
                      </span>
                    )}
                    {p.failureCode && <div className="mt-0.5 text-xs text-rose-700 wrap-anywhere">{p.failureCode}</div>}
                  </td>
                  <td className="px-4 py-3 text-slate-700 wrap-anywhere">{p.connection.name}</td>
                  <td className="px-4 py-3 text-slate-700 wrap-anywhere">{p.createdBy.name}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Card>
      {list.hasNextPage && (
        <div className="flex justify-center">
          <Button variant="secondary" busy={list.isFetchingNextPage} onClick={() => list.fetchNextPage()}>
            Load more
          </Button>
        </div>
      )}
    </div>
  );
}
