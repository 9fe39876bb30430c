"use client";
// The latest runs, newest first, each with its progress while it runs and its
// exceptions once done. Choosing one shows its results below.
import { Card } from "@/components/ui/layout";
import { when } from "@/components/payouts/format";
import { exceptionCount, periodText, RUN_STATUS_WORDS } from "./format";
import type { RunSummary } from "./types";

const STATUS_TONES: Record<RunSummary["status"], string> = {
  queued: "bg-sky-50 text-sky-800 ring-sky-600/20",
  running: "bg-indigo-50 text-indigo-800 ring-indigo-600/20",
  done: "bg-emerald-50 text-emerald-800 ring-emerald-600/20",
  failed: "bg-rose-50 text-rose-800 ring-rose-600/20",
};

export function RunStatus({ run }: { run: RunSummary }) {
  return (
    <span className={`inline-flex items-center rounded-md px-2 py-0.5 text-xs font-medium ring-1 ring-inset ${STATUS_TONES[run.status]}`} data-status={run.status}>
      {RUN_STATUS_WORDS[run.status]}
    </span>
  );
}

/** done / total as a bar and in words; before the total is known, the step the run is at. */
export function RunProgress({ run }: { run: RunSummary }) {
  if (run.status === "queued") return <span className="text-xs text-slate-500">Not started yet</span>;
  if (run.status === "failed") return <span className="text-xs text-rose-700">Stopped</span>;
  const percent = run.total > 0 ? Math.round((run.done / run.total) * 100) : run.status === "done" ? 100 : null;
  return (
    <div className="min-w-32">
      <progress className="h-2 w-full" max={100} value={percent ?? undefined} aria-label={`Progress: ${run.done} of ${run.total}`} />
      <span className="text-xs text-slate-600 tabular">
        {run.total > 0 ? `${run.done.toLocaleString("en")} of ${run.total.toLocaleString("en")}` : run.status === "done" ? "Nothing to compare" : (run.phase ?? "Starting")}
        {run.status === "running" && run.total > 0 && run.phase ? ` · ${run.phase}` : ""}
        {run.status === "running" && !run.workerAlive ? " · its worker stopped; another takes it up shortly" : ""}
      </span>
    </div>
  );
}

export function RunsList({ runs, zone, selectedId, onSelect }: { runs: RunSummary[]; zone: string; selectedId: string | null; onSelect: (id: string) => void }) {
  return (
    <Card className="overflow-x-auto">
      <table className="w-full text-left text-sm" data-testid="reconciliation-runs">
        <caption className="sr-only">Reconciliation runs, newest first</caption>
        <thead className="border-b border-slate-200 text-xs uppercase tracking-wide text-slate-500">
          <tr>
            <th scope="col" className="px-4 py-2 font-medium">Connection</th>
            <th scope="col" className="px-4 py-2 font-medium">Period</th>
            <th scope="col" className="px-4 py-2 font-medium">Status</th>
            <th scope="col" className="px-4 py-2 font-medium">Progress</th>
            <th scope="col" className="px-4 py-2 font-medium">Exceptions</th>
            <th scope="col" className="px-4 py-2 font-medium">Started by</th>
            <th scope="col" className="px-4 py-2 font-medium">
              <span className="sr-only">Show</span>
            </th>
          </tr>
        </thead>
        <tbody className="divide-y divide-slate-100">
          {runs.map((run) => {
            const selected = run.id === selectedId;
            return (
              <tr key={run.id} className={selected ? "bg-indigo-50/60" : undefined} data-testid="reconciliation-run" data-run-id={run.id}>
                <td className="px-4 py-2 font-medium text-slate-900">{run.connection.name}</td>
                <td className="px-4 py-2 text-xs text-slate-700">{periodText(run.periodFrom, run.periodTo, zone)}</td>
                <td className="px-4 py-2">
                  <RunStatus run={run} />
                </td>
                <td className="px-4 py-2">
                  <RunProgress run={run} />
                </td>
                <td className="px-4 py-2 tabular">
                  {run.status === "done" ? (
                    <span className={exceptionCount(run.counts) > 0 ? "font-semibold text-rose-800" : "text-emerald-800"}>
                      {exceptionCount(run.counts)}
                      {run.carried > 0 ? <span className="font-normal text-slate-600"> ({run.carried} carried)</span> : null}
                    </span>
                  ) : (
                    <span className="text-slate-400">—</span>
                  )}
                </td>
                <td className="px-4 py-2 text-xs text-slate-700">
                  {run.scheduled ? "Daily schedule" : (run.requestedBy ?? "—")}
                  <span className="block text-slate-500">{when(run.createdAt)}</span>
                </td>
                <td className="px-4 py-2 text-right">
                  <button
                    type="button"
                    onClick={() => onSelect(run.id)}
                    aria-pressed={selected}
                    className="rounded-md px-2 py-1 text-sm font-medium text-indigo-700 hover:bg-indigo-50 focus-visible:outline focus-visible:outline-2 focus-visible:outline-indigo-600"
                  >
                    {selected ? "Shown" : "Show"}
                    <span className="sr-only">
                      {" "}
                      the run of {run.connection.name}, {periodText(run.periodFrom, run.periodTo, zone)}
                    </span>
                  </button>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </Card>
  );
}
