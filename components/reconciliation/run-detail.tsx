"use client";
// One run: its progress while it runs, counts per result kind (each a filter),
// and its results page by page, exceptions first by default.
import Link from "next/link";
import { useEffect } from "react";
import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/client";
import { messageOf } from "@/components/trpc/errors";
import { Button } from "@/components/ui/button";
import { Card, EmptyState, ErrorNote, Loading } from "@/components/ui/layout";
import { when } from "@/components/payouts/format";
import { EXCEPTION_KINDS, RESULT_KINDS } from "@/server/domain/reconciliation";
import { KIND_TONES, METHOD_WORDS, periodText, RESULT_LABELS } from "./format";
import { RunProgress, RunStatus } from "./runs-list";
import { ItemCard } from "./item-card";
import type { KindFilter, Selection } from "./reconciliation-view";

const PAGE_SIZE = 20;

export function RunDetailView({ runId, zone, selection }: { runId: string; zone: string; selection: Selection }) {
  const trpc = useTRPC();
  const detail = useQuery(
    trpc.reconciliation.run.queryOptions({ runId }, { refetchInterval: (q) => (q.state.data && ["queued", "running"].includes(q.state.data.run.status) ? 2_000 : false) }),
  );
  const running = detail.data ? ["queued", "running"].includes(detail.data.run.status) : false;
  const items = useQuery(
    trpc.reconciliation.items.queryOptions(
      { runId, kind: selection.kind === "all" ? null : selection.kind, unresolvedOnly: selection.unresolvedOnly, page: selection.page, pageSize: PAGE_SIZE },
      { refetchInterval: running ? 2_000 : false, placeholderData: (previous) => previous },
    ),
  );

  // The run's last writes (its final batch, the carried exceptions) land as it finishes: read the results once more then.
  const status = detail.data?.run.status;
  const refetchItems = items.refetch;
  useEffect(() => {
    if (status === "done" || status === "failed") void refetchItems();
  }, [status, refetchItems]);

  if (detail.isPending) return <Loading label="Loading the run…" />;
  if (detail.isError) return <ErrorNote>{messageOf(detail.error)}</ErrorNote>;
  const { run, counts, unresolved, unresolvedTotal } = detail.data;
  const exceptions = EXCEPTION_KINDS.reduce((sum, k) => sum + counts[k], 0);

  return (
    <section aria-labelledby="run-heading" className="space-y-4" data-testid="run-detail">
      <Card className="p-5">
        <div className="flex flex-wrap items-start justify-between gap-4">
          <div className="min-w-0 space-y-1">
            <h2 id="run-heading" className="text-base font-semibold text-slate-900">
              {run.connection.name}: {periodText(run.periodFrom, run.periodTo, zone)}
            </h2>
            <p className="text-sm text-slate-600">
              Compared with {METHOD_WORDS[run.method]}. {run.scheduled ? "Queued by the daily schedule" : `Started by ${run.requestedBy ?? "—"}`}, {when(run.createdAt)}
              {run.finishedAt ? `; finished ${when(run.finishedAt)}` : ""}.
            </p>
          </div>
          <div className="flex items-center gap-3">
            <RunStatus run={run} />
            <RunProgress run={run} />
          </div>
        </div>
        {run.status === "failed" && run.error && (
          <div className="mt-3">
            <ErrorNote>The run stopped: {run.error}. Nothing of it is kept; start it again once the cause is fixed.</ErrorNote>
          </div>
        )}
        {run.status === "done" && (
          <ul className="mt-3 space-y-1 text-sm text-slate-700">
            {run.inFlight > 0 && (
              <li>
                {run.inFlight === 1 ? "1 payout was" : `${run.inFlight} payouts were`} still in flight at the desk: not compared yet; the desk&apos;s status checks settle
                {run.inFlight === 1 ? " it" : " them"}, and the next run compares {run.inFlight === 1 ? "it" : "them"}.
              </li>
            )}
            {run.unanswered > 0 && (
              <li className="text-orange-800">
                The provider did not answer for {run.unanswered === 1 ? "1 payout" : `${run.unanswered} payouts`}; {run.unanswered === 1 ? "it was" : "they were"} not compared.
                {run.unansweredPayouts.length > 0 && (
                  <details className="mt-1">
                    <summary className="cursor-pointer text-xs font-medium text-indigo-700">Which, and why</summary>
                    <ul className="mt-1 space-y-0.5 text-xs">
                      {run.unansweredPayouts.map((u) => (
                        <li key={u.payoutId} className="wrap-anywhere">
                          <Link className="font-mono text-indigo-700 hover:underline" href={`/payouts/${u.payoutId}`}>
                            {u.payoutId}
                          </Link>
                          : {u.detail}
                        </li>
                      ))}
                    </ul>
                  </details>
                )}
              </li>
            )}
            {run.orphans > 0 && (
              <li>
                {run.orphans === 1 ? "1 Paytota payout" : `${run.orphans} Paytota payouts`} created for a desk payout and never executed (a lost answer the desk sent again) moved no
                money and {run.orphans === 1 ? "is" : "are"} left out.
              </li>
            )}
          </ul>
        )}
        <div className="mt-4 flex flex-wrap gap-2" role="group" aria-label="Show results of kind">
          <FilterButton selection={selection} kind="exceptions" label="Exceptions" count={exceptions} extra={`${unresolvedTotal} open`} />
          {RESULT_KINDS.map((kind) => (
            <FilterButton key={kind} selection={selection} kind={kind} label={RESULT_LABELS[kind]} count={counts[kind]} tone={KIND_TONES[kind]} extra={kind === "matched" ? undefined : `${unresolved[kind] ?? 0} open`} />
          ))}
          <FilterButton selection={selection} kind="all" label="All" count={Object.values(counts).reduce((a, b) => a + b, 0)} />
        </div>
        <label className="mt-3 flex items-center gap-2 text-sm text-slate-800">
          <input
            type="checkbox"
            checked={selection.unresolvedOnly}
            onChange={(e) => selection.set({ open: e.target.checked })}
            className="h-4 w-4 accent-indigo-600"
          />
          Only exceptions not yet resolved
        </label>
      </Card>

      {items.isPending ? (
        <Loading label="Loading results…" />
      ) : items.isError ? (
        <ErrorNote>{messageOf(items.error)}</ErrorNote>
      ) : items.data.total === 0 ? (
        <Card>
          <EmptyState title={emptyTitle(run.status, selection)}>{emptyHint(run.status, selection)}</EmptyState>
        </Card>
      ) : (
        <>
          <p className="text-sm text-slate-600" aria-live="polite">
            {items.data.total.toLocaleString("en")} {items.data.total === 1 ? "result" : "results"}
            {items.data.pages > 1 ? `; page ${items.data.page} of ${items.data.pages}` : ""}.
          </p>
          <ul className="space-y-3" data-testid="reconciliation-items">
            {items.data.items.map((item) => (
              <li key={item.id}>
                <ItemCard item={item} zone={zone} />
              </li>
            ))}
          </ul>
          {items.data.pages > 1 && (
            <nav aria-label="Pages of results" className="flex items-center gap-2">
              <Button variant="secondary" disabled={items.data.page <= 1} onClick={() => selection.set({ page: items.data.page - 1 })}>
                ← Previous
              </Button>
              <span className="text-sm text-slate-600 tabular">
                Page {items.data.page} of {items.data.pages}
              </span>
              <Button variant="secondary" disabled={items.data.page >= items.data.pages} onClick={() => selection.set({ page: items.data.page + 1 })}>
                Next →
              </Button>
            </nav>
          )}
        </>
      )}
    </section>
  );
}

