"use client";
// A bulk file's payouts in the approvals queue: one card per batch instead of
// a card per row. It says what the file is (name, maker, rows waiting, totals
// per currency) and, as the server judges it for this person
// (approvals.batchPreview, the same judgement as the decision), how many rows
// they would approve to the end, how many would get their approval and wait
// for a higher level, which rows are not theirs to decide and why, and what
// needs acknowledging (likely duplicates, past the available balance). The
// whole batch, or rows chosen from it, is approved or rejected with one
// step-up code (approvals.approveBatch / rejectBatch).
import { useState } from "react";
import Link from "next/link";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/client";
import { fieldErrorsOf, messageOf } from "@/components/trpc/errors";
import { useStepUp } from "@/components/auth/step-up";
import { Button } from "@/components/ui/button";
import { controlClass } from "@/components/ui/field";
import { Card, ErrorNote, Loading } from "@/components/ui/layout";
import { money, phone, when } from "@/components/payouts/format";
import type { BatchDecisionOutcome, QueueBatch } from "./types";

const n = (x: number) => x.toLocaleString("en");
/** Chosen rows previewed as such (their ids go in the query's URL). */
const PREVIEW_CHOICE_MAX = 150;
const rowsWord = (x: number) => `${n(x)} row${x === 1 ? "" : "s"}`;

/**
 * `onDecided`: the outcome, told to the list as well, since a batch with no
 * row left waiting leaves the queue (and this card) when the queue refreshes.
 */
