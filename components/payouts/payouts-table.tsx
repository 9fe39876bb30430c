"use client";
import Link from "next/link";
import { useEffect, useMemo, useRef, useState, useSyncExternalStore, type ReactNode } from "react";
import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/client";
import { assign, useAddressQuery } from "@/components/ui/use-address-query";
import { Button } from "@/components/ui/button";
import { controlClass } from "@/components/ui/field";
import { Card, EmptyState, ErrorNote, Loading } from "@/components/ui/layout";
import { failureInWords } from "@/server/domain/failure-reasons";
import { StatusBadge } from "@/components/ui/status-badge";
import { PAYOUT_STATUSES, STATUS_LABELS, type PayoutStatus } from "@/server/domain/payout-state";
import { formatInZone } from "@/server/domain/statement";
import { isFiltered, LIST_URL_KEYS, listQueryFromUrl, listRequest, type ListField, type ListSort, type SortDirection } from "@/server/domain/payout-list-params";
import { fieldErrorsOf, messageOf } from "@/components/trpc/errors";
import { money, phone, reported } from "./format";

const SEARCH_DEBOUNCE_MS = 300;
/** Only the first page is refreshed, and only while the tab is visible (and on focus). */
const FIRST_PAGE_REFRESH_MS = 15_000;

/** A cell: a labelled line of its row's card on a phone, a table cell from 768 px. */
const CELL =
  "flex items-baseline justify-between gap-3 px-4 py-1 max-md:text-right before:shrink-0 before:text-xs before:font-medium before:text-slate-500 before:content-[attr(data-label)] md:table-cell md:py-3 md:before:content-none";

/** The browser's zone, read after hydration (the server renders UTC), so times are in the user's zone. */
export function useBrowserTimeZone(): string {
  return useSyncExternalStore(
    () => () => {},
    () => {
      try {
        return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
      } catch {
        return "UTC";
      }
    },
    () => "UTC",
  );
}

/** Filters live in the URL (read by the same function as the export), so a filtered list can be bookmarked, shared and reloaded. */
function useFilters() {
  // Each change builds on the last one asked for (a from day then a to day, typed quickly, both stand).
  const { params, update } = useAddressQuery();
  const parsed = useMemo(() => listQueryFromUrl(new URLSearchParams(params.toString())), [params]);
  function set(changes: Partial<Record<ListField, string>>) {
    update((next) => assign(next, Object.fromEntries(Object.entries(changes).map(([field, value]) => [LIST_URL_KEYS[field as ListField], value]))));
  }
  const raw = (field: ListField) => params.get(LIST_URL_KEYS[field]) ?? "";
  return { ...parsed, set, raw };
}

/** A text filter typed freely and applied after a pause (or on Enter / leaving the field). */
function useDebouncedField(value: string, apply: (value: string) => void, delay = SEARCH_DEBOUNCE_MS) {
  const [text, setText] = useState(value);
  const applied = useRef(value);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  // The address bar changed from elsewhere (back button, a cleared filter): show it.
  useEffect(() => {
    if (value !== applied.current) {
      applied.current = value;
      setText(value);
    }
  }, [value]);
  useEffect(() => () => void (timer.current && clearTimeout(timer.current)), []);
  function commit(next: string) {
    if (timer.current) clearTimeout(timer.current);
    const trimmed = next.trim();
    if (trimmed === applied.current) return;
    applied.current = trimmed;
    apply(trimmed);
  }
  return {
    value: text,
    onChange: (e: { currentTarget: { value: string } }) => {
      const next = e.currentTarget.value;
      setText(next);
      if (timer.current) clearTimeout(timer.current);
      timer.current = setTimeout(() => commit(next), delay);
    },
    onBlur: () => commit(text),
    onKeyDown: (e: { key: string }) => {
      if (e.key === "Enter") commit(text);
    },
  };
}

function FieldError({ children, id }: { children?: string; id: string }) {
  if (!children) return null;
  return (
    <span id={id} className="mt-0.5 block font-normal text-rose-700 wrap-anywhere" data-testid={`filter-error-${id}`}>
      {children}
    </span>
  );
}

