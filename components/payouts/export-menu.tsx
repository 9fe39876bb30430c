"use client";
// The payouts list's Export menu: the same four formats as a statement, for
// the list under the filters in the address bar (the route reads the very
// same parameters and the list's own filter code).
import { useSearchParams } from "next/navigation";
import { DownloadStatus, FORMATS } from "@/components/statements/download-buttons";
import { FORMAT_LABELS, useExportDownload } from "@/components/statements/use-download";
import { isFiltered, listQueryFromUrl, listQueryToUrl } from "@/server/domain/payout-list-params";
import { useBrowserTimeZone } from "./payouts-table";

export function PayoutsExportMenu() {
  const params = useSearchParams();
  const { state, start, cancel, dialog } = useExportDownload();
  const running = state.phase === "running";
  const timeZone = useBrowserTimeZone();
  // The list's own reading of the address bar, written back: the route reads it with the same function.
  const { filters, order } = listQueryFromUrl(new URLSearchParams(params.toString()));
  function href(format: string) {
    const query = listQueryToUrl({ ...filters, timeZone: filters.timeZone ?? timeZone }, order);
    query.set("format", format);
    return `/api/payouts/export?${query}`;
  }
  const filtered = isFiltered(filters);
  // The step-up dialog sits outside the menu, so closing the menu never hides it.
  return (
    <>
      {dialog}
      <details className="relative" open={running || state.phase !== "idle" ? true : undefined} data-testid="payouts-export">
        <summary className="cursor-pointer list-none rounded-md px-3.5 py-2 text-sm font-semibold text-slate-700 ring-1 ring-inset ring-slate-300 hover:bg-slate-50 [&::-webkit-details-marker]:hidden">
          Export ▾
        </summary>
        <div className="absolute right-0 z-10 mt-2 w-80 space-y-3 rounded-lg bg-white p-3 shadow-lg ring-1 ring-slate-200">
          <p className="text-xs text-slate-600">{filtered ? "The payouts the list shows under its current filters, every page." : "Every payout (no filter is set)."} Days and times in {timeZone}.</p>
          <div className="grid grid-cols-2 gap-2" role="group" aria-label="Export format">
            {FORMATS.map((format) => (
              <button
                key={format}
                type="button"
                disabled={running}
                onClick={() => start(href(format), format)}
                className="rounded-md px-3 py-1.5 text-sm font-medium text-slate-800 ring-1 ring-inset ring-slate-300 hover:bg-slate-50 focus-visible:outline focus-visible:outline-2 focus-visible:outline-indigo-600 disabled:text-slate-400"
              >
                {FORMAT_LABELS[format]}
              </button>
            ))}
          </div>
          {running && (
            <button type="button" onClick={cancel} className="text-sm font-medium text-indigo-700 hover:underline">
              Cancel download
            </button>
          )}
          <DownloadStatus state={state} />
        </div>
      </details>
    </>
  );
}