export function BatchCard({ group, onDecided }: { group: QueueBatch; onDecided?: (outcome: BatchDecisionOutcome, fileName: string) => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const stepUp = useStepUp();
  const batchId = group.batch.id;
  const [choosing, setChoosing] = useState(false);
  const [chosen, setChosen] = useState<Set<string>>(new Set());
  const scope = choosing && chosen.size > 0 ? [...chosen] : undefined;
  // A query travels in the URL: a long choice is judged as part of the whole batch here (acknowledgements
  // shown for the batch, to be safe) and row by row by the decision itself, which says what it skipped.
  const previewScope = scope && scope.length <= PREVIEW_CHOICE_MAX ? scope : undefined;
  const preview = useQuery(trpc.approvals.batchPreview.queryOptions({ batchId, payoutIds: previewScope }, { staleTime: 0 }));
  const onSuccess = () => queryClient.invalidateQueries();
  const approve = useMutation(trpc.approvals.approveBatch.mutationOptions({ onSuccess }));
  const reject = useMutation(trpc.approvals.rejectBatch.mutationOptions({ onSuccess }));
  const [ackOver, setAckOver] = useState(false);
  const [ackDupes, setAckDupes] = useState(false);
  const [rejecting, setRejecting] = useState(false);
  const [reason, setReason] = useState("");
  const [outcome, setOutcome] = useState<BatchDecisionOutcome | null>(null);
  const approveErrors = fieldErrorsOf(approve.error);
  const rejectErrors = fieldErrorsOf(reject.error);
  const idPrefix = `batch-${batchId}`;

  async function run(action: () => Promise<BatchDecisionOutcome>) {
    try {
      const done = await stepUp.run(action);
      setOutcome(done);
      onDecided?.(done, group.batch.fileName);
      setChosen(new Set());
      setRejecting(false);
    } catch {
      // Shown below: field errors beside their control, anything else as a note.
    }
  }

  const p = preview.data;
  const needsOver = (p?.needs.overBalanceRows ?? 0) > 0;
  const needsDupes = (p?.needs.duplicateRows ?? 0) > 0;
  const ready = p !== undefined && p.approvable > 0 && (!needsOver || ackOver) && (!needsDupes || ackDupes);
  const scopeWords = scope ? `${rowsWord(scope.length)} chosen` : "the whole batch";
  const roughPreview = scope !== undefined && previewScope === undefined;

  return (
    <Card className="p-4" data-testid="batch-card" data-batch-id={batchId}>
      {stepUp.dialog}
      <div className="flex flex-wrap items-start justify-between gap-3">
        <div className="min-w-0 space-y-1">
          <p className="flex flex-wrap items-center gap-2">
            <span className="rounded bg-indigo-50 px-1.5 py-0.5 text-xs font-semibold uppercase tracking-wide text-indigo-700 ring-1 ring-inset ring-indigo-200">Batch</span>
            <Link href={`/batches/${batchId}`} className="text-base font-semibold text-indigo-700 hover:underline wrap-anywhere">
              {group.batch.fileName}
            </Link>
          </p>
          <p className="text-xs text-slate-500">
            Uploaded {when(group.batch.createdAt)} by {group.batch.createdBy.name}
            {group.expiresAt ? ` · first approval window ends ${when(group.expiresAt)}` : ""}
          </p>
          <p className="text-sm text-slate-800" data-testid="batch-waiting">
            <span className="font-semibold">{rowsWord(group.waiting)}</span> waiting for approval (of {n(group.batch.rowCount)} in the file):{" "}
            <span className="tabular">{group.totals.map((t) => `${money(t.amountMinor, t.currency)} (${n(t.count)})`).join(" · ")}</span>
          </p>
        </div>
        <Button variant="secondary" onClick={() => setChoosing((v) => !v)} aria-expanded={choosing} data-testid="choose-rows">
          {choosing ? "Decide on the whole batch" : "Choose rows…"}
        </Button>
      </div>

      <div className="mt-3 space-y-3 border-t border-slate-100 pt-3">
        {preview.isPending ? (
          <Loading label="Checking each row under its policy…" />
        ) : preview.isError ? (
          <ErrorNote>{messageOf(preview.error)}</ErrorNote>
        ) : (
          <div className="space-y-1 text-sm text-slate-700" data-testid="batch-judgement">
            {roughPreview && <p className="text-slate-600">{rowsWord(scope!.length)} chosen; below is the whole batch. Each chosen row is judged when you decide, and the outcome says what was skipped.</p>}
            <p>
              For you, {roughPreview ? "the whole batch" : scopeWords}: <span className="font-semibold text-slate-900">{n(p!.final)}</span> would be approved and sent
              {p!.awaitingMore > 0 && (
                <>
                  ; <span className="font-semibold text-slate-900">{n(p!.awaitingMore)}</span> would get your approval and wait for a higher level
                </>
              )}
              .{p!.needsLaterLevel > 0 && ` ${rowsWord(p!.needsLaterLevel)} need more than one level under the policy.`}
            </p>
            {p!.notYours.length > 0 && (
              <ul className="list-disc space-y-0.5 pl-5 text-slate-600" data-testid="batch-not-yours">
                {p!.notYours.map((s) => (
                  <li key={s.rule} className="wrap-anywhere">
                    {rowsWord(s.count)} not yours to approve: {s.reason}
                  </li>
                ))}
              </ul>
            )}
            {(needsOver || needsDupes) && (
              <fieldset className="space-y-1.5 rounded-md bg-amber-50 p-3 ring-1 ring-inset ring-amber-200" data-testid="acknowledgements">
                <legend className="sr-only">Acknowledge before approving</legend>
                {needsDupes && (
                  <label className="flex items-start gap-2 text-amber-900">
                    <input id={`${idPrefix}-dupes`} type="checkbox" className="mt-0.5 h-4 w-4" checked={ackDupes} onChange={(e) => setAckDupes(e.target.checked)} />
                    <span>
                      {rowsWord(p!.needs.duplicateRows)} {p!.needs.duplicateRows === 1 ? "is a likely duplicate" : "are likely duplicates"} of other payouts (same recipient,
                      amount and currency close in time). I have looked and approve anyway.
                      {approveErrors["acknowledge.duplicates"] && <span className="block text-rose-700">{approveErrors["acknowledge.duplicates"]}</span>}
                    </span>
                  </label>
                )}
                {needsOver && (
                  <label className="flex items-start gap-2 text-amber-900">
                    <input id={`${idPrefix}-over`} type="checkbox" className="mt-0.5 h-4 w-4" checked={ackOver} onChange={(e) => setAckOver(e.target.checked)} />
                    <span>
                      {rowsWord(p!.needs.overBalanceRows)} would go past the connection&apos;s available balance (counted in the order they are approved). I approve anyway.
                      {approveErrors["acknowledge.overBalance"] && <span className="block text-rose-700">{approveErrors["acknowledge.overBalance"]}</span>}
                    </span>
                  </label>
                )}
              </fieldset>
            )}
          </div>
        )}

        {choosing && <RowPicker batchId={batchId} chosen={chosen} onChange={setChosen} />}

        {rejecting && (
          <div className="space-y-1">
            <label htmlFor={`${idPrefix}-reason`} className="text-sm font-medium text-slate-800">
              Reason for rejecting {scopeWords} (the maker sees it)
            </label>
            <textarea id={`${idPrefix}-reason`} className={controlClass} rows={2} maxLength={500} value={reason} onChange={(e) => setReason(e.target.value)} />
            {rejectErrors.reason && <p className="text-sm text-rose-700">{rejectErrors.reason}</p>}
          </div>
        )}

        {approve.error && Object.keys(approveErrors).length === 0 && <ErrorNote>{messageOf(approve.error)}</ErrorNote>}
        {approve.error && Object.keys(approveErrors).length > 0 && <ErrorNote>Nothing was approved: tick the acknowledgements above, then approve again.</ErrorNote>}
        {reject.error && !rejectErrors.reason && <ErrorNote>{messageOf(reject.error)}</ErrorNote>}

        <div className="flex flex-wrap items-center gap-3">
          <Button
            onClick={() => void run(() => approve.mutateAsync({ batchId, payoutIds: scope, acknowledge: { overBalance: ackOver, duplicates: ackDupes } }))}
            busy={approve.isPending}
            disabled={!ready || reject.isPending || (choosing && chosen.size === 0)}
            data-testid="approve-whole-batch"
          >
            {p ? `Approve ${roughPreview ? rowsWord(scope!.length) + " chosen" : scope ? rowsWord(p.approvable) + " chosen" : rowsWord(p.approvable)} with one code` : "Approve"}
          </Button>
          {rejecting ? (
            <>
              <Button variant="danger" onClick={() => void run(() => reject.mutateAsync({ batchId, payoutIds: scope, reason }))} busy={reject.isPending} disabled={choosing && chosen.size === 0}>
                Reject {scopeWords} with one code
              </Button>
              <Button variant="ghost" onClick={() => setRejecting(false)}>
                Cancel
              </Button>
            </>
          ) : (
            <Button variant="secondary" onClick={() => setRejecting(true)} disabled={!p || p.rejectable === 0}>
              Reject…
            </Button>
          )}
        </div>

        {outcome && !onDecided && <BatchDecisionNote outcome={outcome} />}
      </div>
    </Card>
  );
}

/** What a batch decision did: approved to the end, at this level, rejected, already decided, skipped by reason. */
export function BatchDecisionNote({ outcome, fileName }: { outcome: BatchDecisionOutcome; fileName?: string }) {
  return (
    <div className="space-y-1 rounded-md bg-slate-50 p-3 text-sm" role="status" data-testid="batch-decision-outcome">
      {fileName && <p className="font-medium text-slate-900 wrap-anywhere">{fileName}</p>}
      {outcome.decision === "approved" ? (
        <p className="text-emerald-800">
          {rowsWord(outcome.approved)} approved and due for sending; {rowsWord(outcome.awaitingMore)} approved at your level, waiting for the next.
        </p>
      ) : (
        <p className="text-slate-900">{rowsWord(outcome.rejected)} rejected.</p>
      )}
      {outcome.alreadyDecided > 0 && <p className="text-slate-600">{rowsWord(outcome.alreadyDecided)} you had already decided on; nothing was recorded twice.</p>}
      {outcome.skipped.map((s) => (
        <p key={s.rule} className="text-slate-700 wrap-anywhere">
          {rowsWord(s.count)} skipped: {s.reason}
        </p>
      ))}
    </div>
  );
}

/** The batch's waiting rows a page at a time, each with what this person may do, to choose some. */
function RowPicker({ batchId, chosen, onChange }: { batchId: string; chosen: Set<string>; onChange: (next: Set<string>) => void }) {
  const trpc = useTRPC();
  const [page, setPage] = useState(1);
  const rows = useQuery(trpc.approvals.batchRows.queryOptions({ batchId, page }));
  if (rows.isPending) return <Loading label="Loading the batch's rows…" />;
  if (rows.isError) return <ErrorNote>{messageOf(rows.error)}</ErrorNote>;
  const { total, pageSize } = rows.data;
  const pages = Math.max(1, Math.ceil(total / pageSize));
  const toggle = (id: string, on: boolean) => {
    const next = new Set(chosen);
    if (on) next.add(id);
    else next.delete(id);
    onChange(next);
  };
  const decidable = rows.data.rows.filter((r) => r.approve.ok || r.rejectBlockedBecause === null);
  return (
    <div className="space-y-2" data-testid="batch-rows">
      <div className="flex flex-wrap items-center justify-between gap-2 text-sm">
        <p className="text-slate-700">
          {chosen.size > 0 ? `${rowsWord(chosen.size)} chosen` : "Choose the rows to decide on"} · page {page} of {pages}
        </p>
        <div className="flex gap-2">
          <Button variant="ghost" onClick={() => onChange(new Set([...chosen, ...decidable.map((r) => r.payout.id)]))}>
            Choose this page
          </Button>
          <Button variant="ghost" onClick={() => onChange(new Set())} disabled={chosen.size === 0}>
            Clear
          </Button>
        </div>
      </div>
      <div className="overflow-x-auto">
        <table className="min-w-full text-left text-sm">
          <thead className="text-xs uppercase tracking-wide text-slate-500">
            <tr>
              <th className="w-8 py-1" />
              <th className="py-1 pr-3">Row</th>
              <th className="py-1 pr-3 text-right">Amount</th>
              <th className="py-1 pr-3">Recipient</th>
              <th className="py-1">For you</th>
            </tr>
          </thead>
          <tbody className="divide-y divide-slate-100">
            {rows.data.rows.map((r) => (
              <tr key={r.payout.id}>
                <td className="py-1">
                  <input
                    type="checkbox"
                    className="h-4 w-4"
                    checked={chosen.has(r.payout.id)}
                    onChange={(e) => toggle(r.payout.id, e.target.checked)}
                    aria-label={`Choose row ${r.row ?? ""}`}
                  />
                </td>
                <td className="py-1 pr-3 tabular text-slate-600">{r.row}</td>
                <td className="py-1 pr-3 text-right tabular">
                  <Link href={`/payouts/${r.payout.id}`} className="text-indigo-700 hover:underline">
                    {money(r.payout.amountMinor, r.payout.currency)}
                  </Link>
                </td>
                <td className="py-1 pr-3 wrap-anywhere">
                  {r.payout.recipientName ? `${r.payout.recipientName}, ` : ""}
                  {phone(r.payout.recipientPhone, r.payout.recipientAccount)}
                </td>
                <td className="py-1 text-xs text-slate-600 wrap-anywhere">
                  {r.approve.ok
                    ? r.approve.completes
                      ? "Your approval completes it"
                      : `Your approval is level ${r.approve.level}; ${r.standing.summary}`
                    : r.approve.message}
                  {r.needs.duplicates.length > 0 && " · likely duplicate"}
                  {r.needs.overBalance && " · past the balance"}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {pages > 1 && (
        <div className="flex gap-2">
          <Button variant="ghost" onClick={() => setPage((x) => Math.max(1, x - 1))} disabled={page === 1}>
            Previous
          </Button>
          <Button variant="ghost" onClick={() => setPage((x) => Math.min(pages, x + 1))} disabled={page === pages}>
            Next
          </Button>
        </div>
      )}
    </div>
  );
}
