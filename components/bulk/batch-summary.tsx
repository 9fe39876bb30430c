"use client";
// A batch's own page: the file it came from, who uploaded it and when its
// payouts were created, its payouts counted per status (refreshed while any
// is still on its way), and the totals. The approval and sending of a batch
// (issue 9 §3) extend this page.
import Link from "next/link";
import { useQuery } from "@tanstack/react-query";
import type { inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "@/server/trpc/router";
import { useTRPC } from "@/components/trpc/client";
import { messageOf } from "@/components/trpc/errors";
import { Card, EmptyState, ErrorNote, Loading, PageHeader } from "@/components/ui/layout";
import { StatusBadge } from "@/components/ui/status-badge";
import { money, when } from "@/components/payouts/format";
import { sizeInWords } from "@/server/bulk/limits";
import { FINAL_STATUSES } from "@/server/domain/payout-state";

type Batch = inferRouterOutputs<AppRouter>["batches"]["get"];

export function BatchSummary({ id }: { id: string }) {
  const trpc = useTRPC();
  const batch = useQuery(
    trpc.batches.get.queryOptions(
      { id },
      {
        // While anything is being made or is on its way, the counts move: look again every few seconds.
        refetchInterval: (q) => {
          const b = q.state.data;
          if (!b) return false;
          if (b.phase === "validating" || b.phase === "creating") return 1_000;
          return b.statusCounts.some((s) => !FINAL_STATUSES.has(s.status)) ? 5_000 : false;
        },
      },
    ),
  );
  if (batch.isPending) return <Loading label="Loading the batch…" />;
  if (batch.isError) {
    return (
      <>
        <PageHeader title="Batch" />
        <ErrorNote>{messageOf(batch.error)}</ErrorNote>
      </>
    );
  }
  const b = batch.data;
  return (
    <>
      <PageHeader
        title={`Batch: ${b.fileName}`}
        description={`${sizeInWords(b.fileSize)} uploaded ${when(b.createdAt)} by ${b.createdBy.name}${b.committedAt ? `; payouts created ${when(b.committedAt)}` : ""}`}
        actions={
          <Link href={`/payouts/bulk?batch=${b.id}`} className="rounded-md bg-white px-3.5 py-2 text-sm font-semibold text-slate-800 shadow-sm ring-1 ring-inset ring-slate-300 hover:bg-slate-50">
            The upload&apos;s preview
          </Link>
        }
      />
      <div className="space-y-6">
        <Card className="p-6">
          <dl className="grid grid-cols-2 gap-4 text-sm sm:grid-cols-4" data-testid="batch-facts">
            <Fact label="Rows in the file" value={b.counts.rows.toLocaleString("en")} />
            <Fact label="Valid" value={b.counts.valid.toLocaleString("en")} />
            <Fact label="Invalid" value={b.counts.invalid.toLocaleString("en")} />
            <Fact label="Payouts created" value={(b.create?.createdCount ?? 0).toLocaleString("en")} />
          </dl>
          {b.create && b.create.skippedDuplicates > 0 && (
            <p className="mt-3 text-sm text-slate-600">{b.create.skippedDuplicates.toLocaleString("en")} rows flagged as likely duplicates were left out.</p>
          )}
        </Card>
        <StatusCounts b={b} />
      </div>
    </>
  );
}

function Fact({ label, value }: { label: string; value: string }) {
  return (
    <div>
      <dt className="text-xs font-medium text-slate-600">{label}</dt>
      <dd className="mt-1 text-lg font-semibold tabular-nums text-slate-900">{value}</dd>
    </div>
  );
}

function StatusCounts({ b }: { b: Batch }) {
  if (b.statusCounts.length === 0) {
    return (
      <Card>
        <EmptyState title={b.phase === "creating" ? "Its payouts are being created…" : "No payouts were created from this upload"}>
          {b.phase === "validated" && b.status === "validated" ? "Its maker can create them from the upload's preview." : null}
        </EmptyState>
      </Card>
    );
  }
  const total = b.statusCounts.reduce((n, s) => n + s.count, 0);
  return (
    <Card>
      <table className="min-w-full text-sm" data-testid="batch-status-counts">
        <caption className="px-6 pt-4 text-left text-sm font-semibold text-slate-900">Payouts by status ({total.toLocaleString("en")})</caption>
        <thead className="text-left text-xs text-slate-600">
          <tr>
            <th scope="col" className="px-6 py-2 font-medium">Status</th>
            <th scope="col" className="px-6 py-2 font-medium">Payouts</th>
            <th scope="col" className="px-6 py-2 text-right font-medium">Amount</th>
          </tr>
        </thead>
        <tbody className="divide-y divide-slate-100">
          {b.statusCounts.map((s) => (
            <tr key={`${s.status}:${s.currency}`} data-status-row={s.status}>
              <td className="px-6 py-2">
                <StatusBadge status={s.status} />
              </td>
              <td className="px-6 py-2 tabular-nums">{s.count.toLocaleString("en")}</td>
              <td className="px-6 py-2 text-right tabular-nums">{money(s.amountMinor, s.currency)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Card>
  );
}
