"use client";
// What became of a batch's payouts, on the batch page: how many are final
// (a bar), how many per status, what was paid and what failed per currency,
// the fees the providers reported, the failed rows with their reasons a page
// at a time (each linked to its payout), the results as a file, and "retry
// failed rows" as a new batch that goes through the upload's preview.
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "@/server/trpc/router";
import { useTRPC } from "@/components/trpc/client";
import { messageOf } from "@/components/trpc/errors";
import { Button } from "@/components/ui/button";
import { Card, EmptyState, ErrorNote, Loading } from "@/components/ui/layout";
import { StatusBadge } from "@/components/ui/status-badge";
import { money, phone, when } from "@/components/payouts/format";
import { DownloadStatus } from "@/components/statements/download-buttons";
import { FORMAT_LABELS, useExportDownload } from "@/components/statements/use-download";
import { ProgressBar } from "./progress-bar";

type Outcome = inferRouterOutputs<AppRouter>["batches"]["outcome"];

export function BatchOutcome({ id }: { id: string }) {
  const trpc = useTRPC();
  const [page, setPage] = useState(1);
  const outcome = useQuery({
    ...trpc.batches.outcome.queryOptions(
      { id, page },
      {
        // While payouts are on their way the figures move: look again every few seconds, and stop once all are final.
        refetchInterval: (q) => (q.state.data && !q.state.data.allFinal && q.state.data.total > 0 ? 5_000 : false),
      },
    ),
    placeholderData: (previous) => previous,
  });
  if (outcome.isPending) return <Loading label="Loading what became of its payouts…" />;
  if (outcome.isError) {
    return (
      <Card className="p-6">
        <ErrorNote>Could not load what became of this batch&apos;s payouts: {messageOf(outcome.error)}</ErrorNote>
        <Button type="button" variant="secondary" className="mt-3" onClick={() => outcome.refetch()}>
          Try again
        </Button>
      </Card>
    );
  }
  const o = outcome.data;
  const retryOf = o.retryOf && (
    <p className="rounded-md bg-indigo-50 px-4 py-2 text-sm text-indigo-900 ring-1 ring-inset ring-indigo-200" data-testid="retry-of">
      A retry of the failed rows of{" "}
      <Link href={`/batches/${o.retryOf.id}`} className="font-medium underline">
        {o.retryOf.fileName}
      </Link>
      .
    </p>
  );
  if (o.total === 0) return retryOf || null;
  return (
    <div className="space-y-6" data-testid="batch-outcome">
      {retryOf}
      <Progress o={o} />
      <MoneyTotals o={o} />
      <FailedRows o={o} onPage={setPage} />
      <div className="grid gap-6 lg:grid-cols-2">
        <ResultsDownload o={o} />
        <Retry o={o} />
      </div>
    </div>
  );
}

function Progress({ o }: { o: Outcome }) {
  return (
    <Card className="space-y-4 p-6">
      <div className="flex flex-wrap items-baseline justify-between gap-2">
        <h2 className="text-sm font-semibold text-slate-900">{o.allFinal ? "Every payout is final" : "Not every payout is final yet"}</h2>
        <p className="text-sm tabular-nums text-slate-700" data-testid="batch-final-share">
          {o.final.toLocaleString("en")} of {o.total.toLocaleString("en")} final ({o.percentFinal} %)
        </p>
      </div>
      <ProgressBar value={o.percentFinal} label={`${o.final} of ${o.total} payouts final`} />
      <ul className="flex flex-wrap gap-x-6 gap-y-2 text-sm" aria-label="Payouts per status" data-testid="batch-status-counts">
        {o.statuses.map((s) => (
          <li key={s.status} className="flex items-center gap-2" data-status-row={s.status}>
            <StatusBadge status={s.status} />
            <span className="font-semibold tabular-nums text-slate-900">{s.count.toLocaleString("en")}</span>
          </li>
        ))}
      </ul>
      {!o.allFinal && <p className="text-xs text-slate-500">Refreshed every 5 seconds until every payout is final.</p>}
    </Card>
  );
}