/** `canCreate`: the signed-in role may create payouts (the empty list then offers to). */
export function PayoutsTable({ canCreate = false }: { canCreate?: boolean } = {}) {
  const trpc = useTRPC();
  const { filters: urlFilters, order, errors: urlErrors, set, raw } = useFilters();
  const timeZone = useBrowserTimeZone();
  // The same request the server prefetched for the first paint (app/(dashboard)/payouts/page.tsx).
  const { filters, input } = useMemo(() => listRequest({ filters: urlFilters, order }, timeZone), [urlFilters, order, timeZone]);
  const sort: ListSort = input.sort;
  const direction: SortDirection = input.direction;

  const connections = useQuery(trpc.connections.names.queryOptions());
  // The first page alone is refreshed (interval while visible, and on focus); later pages are read once, when asked for.
  const first = useQuery(trpc.payouts.list.queryOptions(input, { refetchInterval: FIRST_PAGE_REFRESH_MS, refetchOnWindowFocus: true }));
  const totals = useQuery(trpc.payouts.totals.queryOptions(filters, { refetchInterval: FIRST_PAGE_REFRESH_MS, refetchOnWindowFocus: true }));
  // Where "Load more" started: the first page as it was then, and its cursor.
  const [anchor, setAnchor] = useState<{ key: string; cursor: string; rows: NonNullable<typeof first.data>["items"] } | null>(null);
  const inputKey = JSON.stringify(input);
  const activeAnchor = anchor && anchor.key === inputKey ? anchor : null;
  const more = useInfiniteQuery(
    trpc.payouts.list.infiniteQueryOptions(
      input,
      {
        enabled: activeAnchor !== null,
        initialCursor: activeAnchor?.cursor ?? null,
        getNextPageParam: (last) => last.nextCursor,
        refetchOnWindowFocus: false,
        refetchInterval: false,
        staleTime: Infinity,
      },
    ),
  );

  // Fresh first page, then rows of the first page as it was when more were loaded (newer payouts may have pushed
  // them off it), then the later pages; each payout once.
  const rows = useMemo(() => {
    const seen = new Set<string>();
    const out: NonNullable<typeof first.data>["items"] = [];
    for (const row of [...(first.data?.items ?? []), ...(activeAnchor?.rows ?? []), ...(more.data?.pages.flatMap((p) => p.items) ?? [])]) {
      if (seen.has(row.id)) continue;
      seen.add(row.id);
      out.push(row);
    }
    return out;
  }, [first.data, activeAnchor, more.data]);
  const hasMore = activeAnchor ? more.hasNextPage : Boolean(first.data?.nextCursor);
  function loadMore() {
    if (!activeAnchor) {
      if (first.data?.nextCursor) setAnchor({ key: inputKey, cursor: first.data.nextCursor, rows: first.data.items });
    } else void more.fetchNextPage();
  }

  const serverErrors = fieldErrorsOf(first.error ?? totals.error);
  const errorOf = (field: ListField) => serverErrors[field] ?? urlErrors[field];
  const search = useDebouncedField(raw("search"), (v) => set({ search: v }));
  const amountMin = useDebouncedField(raw("amountMin"), (v) => set({ amountMin: v }), 600);
  const amountMax = useDebouncedField(raw("amountMax"), (v) => set({ amountMax: v }), 600);
  const batch = useDebouncedField(raw("batchId"), (v) => set({ batchId: v }), 600);
  const filtered = isFiltered(urlFilters);
  const fieldHasError = Object.keys(serverErrors).length > 0;

  function sortBy(next: ListSort) {
    if (next === sort) set({ direction: direction === "desc" ? "asc" : "" });
    else set({ sort: next === "created" ? "" : next, direction: "" });
  }
  const sortHeader = (key: ListSort, label: ReactNode, align = "") => (
    <th className={`px-4 py-3 ${align}`} aria-sort={sort === key ? (direction === "asc" ? "ascending" : "descending") : "none"}>
      <button type="button" onClick={() => sortBy(key)} className="inline-flex items-center gap-1 uppercase hover:text-slate-900 focus-visible:outline focus-visible:outline-2 focus-visible:outline-indigo-600" data-testid={`sort-${key}`}>
        {label}
        <span aria-hidden="true">{sort === key ? (direction === "asc" ? "▲" : "▼") : "↕"}</span>
      </button>
    </th>
  );
  const statuses = urlFilters.status ?? [];
  function toggleStatus(status: PayoutStatus, on: boolean) {
    const next = on ? [...statuses, status] : statuses.filter((s) => s !== status);
    set({ status: PAYOUT_STATUSES.filter((s) => next.includes(s)).join(",") });
  }

  return (
    <div className="space-y-4">
      <form className="grid grid-cols-2 gap-3 md:grid-cols-4 xl:grid-cols-8" onSubmit={(e) => e.preventDefault()} aria-label="Filters">
        <label className="col-span-2 text-xs font-medium text-slate-700">
          Search
          <input
            type="search"
            placeholder="Payout id (or first 8), reference, phone, name, invoice"
            className={`${controlClass} mt-1`}
            name="q"
            data-testid="payouts-search"
            aria-describedby={errorOf("search") ? "search" : undefined}
            {...search}
          />
          <FieldError id="search">{errorOf("search")}</FieldError>
        </label>
        <div className="text-xs font-medium text-slate-700">
          <details className="relative" data-testid="status-filter">
            <summary className={`${controlClass} mt-5 cursor-pointer list-none truncate [&::-webkit-details-marker]:hidden`}>
              {statuses.length === 0 ? "All statuses" : statuses.length === 1 ? STATUS_LABELS[statuses[0]!] : `${statuses.length} statuses`} ▾
            </summary>
            <fieldset className="absolute z-10 mt-1 w-56 space-y-1 rounded-md bg-white p-2 shadow-lg ring-1 ring-slate-200">
              <legend className="sr-only">Status</legend>
              {PAYOUT_STATUSES.map((s) => (
                <label key={s} className="flex items-center gap-2 font-normal">
                  <input type="checkbox" name="status" value={s} checked={statuses.includes(s)} onChange={(e) => toggleStatus(s, e.currentTarget.checked)} />
                  {STATUS_LABELS[s]}
                </label>
              ))}
              {statuses.length > 0 && (
                <button type="button" className="pt-1 text-indigo-700 hover:underline" onClick={() => set({ status: "" })}>
                  All statuses
                </button>
              )}
            </fieldset>
          </details>
          <FieldError id="status">{errorOf("status")}</FieldError>
        </div>
        <label className="text-xs font-medium text-slate-700">
          Connection
          <select className={`${controlClass} mt-1`} value={raw("connectionId")} onChange={(e) => set({ connectionId: e.target.value })} name="connection">
            <option value="">All connections</option>
            {connections.data?.map((c) => (
              <option key={c.id} value={c.id}>
                {c.name}
              </option>
            ))}
          </select>
          <FieldError id="connectionId">{errorOf("connectionId")}</FieldError>
        </label>
        <label className="text-xs font-medium text-slate-700">
          Created from
          <input type="date" className={`${controlClass} mt-1`} value={raw("createdFrom")} onChange={(e) => set({ createdFrom: e.target.value })} name="from" aria-invalid={Boolean(errorOf("createdFrom"))} />
          <FieldError id="createdFrom">{errorOf("createdFrom")}</FieldError>
        </label>
        <label className="text-xs font-medium text-slate-700">
          Created to
          <input type="date" className={`${controlClass} mt-1`} value={raw("createdTo")} onChange={(e) => set({ createdTo: e.target.value })} name="to" aria-invalid={Boolean(errorOf("createdTo"))} />
          <FieldError id="createdTo">{errorOf("createdTo")}</FieldError>
        </label>
        <label className="text-xs font-medium text-slate-700">
          Currency
          <select className={`${controlClass} mt-1`} value={raw("currency")} onChange={(e) => set({ currency: e.target.value })} name="currency">
            <option value="">All currencies</option>
            {[...new Set(["ZMW", "UGX", "USD", "USDT", "INR", "KES", "TZS", "RWF", "XOF", raw("currency")].filter(Boolean))].map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
          <FieldError id="currency">{errorOf("currency")}</FieldError>
        </label>
        <div className="text-xs font-medium text-slate-700">
          <span id="amount-label">Amount{urlFilters.currency ? ` (${urlFilters.currency})` : ""}</span>
          <div className="mt-1 flex gap-1">
            <input inputMode="decimal" placeholder="from" aria-label="Smallest amount" className={controlClass} name="min" aria-invalid={Boolean(errorOf("amountMin"))} {...amountMin} />
            <input inputMode="decimal" placeholder="to" aria-label="Largest amount" className={controlClass} name="max" aria-invalid={Boolean(errorOf("amountMax"))} {...amountMax} />
          </div>
          <FieldError id="amountMin">{errorOf("amountMin")}</FieldError>
          <FieldError id="amountMax">{errorOf("amountMax")}</FieldError>
        </div>
        <label className="text-xs font-medium text-slate-700">
          Batch
          <input placeholder="Batch id" className={`${controlClass} mt-1`} name="batch" {...batch} />
          <FieldError id="batchId">{errorOf("batchId")}</FieldError>
        </label>
        {urlFilters.attention && (
          <p className="col-span-2 self-end text-xs text-slate-700">
            Showing payouts that need attention.{" "}
            <button type="button" className="font-medium text-indigo-700 hover:underline" onClick={() => set({ attention: "" })}>
              Show all
            </button>
          </p>
        )}
      </form>

      <Totals totals={totals.data} pending={totals.isPending && !fieldHasError} filtered={filtered} />

      <Card className="overflow-hidden">
        {first.isPending && !first.isError ? (
          <Loading label="Loading payouts…" />
        ) : first.isError ? (
          <div className="p-4">
            <ErrorNote>{fieldHasError ? "Correct the filter marked above to see payouts." : messageOf(first.error)}</ErrorNote>
          </div>
        ) : rows.length === 0 ? (
          <EmptyState title="No payouts match">
            {filtered ? (
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
          // Below 768 px each row is a card: the headings hide and every value carries its column's label.
          <div className="md:overflow-x-auto">
            <table className="block min-w-full text-sm md:table md:divide-y md:divide-slate-200" data-testid="payouts-table">
              <caption className="sr-only">Payouts; times in {timeZone}. Each row opens its payout.</caption>
              <thead className="hidden bg-slate-50 text-left md:table-header-group text-xs font-semibold uppercase tracking-wide text-slate-600">
                <tr>
                  {sortHeader("created", <>Created <span className="normal-case font-normal">({timeZone})</span></>)}
                  <th className="px-4 py-3">Recipient</th>
                  {sortHeader("amount", "Amount", "text-right")}
                  <th className="px-4 py-3 text-right">Fee</th>
                  {sortHeader("status", "Status")}
                  <th className="px-4 py-3">Connection</th>
                  <th className="px-4 py-3">Maker</th>
                </tr>
              </thead>
              <tbody className="block divide-y divide-slate-100 bg-white md:table-row-group">
                {rows.map((p) => (
                  // The whole row opens the payout: its one link is stretched over the row, so a click anywhere,
                  // Tab and Enter all work, and a screen reader hears one link per row.
                  <tr key={p.id} className="relative block py-2 hover:bg-slate-50 focus-within:bg-indigo-50 md:table-row md:py-0" data-testid="payout-row">
                    <td className={`${CELL} whitespace-nowrap text-slate-600`} data-label={`Created (${timeZone})`}>
                      <Link
                        href={`/payouts/${p.id}`}
                        className="font-medium text-indigo-700 after:absolute after:inset-0 after:content-[''] hover:underline focus-visible:outline-none"
                        aria-label={`Payout ${p.id.slice(0, 8)} to ${p.recipientName ?? phone(p.recipientPhone, p.recipientAccount)}, created ${formatInZone(new Date(p.createdAt), timeZone)}`}
                      >
                        {formatInZone(new Date(p.createdAt), timeZone)}
                      </Link>
                    </td>
                    {/* Names come from people: an unbroken one wraps anywhere instead of widening the table. */}
                    <td className={`${CELL} min-w-32 wrap-anywhere`} data-label="Recipient">
                      <div>
                        <div className="font-medium">{p.recipientName ?? phone(p.recipientPhone, p.recipientAccount)}</div>
                        {p.recipientName && <div className="text-xs text-slate-500">{phone(p.recipientPhone, p.recipientAccount)}</div>}
                      </div>
                    </td>
                    <td className={`${CELL} tabular whitespace-nowrap font-medium md:text-right`} data-label="Amount">{money(p.amountMinor, p.currency)}</td>
                    {/* The fee as the provider booked it; "Not reported" (never 0) where it stated none. */}
                    <td className={`${CELL} tabular whitespace-nowrap md:text-right ${p.feeMinor === null ? "text-xs text-slate-500" : "text-slate-700"}`} data-label="Fee" data-testid="payout-fee">
                      {reported(p.feeMinor, p.feeCurrency)}
                    </td>
                    <td className={CELL} data-label="Status">
                      <div>
                        <StatusBadge status={p.status} />
                        {p.attentionSince && (
                          <span className="ml-1 rounded bg-orange-100 px-1 text-xs font-medium text-orange-800" title="In flight for too long">
                            needs attention
                          </span>
                        )}
                        {(p.failureCode || p.failureMessage) && (
                          <div className="mt-0.5 max-w-64 text-xs text-rose-700 wrap-anywhere" data-testid="payout-failure">
                            {failureInWords(p.connection.provider, p.failureCode, p.failureMessage)}
                          </div>
                        )}
                      </div>
                    </td>
                    <td className={`${CELL} text-slate-700 wrap-anywhere`} data-label="Connection">{p.connection.name}</td>
                    <td className={`${CELL} text-slate-700 wrap-anywhere`} data-label="Maker">{p.createdBy.name}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Card>
      {more.isError && <ErrorNote>{messageOf(more.error)}</ErrorNote>}
      {hasMore && (
        <div className="flex justify-center">
          <Button variant="secondary" busy={more.isFetching} onClick={loadMore}>
            Load more
          </Button>
        </div>
      )}
    </div>
  );
}

type TotalsData = {
  count: number;
  more: boolean;
  cap: number;
  currencies: Array<{ currency: string; count: number; amountMinor: bigint; fees: Array<{ currency: string; feeMinor: bigint; count: number }>; feesNotAdded?: number }>;
};

/** Count, sum per currency and fees of the current filter; past the cap it says so instead of guessing. */
function Totals({ totals, pending, filtered }: { totals: TotalsData | undefined; pending: boolean; filtered: boolean }) {
  if (!totals) return pending ? <p className="text-sm text-slate-500">Adding up…</p> : null;
  const what = filtered ? "match these filters" : "in all";
  return (
    <section aria-label="Totals" className="flex flex-wrap items-baseline gap-x-6 gap-y-1 text-sm text-slate-700" data-testid="payouts-totals">
      {totals.more ? (
        <p>
          <span className="font-semibold">More than {totals.cap.toLocaleString("en")} payouts</span> {what}. Totals are added up for {totals.cap.toLocaleString("en")} or fewer: narrow the filters (dates, status, connection) to see the sums here, or see the Overview.
        </p>
      ) : (
        <>
          <p>
            <span className="font-semibold">{totals.count.toLocaleString("en")}</span> payout{totals.count === 1 ? "" : "s"} {what}
          </p>
          {totals.currencies.map((c) => (
            <p key={c.currency}>
              <span className="tabular font-semibold">{money(c.amountMinor, c.currency)}</span> in {c.count.toLocaleString("en")}
              {c.fees.length > 0 ? (
                <span className="text-slate-500">
                  {" "}· fees {c.fees.map((f) => `${money(f.feeMinor, f.currency)} (${f.count.toLocaleString("en")} reported)`).join(", ")}
                </span>
              ) : (
                <span className="text-slate-500"> · fees not reported</span>
              )}
              {c.feesNotAdded ? <span className="text-slate-500"> ({c.feesNotAdded.toLocaleString("en")} fees in another currency not added)</span> : null}
            </p>
          ))}
        </>
      )}
    </section>
  );
}
