"use client";
// What the desk found in an uploaded file, polled while it is checked (and
// while its payouts are made): progress, then the counts, the totals per
// connection and currency beside each connection's available balance, the
// likely duplicates, the invalid rows with their errors (a page at a time, and
// as a file to fix and upload again), and the maker's choice: create the
// valid rows' payouts, or discard the upload.
import { useEffect, useRef, useState } from "react";
import Link from "next/link";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/client";
import { messageOf } from "@/components/trpc/errors";
import { Button } from "@/components/ui/button";
import { Card, ErrorNote, Loading } from "@/components/ui/layout";
import { StatusBadge } from "@/components/ui/status-badge";
import { money, when } from "@/components/payouts/format";
import { sizeInWords } from "@/server/bulk/limits";
import type { inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "@/server/trpc/router";
import { ProgressBar } from "./progress-bar";

type Phase = "validating" | "validated" | "failed" | "creating" | "created";

export function BatchPreview({ id }: { id: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const batch = useQuery(
    trpc.batches.get.queryOptions(
      { id },
      { refetchInterval: (q) => (q.state.data && (q.state.data.phase === "validating" || q.state.data.phase === "creating") ? 1_000 : false) },
    ),
  );
  const resume = useMutation(trpc.batches.resume.mutationOptions({ onSettled: () => queryClient.invalidateQueries(trpc.batches.pathFilter()) }));
  const asked = useRef(false);
  const stalled = batch.data?.stalled && batch.data.mine;
  useEffect(() => {
    // The run stopped (the server restarted): start it again, once, from the stored file.
    if (stalled && !asked.current) {
      asked.current = true;
      resume.mutate({ id });
    }
  }, [stalled, id, resume]);

  if (batch.isPending) return <Loading label="Loading the upload…" />;
  if (batch.isError) return <ErrorNote>{messageOf(batch.error)}</ErrorNote>;
  const b = batch.data;
  const phase = b.phase as Phase;

  return (
    <Card className="p-6">
      <section aria-labelledby="batch-title" className="space-y-5" data-phase={phase} data-testid="batch">
        <header className="flex flex-wrap items-start justify-between gap-3">
          <div>
            <h2 id="batch-title" className="text-lg font-semibold text-slate-900">
              {b.fileName}
            </h2>
            <p className="mt-0.5 text-xs text-slate-600">
              {sizeInWords(b.fileSize)} · uploaded {when(b.createdAt)} by {b.createdBy.name}
              {b.connection ? ` · through ${b.connection.name} unless a row names another` : " · each row names its connection"}
            </p>
            {b.file && <p className="mt-0.5 text-xs text-slate-600">{describeFile(b.file)}</p>}
          </div>
          <PhaseBadge phase={phase} dryRun={b.dryRun} status={b.status} />
        </header>

        {(phase === "validating" || phase === "creating") && (
          <div className="space-y-1" aria-live="polite">
            <ProgressBar value={b.percent} label={phase === "validating" ? "Checking the file" : "Creating the payouts"} />
            <p className="text-xs text-slate-600" data-testid="batch-progress">
              {phase === "validating"
                ? b.progress.stage === "counting"
                  ? "Reading the file…"
                  : `Checked ${b.progress.rowsRead.toLocaleString("en")} of ${(b.progress.rowsTotal ?? 0).toLocaleString("en")} rows: ${b.progress.valid.toLocaleString("en")} valid, ${b.progress.invalid.toLocaleString("en")} invalid`
                : `Created ${(b.create?.createdCount ?? 0).toLocaleString("en")} payouts so far…`}
              {b.stalled && " — it stopped; starting it again…"}
            </p>
          </div>
        )}

        {phase === "failed" && (
          <div role="alert" className="rounded-md bg-rose-50 px-4 py-3 text-sm text-rose-800 ring-1 ring-inset ring-rose-200" data-testid="file-problems">
            <p className="font-semibold">The file was refused; nothing was created</p>
            <ul className="mt-1 list-disc space-y-1 pl-5">
              {b.problems.map((p) => (
                <li key={p}>{p}</li>
              ))}
            </ul>
          </div>
        )}

        {b.sameFileAs && (
          <p className="rounded-md bg-amber-50 px-4 py-2 text-sm text-amber-900 ring-1 ring-inset ring-amber-200">
            Uploaded again on purpose: the same file was uploaded on {when(b.sameFileAs.createdAt)} by {b.sameFileAs.createdByName} ({b.sameFileAs.fileName}).
          </p>
        )}
        {b.notes.map((n) => (
          <p key={n} className="rounded-md bg-slate-50 px-4 py-2 text-sm text-slate-700 ring-1 ring-inset ring-slate-200">
            {n}
          </p>
        ))}

        {(phase === "validated" || phase === "created" || (phase === "creating" && b.counts.rows > 0)) && <Found b={b} />}
      </section>
    </Card>
  );
}

type Batch = inferRouterOutputs<AppRouter>["batches"]["get"];

function describeFile(file: NonNullable<Batch["file"]>): string {
  const parts =
    file.format === "csv"
      ? [`CSV, ${file.encoding}, separated by ${file.delimiter === "semicolon" ? "semicolons" : "commas"}`]
      : [`XLSX, sheet "${file.sheet}"`];
  parts.push(`header on row ${file.headerRow}`);
  if (file.descriptionRow) parts.push(`the template's description line (row ${file.descriptionRow}) skipped`);
  return parts.join(" · ");
}

function PhaseBadge({ phase, dryRun, status }: { phase: Phase; dryRun: boolean; status: string }) {
  const [text, tone] =
    phase === "failed"
      ? ["Refused", "bg-rose-50 text-rose-800 ring-rose-600/20"]
      : phase === "validating"
        ? ["Checking…", "bg-sky-50 text-sky-800 ring-sky-600/20"]
        : phase === "creating"
          ? ["Creating payouts…", "bg-indigo-50 text-indigo-800 ring-indigo-600/20"]
          : phase === "created"
            ? ["Payouts created", "bg-emerald-50 text-emerald-800 ring-emerald-600/20"]
            : dryRun
              ? ["Dry run: nothing created", "bg-slate-100 text-slate-700 ring-slate-500/20"]
              : status === "discarded"
                ? ["Discarded", "bg-slate-100 text-slate-700 ring-slate-500/20"]
                : ["Checked: not created yet", "bg-amber-50 text-amber-800 ring-amber-600/20"];
  return (
    <span className={`inline-flex items-center rounded-md px-2 py-0.5 text-xs font-medium ring-1 ring-inset ${tone}`} data-testid="batch-phase">
      {text}
    </span>
  );
}

function Found({ b }: { b: Batch }) {
  const duplicates = b.counts.inFileDuplicates + b.counts.recentDuplicates;
  return (
    <div className="space-y-6">
      <dl className="grid grid-cols-2 gap-3 sm:grid-cols-4" data-testid="batch-counts">
        <Count label="Rows" value={b.counts.rows} note={b.counts.emptyRows ? `${b.counts.emptyRows.toLocaleString("en")} empty rows skipped` : undefined} />
        <Count label="Valid" value={b.counts.valid} tone="text-emerald-700" />
        <Count label="Invalid" value={b.counts.invalid} tone={b.counts.invalid ? "text-rose-700" : undefined} />
        <Count label="Likely duplicates" value={duplicates} tone={duplicates ? "text-amber-700" : undefined} note={duplicates ? `${b.counts.inFileDuplicates} within the file, ${b.counts.recentDuplicates} of the last ${b.duplicateWindowHours} h` : undefined} />
      </dl>

      {b.totals && b.totals.length > 0 && <Totals b={b} />}

      {b.counts.recentDuplicates + b.counts.inFileDuplicates > 0 && <Duplicates b={b} />}

      {b.counts.invalid > 0 && <InvalidRows b={b} />}

      {b.phase === "validated" && b.mine && <Decide b={b} />}
      {b.phase === "validated" && !b.mine && b.status === "validated" && <p className="text-sm text-slate-600">Only {b.createdBy.name}, who uploaded it, can create these payouts.</p>}

      {(b.phase === "created" || b.create) && <Created b={b} />}
    </div>
  );
}

function Count({ label, value, tone, note }: { label: string; value: number; tone?: string; note?: string }) {
  return (
    <div className="rounded-md bg-slate-50 px-4 py-3 ring-1 ring-inset ring-slate-200">
      <dt className="text-xs font-medium text-slate-600">{label}</dt>
      <dd className={`mt-1 text-xl font-semibold tabular-nums ${tone ?? "text-slate-900"}`} data-testid={`count-${label.toLowerCase().replaceAll(" ", "-")}`}>
        {value.toLocaleString("en")}
      </dd>
      {note && <dd className="text-xs text-slate-500">{note}</dd>}
    </div>
  );
}

function Totals({ b }: { b: Batch }) {
  return (
    <div className="overflow-x-auto">
      <table className="min-w-full text-sm" data-testid="batch-totals">
        <caption className="mb-2 text-left text-sm font-semibold text-slate-900">{b.phase === "created" ? "Created, per connection and currency" : "Valid rows, per connection and currency"}</caption>
        <thead className="text-left text-xs text-slate-600">
          <tr>
            <th scope="col" className="py-1 pr-4 font-medium">Connection</th>
            <th scope="col" className="py-1 pr-4 font-medium">Rows</th>
            <th scope="col" className="py-1 pr-4 text-right font-medium">Total</th>
            <th scope="col" className="py-1 pr-4 font-medium">Fees</th>
            <th scope="col" className="py-1 font-medium">Available balance</th>
          </tr>
        </thead>
        <tbody className="divide-y divide-slate-100">
          {b.totals!.map((t) => (
            <tr key={`${t.connectionId}:${t.currency}`}>
              <td className="py-1.5 pr-4">{t.connectionName}</td>
              <td className="py-1.5 pr-4 tabular-nums">
                {t.count.toLocaleString("en")}
                {t.duplicateCount > 0 && <span className="block text-xs text-amber-700">{t.duplicateCount.toLocaleString("en")} likely duplicates ({money(t.duplicateAmountMinor, t.currency)})</span>}
              </td>
              <td className="py-1.5 pr-4 text-right font-medium tabular-nums">{money(t.amountMinor, t.currency)}</td>
              <td className="py-1.5 pr-4 text-slate-600">{t.feeMinor === null ? "Not known before sending" : money(t.feeMinor, t.currency)}</td>
              <td className="py-1.5">
                {!t.balance.reports ? (
                  <span className="text-slate-600">{t.connectionName} reports no balance</span>
                ) : t.balance.availableMinor === null ? (
                  <span className="text-slate-600">Not read yet</span>
                ) : (
                  <span className={t.balance.enough ? "text-slate-800" : "font-medium text-rose-700"} data-testid="balance-against-total">
                    {money(t.balance.availableMinor, t.currency)}
                    {t.balance.at && <span className="text-xs text-slate-500"> (read {when(t.balance.at)})</span>}
                    {t.balance.enough === false && <span className="block text-xs">Short by {money(t.amountMinor - t.balance.availableMinor, t.currency)}</span>}
                  </span>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="mt-1 text-xs text-slate-500">Available: the provider&apos;s last reported balance less what is approved or in flight. Providers charge their fees when they pay, so fees are not known before sending.</p>
    </div>
  );
}

/** Page controls for a list of `total` items shown `pageSize` at a time. */
function Pager({ page, total, pageSize, onPage, label }: { page: number; total: number; pageSize: number; onPage: (page: number) => void; label: string }) {
  const last = Math.max(1, Math.ceil(total / pageSize));
  if (last === 1) return null;
  return (
    <nav aria-label={label} className="flex items-center gap-2 text-xs text-slate-600">
      <Button type="button" variant="secondary" onClick={() => onPage(page - 1)} disabled={page <= 1}>
        Previous
      </Button>
      <span className="tabular-nums">
        {((page - 1) * pageSize + 1).toLocaleString("en")}–{Math.min(page * pageSize, total).toLocaleString("en")} of {total.toLocaleString("en")}
      </span>
      <Button type="button" variant="secondary" onClick={() => onPage(page + 1)} disabled={page >= last}>
        Next
      </Button>
    </nav>
  );
}

interface InvalidRow {
  row: number;
  connection: string | null;
  values: string[];
  errors: Record<string, string>;
}

function InvalidRows({ b }: { b: Batch }) {
  const trpc = useTRPC();
  const [page, setPage] = useState(1);
  const canSee = b.mine;
  const rows = useQuery({ ...trpc.batches.rows.queryOptions({ id: b.id, list: "invalidRows", page }), enabled: canSee, placeholderData: (previous) => previous });
  return (
    <section aria-labelledby="invalid-title" className="space-y-2">
      <div className="flex flex-wrap items-center justify-between gap-2">
        <h3 id="invalid-title" className="text-sm font-semibold text-slate-900">
          Invalid rows ({b.counts.invalid.toLocaleString("en")}): fix them in the file and upload it again
        </h3>
        {canSee && (
          <div className="flex gap-2">
            <a className="text-sm font-medium text-indigo-700 hover:underline" href={`/api/batches/${b.id}/invalid-rows?format=csv`} download data-testid="invalid-csv">
              Download invalid rows (CSV)
            </a>
            <a className="text-sm font-medium text-indigo-700 hover:underline" href={`/api/batches/${b.id}/invalid-rows?format=xlsx`} download data-testid="invalid-xlsx">
              (XLSX)
            </a>
          </div>
        )}
      </div>
      <p className="text-xs text-slate-600">The download has your columns and an error column; the desk ignores the error column, so fix the cells and upload the file as it is.</p>
      {!canSee ? null : rows.isPending ? (
        <Loading label="Loading the invalid rows…" />
      ) : rows.isError ? (
        <ErrorNote>{messageOf(rows.error)}</ErrorNote>
      ) : (
        <>
          <div className="overflow-x-auto">
            <table className="min-w-full text-sm" data-testid="invalid-rows">
              <thead className="text-left text-xs text-slate-600">
                <tr>
                  <th scope="col" className="py-1 pr-3 font-medium">Row</th>
                  <th scope="col" className="py-1 pr-3 font-medium">What is wrong</th>
                  <th scope="col" className="py-1 font-medium">As read</th>
                </tr>
              </thead>
              <tbody className="divide-y divide-slate-100 align-top">
                {(rows.data.items as InvalidRow[]).map((r) => (
                  <tr key={r.row} data-testid="invalid-row" data-row={r.row}>
                    <td className="py-1.5 pr-3 font-medium tabular-nums">{r.row}</td>
                    <td className="py-1.5 pr-3">
                      <ul className="space-y-0.5">
                        {Object.entries(r.errors).map(([column, message]) => (
                          <li key={column} className="text-rose-800">
                            {column === "row" ? "" : <span className="font-mono text-xs text-slate-700">{column}: </span>}
                            {message}
                          </li>
                        ))}
                      </ul>
                    </td>
                    <td className="py-1.5 text-xs text-slate-600">
                      {rows.data.columns.map((c, i) => (r.values[i] ? `${c}: ${r.values[i]}` : null)).filter(Boolean).join(" · ")}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <Pager page={page} total={rows.data.total} pageSize={rows.data.pageSize} onPage={setPage} label="Invalid rows pages" />
        </>
      )}
    </section>
  );
}

interface RecentDuplicate {
  row: number;
  payouts: Array<{ id: string; createdAt: string; status: string; connectionName: string; createdByName: string }>;
}

function Duplicates({ b }: { b: Batch }) {
  const trpc = useTRPC();
  const [inFilePage, setInFilePage] = useState(1);
  const [recentPage, setRecentPage] = useState(1);
  const inFile = useQuery({ ...trpc.batches.rows.queryOptions({ id: b.id, list: "inFileDuplicates", page: inFilePage }), enabled: b.mine && b.counts.inFileDuplicates > 0 });
  const recent = useQuery({ ...trpc.batches.rows.queryOptions({ id: b.id, list: "recentDuplicates", page: recentPage }), enabled: b.mine && b.counts.recentDuplicates > 0 });
  return (
    <section aria-labelledby="duplicates-title" className="space-y-2 rounded-md bg-amber-50/60 px-4 py-3 ring-1 ring-inset ring-amber-200" data-testid="duplicates">
      <h3 id="duplicates-title" className="text-sm font-semibold text-amber-900">
        Likely duplicates: same recipient, amount and currency
      </h3>
      {inFile.data && (
        <div>
          <p className="text-xs font-medium text-amber-900">Repeating another row of this file</p>
          <ul className="text-sm text-amber-900">
            {(inFile.data.items as Array<{ row: number; sameAs: number }>).map((d) => (
              <li key={d.row}>
                Row {d.row} repeats row {d.sameAs}
              </li>
            ))}
          </ul>
          <Pager page={inFilePage} total={inFile.data.total} pageSize={inFile.data.pageSize} onPage={setInFilePage} label="Repeated rows pages" />
        </div>
      )}
      {recent.data && (
        <div>
          <p className="text-xs font-medium text-amber-900">Repeating a payout of the last {b.duplicateWindowHours} hours</p>
          <ul className="text-sm text-amber-900">
            {(recent.data.items as RecentDuplicate[]).map((d) => (
              <li key={d.row}>
                Row {d.row}:{" "}
                {d.payouts.map((p, i) => (
                  <span key={p.id}>
                    {i > 0 && ", "}
                    <Link href={`/payouts/${p.id}`} className="underline">
                      a payout
                    </Link>{" "}
                    created {when(p.createdAt)} by {p.createdByName} via {p.connectionName} ({p.status.replaceAll("_", " ")})
                  </span>
                ))}
              </li>
            ))}
          </ul>
          <Pager page={recentPage} total={recent.data.total} pageSize={recent.data.pageSize} onPage={setRecentPage} label="Recent duplicates pages" />
        </div>
      )}
    </section>
  );
}

function Decide({ b }: { b: Batch }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const duplicates = b.counts.inFileDuplicates + b.counts.recentDuplicates;
  const [includeDuplicates, setIncludeDuplicates] = useState(false);
  const refresh = () => queryClient.invalidateQueries(trpc.batches.pathFilter());
  const create = useMutation(trpc.batches.create.mutationOptions({ onSuccess: refresh }));
  const discard = useMutation(trpc.batches.discard.mutationOptions({ onSuccess: refresh }));
  const count = includeDuplicates ? b.counts.valid : b.counts.creatableWithoutDuplicates;
  const short = b.totals?.filter((t) => t.balance.enough === false) ?? [];

  if (b.dryRun) {
    return (
      <p className="rounded-md bg-slate-50 px-4 py-3 text-sm text-slate-700 ring-1 ring-inset ring-slate-200" data-testid="dry-run-note">
        This was a dry run: nothing was created, and nothing can be created from it. To create these payouts, upload the file again without “Dry run”.
      </p>
    );
  }
  if (b.status === "discarded") return <p className="text-sm text-slate-600">Discarded: nothing was created from this upload.</p>;
  return (
    <div className="space-y-3 border-t border-slate-100 pt-5">
      {short.length > 0 && (
        <p className="rounded-md bg-rose-50 px-4 py-2 text-sm text-rose-800 ring-1 ring-inset ring-rose-200">
          More than the available balance on {short.map((t) => `${t.connectionName} (${t.currency})`).join(", ")}: the payouts can be created, but approvals will say so and sending may fail until the balance is topped up.
        </p>
      )}
      {duplicates > 0 && (
        <label className="flex items-start gap-2 text-sm text-slate-800">
          <input type="checkbox" className="mt-0.5" checked={includeDuplicates} onChange={(e) => setIncludeDuplicates(e.target.checked)} name="includeDuplicates" />
          <span>
            Also create the {duplicates.toLocaleString("en")} {duplicates === 1 ? "row" : "rows"} flagged as likely duplicates{" "}
            <span className="text-slate-500">(left out unless ticked; approvers are told about them either way)</span>
          </span>
        </label>
      )}
      {create.error && <ErrorNote>{messageOf(create.error)}</ErrorNote>}
      {discard.error && <ErrorNote>{messageOf(discard.error)}</ErrorNote>}
      <div className="flex flex-wrap items-center gap-3">
        <Button type="button" onClick={() => create.mutate({ id: b.id, includeDuplicates })} busy={create.isPending} disabled={count <= 0 || discard.isPending}>
          {count > 0 ? `Create ${count.toLocaleString("en")} ${count === 1 ? "payout" : "payouts"}` : "No payouts to create"}
        </Button>
        <Button type="button" variant="secondary" onClick={() => discard.mutate({ id: b.id })} busy={discard.isPending} disabled={create.isPending}>
          Discard this upload
        </Button>
        <p className="text-xs text-slate-500">
          {b.counts.invalid > 0 ? `The ${b.counts.invalid.toLocaleString("en")} invalid rows are left out. ` : ""}Each payout waits for an approver before anything is sent.
        </p>
      </div>
    </div>
  );
}

function Created({ b }: { b: Batch }) {
  const c = b.create;
  return (
    <div className="space-y-2 border-t border-slate-100 pt-5" data-testid="batch-created">
      {c?.error && <ErrorNote>{c.error}</ErrorNote>}
      {b.phase === "created" && (
        <div role="status" className="rounded-md bg-emerald-50 px-4 py-3 text-sm text-emerald-900 ring-1 ring-inset ring-emerald-200">
          <p className="font-semibold">
            {c?.createdCount.toLocaleString("en")} {c?.createdCount === 1 ? "payout" : "payouts"} created, waiting for approval
          </p>
          {c && c.skippedDuplicates > 0 && <p>{c.skippedDuplicates.toLocaleString("en")} likely duplicates were left out.</p>}
          {c && c.nowInvalid.length > 0 && (
            <p>
              {c.nowInvalid.length.toLocaleString("en")} rows failed the checks when they were created and were left out (rows {c.nowInvalid.slice(0, 10).map((r) => r.row).join(", ")}
              {c.nowInvalid.length > 10 ? ", …" : ""}): {Object.values(c.nowInvalid[0]!.errors)[0]}
            </p>
          )}
        </div>
      )}
      {b.statusCounts.length > 0 && (
        <ul className="flex flex-wrap gap-3 text-sm">
          {b.statusCounts.map((s) => (
            <li key={`${s.status}:${s.currency}`} className="flex items-center gap-1.5">
              <StatusBadge status={s.status} /> {s.count.toLocaleString("en")} · {money(s.amountMinor, s.currency)}
            </li>
          ))}
        </ul>
      )}
      <Link href={`/batches/${b.id}`} className="inline-block text-sm font-semibold text-indigo-700 hover:underline" data-testid="batch-link">
        Open the batch
      </Link>
    </div>
  );
}