function FilterButton({ selection, kind, label, count, tone, extra }: { selection: Selection; kind: KindFilter; label: string; count: number; tone?: string; extra?: string }) {
  const pressed = selection.kind === kind;
  return (
    <button
      type="button"
      aria-pressed={pressed}
      onClick={() => selection.set({ kind })}
      data-testid={`filter-${kind}`}
      className={`inline-flex items-center gap-1.5 rounded-md px-2.5 py-1 text-xs font-medium ring-1 ring-inset focus-visible:outline focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-600 ${
        pressed ? "bg-indigo-600 text-white ring-indigo-600" : (tone ?? "bg-white text-slate-800 ring-slate-300")
      }`}
    >
      {label}
      <span className="tabular font-semibold">{count.toLocaleString("en")}</span>
      {extra && count > 0 && <span className={pressed ? "text-indigo-100" : "opacity-75"}>({extra})</span>}
    </button>
  );
}

function emptyTitle(status: string, selection: Selection): string {
  if (status === "queued") return "The run has not started yet";
  if (status === "running") return "No results yet";
  if (status === "failed") return "The run stopped without results";
  if (selection.kind === "exceptions") return selection.unresolvedOnly ? "No open exception" : "No exception: everything compared matched";
  return "Nothing of this kind in this run";
}

function emptyHint(status: string, selection: Selection): string {
  if (status === "queued") return "A worker takes it up within a few seconds; this page follows it.";
  if (status === "running") return "Results appear here as the run goes.";
  if (status === "failed") return "The reason is shown above.";
  if (selection.kind === "exceptions" && selection.unresolvedOnly) return "Every difference of this run has been resolved with a note.";
  return "Choose another kind above.";
}