function MoneyTotals({ o }: { o: Outcome }) {
  return (
    <Card className="overflow-x-auto">
      <table className="min-w-full text-sm" data-testid="batch-money">
        <caption className="px-6 pt-4 text-left text-sm font-semibold text-slate-900">Money per currency</caption>
        <thead className="text-left text-xs text-slate-600">
          <tr>
            <th scope="col" className="px-6 py-2 font-medium">Currency</th>
            <th scope="col" className="px-6 py-2 text-right font-medium">In the batch</th>
            <th scope="col" className="px-6 py-2 text-right font-medium">Paid</th>
            <th scope="col" className="px-6 py-2 text-right font-medium">Failed</th>
            <th scope="col" className="px-6 py-2 text-right font-medium">Not final yet</th>
          </tr>
        </thead>
        <tbody className="divide-y divide-slate-100">
          {o.currencies.map((c) => (
            <tr key={c.currency} data-currency={c.currency}>
              <th scope="row" className="px-6 py-2 text-left font-medium text-slate-900">{c.currency}</th>
              <td className="px-6 py-2 text-right tabular-nums">
                {money(c.amountMinor, c.currency)} <span className="text-xs text-slate-500">({c.count.toLocaleString("en")})</span>
              </td>
              <td className="px-6 py-2 text-right font-semibold tabular-nums text-emerald-800" data-testid="paid-total">
                {money(c.paidMinor, c.currency)} <span className="text-xs font-normal text-slate-500">({c.paidCount.toLocaleString("en")})</span>
              </td>
              <td className="px-6 py-2 text-right tabular-nums text-rose-800">
                {money(c.failedMinor, c.currency)} <span className="text-xs text-slate-500">({c.failedCount.toLocaleString("en")})</span>
              </td>
              <td className="px-6 py-2 text-right tabular-nums">
                {money(c.openMinor, c.currency)} <span className="text-xs text-slate-500">({c.openCount.toLocaleString("en")})</span>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="px-6 pb-4 pt-2 text-sm text-slate-700" data-testid="batch-fees">
        <span className="font-medium">Fees reported: </span>
        {o.fees.length === 0 ? "none so far" : o.fees.map((f) => `${money(f.feeMinor, f.currency)} on ${f.count.toLocaleString("en")} payout${f.count === 1 ? "" : "s"}`).join("; ")}
        {o.feesNotReported > 0 && (
          <span className="text-slate-600">
            {" "}
            · {o.feesNotReported.toLocaleString("en")} paid payout{o.feesNotReported === 1 ? "" : "s"} with no fee reported by the provider (not counted as 0)
          </span>
        )}
      </div>
    </Card>
  );
}

function FailedRows({ o, onPage }: { o: Outcome; onPage: (page: number) => void }) {
  const f = o.failed;
  return (
    <Card>
      <div className="px-6 pt-4">
        <h2 className="text-sm font-semibold text-slate-900">Failed rows ({f.total.toLocaleString("en")})</h2>
        <p className="mt-1 text-xs text-slate-600">Rows whose payout the provider failed, by the row number the spreadsheet shows. Times in UTC.</p>
      </div>
      {f.total === 0 ? (
        <EmptyState title={o.allFinal ? "No row failed" : "No row has failed so far"} />
      ) : (
        <>
          <div className="overflow-x-auto">
            <table className="mt-2 min-w-full text-sm" data-testid="failed-rows">
              <thead className="text-left text-xs text-slate-600">
                <tr>
                  <th scope="col" className="px-6 py-2 font-medium">Row</th>
                  <th scope="col" className="px-6 py-2 font-medium">Recipient</th>
                  <th scope="col" className="px-6 py-2 text-right font-medium">Amount</th>
                  <th scope="col" className="px-6 py-2 font-medium">Why it failed</th>
                  <th scope="col" className="px-6 py-2 font-medium">Failed at (UTC)</th>
                  <th scope="col" className="px-6 py-2 font-medium"><span className="sr-only">Payout</span></th>
                </tr>
              </thead>
              <tbody className="divide-y divide-slate-100 align-top">
                {f.items.map((r) => (
                  <tr key={r.payoutId} data-testid="failed-row" data-row={r.row ?? undefined}>
                    <td className="px-6 py-2 font-medium tabular-nums">{r.row ?? "—"}</td>
                    <td className="px-6 py-2">
                      <div className="font-medium text-slate-900">{r.recipientName || phone(r.recipientPhone, r.recipientAccount)}</div>
                      {r.recipientName && <div className="text-xs text-slate-600">{phone(r.recipientPhone, r.recipientAccount)}</div>}
                      <div className="text-xs text-slate-500">{r.connectionName}</div>
                    </td>
                    <td className="px-6 py-2 text-right tabular-nums">{money(r.amountMinor, r.currency)}</td>
                    <td className="px-6 py-2">
                      <div className="text-slate-900">{r.reason}</div>
                      {r.failureCode && <div className="font-mono text-xs text-rose-700 wrap-anywhere">{r.failureCode}</div>}
                    </td>
                    <td className="px-6 py-2 text-xs text-slate-600">{r.finalizedAt ? when(r.finalizedAt) : "—"}</td>
                    <td className="px-6 py-2">
                      <Link href={`/payouts/${r.payoutId}`} className="text-sm font-medium text-indigo-700 hover:underline focus-visible:outline focus-visible:outline-2 focus-visible:outline-indigo-600">
                        Payout<span className="sr-only"> of row {r.row}</span> →
                      </Link>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <Pager page={f.page} pages={f.pages} total={f.total} pageSize={f.pageSize} onPage={onPage} />
        </>
      )}
    </Card>
  );
}

function Pager({ page, pages, total, pageSize, onPage }: { page: number; pages: number; total: number; pageSize: number; onPage: (page: number) => void }) {
  if (pages <= 1) return <div className="h-4" />;
  return (
    <nav aria-label="Failed rows pages" className="flex items-center gap-2 px-6 py-3 text-xs text-slate-600">
      <Button type="button" variant="secondary" onClick={() => onPage(page - 1)} disabled={page <= 1}>
        Previous
      </Button>
      <span className="tabular-nums" aria-live="polite">
        {((page - 1) * pageSize + 1).toLocaleString("en")}–{Math.min(page * pageSize, total).toLocaleString("en")} of {total.toLocaleString("en")}
      </span>
      <Button type="button" variant="secondary" onClick={() => onPage(page + 1)} disabled={page >= pages}>
        Next
      </Button>
    </nav>
  );
}

function ResultsDownload({ o }: { o: Outcome }) {
  const { state, start, cancel, dialog } = useExportDownload();
  const running = state.phase === "running";
  return (
    <Card className="space-y-3 p-6">
      {dialog}
      <h2 className="text-sm font-semibold text-slate-900">Results</h2>
      <p className="text-sm text-slate-600">
        Every row of the file with its payout&apos;s {o.allFinal ? "final" : "current"} status, the provider&apos;s reference, the failure reason and the fee; rows no payout was made of say why. Times in UTC.
      </p>
      <div className="flex flex-wrap gap-2" role="group" aria-label="Download the results">
        {(["csv", "xlsx"] as const).map((format) => (
          <Button key={format} type="button" variant="secondary" disabled={running} onClick={() => start(`/api/batches/${o.id}/results?format=${format}`, format)} data-testid={`results-${format}`}>
            Download {FORMAT_LABELS[format]}
          </Button>
        ))}
        {running && (
          <Button type="button" variant="ghost" onClick={cancel}>
            Cancel download
          </Button>
        )}
      </div>
      <DownloadStatus state={state} />
    </Card>
  );
}

function Retry({ o }: { o: Outcome }) {
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
  const retry = useMutation(
    trpc.batches.retryFailed.mutationOptions({
      onSuccess: async (answer) => {
        await queryClient.invalidateQueries(trpc.batches.pathFilter());
        router.push(`/payouts/bulk?batch=${answer.id}`);
      },
    }),
  );
  const existing = o.retry.batch;
  return (
    <Card className="space-y-3 p-6" data-testid="batch-retry">
      <h2 className="text-sm font-semibold text-slate-900">Retry failed rows</h2>
      {existing ? (
        <>
          <p className="text-sm text-slate-700">
            The failed rows were made into a new batch, <span className="font-medium">{existing.fileName}</span>, {when(existing.createdAt)}
            {existing.status === "created" ? "; its payouts were created." : "; it waits for its maker to create its payouts."}
          </p>
          <div className="flex flex-wrap gap-3">
            <Link href={`/payouts/bulk?batch=${existing.id}`} className="text-sm font-medium text-indigo-700 hover:underline">
              The retry&apos;s preview
            </Link>
            <Link href={`/batches/${existing.id}`} className="text-sm font-medium text-indigo-700 hover:underline">
              The retry&apos;s batch page
            </Link>
          </div>
        </>
      ) : o.retry.refusal ? (
        <p className="text-sm text-slate-600" data-testid="retry-refusal">
          {o.retry.refusal}.
        </p>
      ) : o.retry.canRetry ? (
        <>
          <p className="text-sm text-slate-700">
            Makes a new batch of the {o.failed.total.toLocaleString("en")} failed row{o.failed.total === 1 ? "" : "s"}, as they were, checked like any upload. Nothing is sent: you see its preview, create its payouts, and they go through approval again.
          </p>
          <Button type="button" onClick={() => retry.mutate({ id: o.id })} busy={retry.isPending} data-testid="retry-failed">
            Retry {o.failed.total.toLocaleString("en")} failed row{o.failed.total === 1 ? "" : "s"}
          </Button>
        </>
      ) : (
        <p className="text-sm text-slate-600">A maker can make the {o.failed.total.toLocaleString("en")} failed rows into a new batch to pay them again.</p>
      )}
      {retry.isError && <ErrorNote>{messageOf(retry.error)}</ErrorNote>}
      <p className="text-xs text-slate-500">Only rows the provider failed are retried; rows rejected, withdrawn or expired were stopped by a person or by the approval window.</p>
    </Card>
  );
}
