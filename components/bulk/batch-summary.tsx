"use client";
// A batch's own page: the file it came from, who uploaded it and when its
// payouts were created, and, once they exist, what became of them
// (batch-outcome.tsx: the share final, per status, paid and failed per
// currency, fees, the failed rows, the results file, retrying failed rows).
import Link from "next/link";
import { useQuery } from "@tanstack/react-query";
import type { inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "@/server/trpc/router";
import { useTRPC } from "@/components/trpc/client";
import { messageOf } from "@/components/trpc/errors";
import { Card, EmptyState, ErrorNote, Loading, PageHeader } from "@/components/ui/layout";
import { when } from "@/components/payouts/format";
import { sizeInWords } from "@/server/bulk/limits";
import { FINAL_STATUSES } from "@/server/domain/payout-state";
import { BatchOutcome } from "./batch-outcome";

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
        {b.statusCounts.length === 0 ? <NoPayouts b={b} /> : null}
        <BatchOutcome id={b.id} />
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

function NoPayouts({ b }: { b: Batch }) {
  return (
    <Card>
      <EmptyState title={b.phase === "creating" ? "Its payouts are being created…" : "No payouts were created from this upload"}>
        {b.phase === "validated" && b.status === "validated" ? "Its maker can create them from the upload's preview." : null}
      </EmptyState>
    </Card>
  );
}
