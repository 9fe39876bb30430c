"use client";
import { Button } from "@/components/ui/button";
import { ErrorNote } from "@/components/ui/layout";
import { FORMAT_LABELS, formatBytes, useExportDownload, type DownloadState } from "./use-download";

export const FORMATS = ["csv", "xlsx", "pdf", "camt053"] as const;

/**
 * One button per format for an export URL (`href(format)`), and what the
 * download is doing: bytes and rows received, done, empty, refused.
 * `emptyReason` disables the buttons and says why before anyone clicks.
 */
export function DownloadButtons({ href, emptyReason, label = "Download" }: { href: (format: string) => string; emptyReason?: string | null; label?: string }) {
  const { state, start, cancel, dialog } = useExportDownload();
  const running = state.phase === "running";
  return (
    <div className="space-y-2" data-testid="downloads">
      {dialog}
      <div className="flex flex-wrap items-center gap-2" role="group" aria-label={label}>
        <span className="text-sm font-medium text-slate-700">{label}</span>
        {FORMATS.map((format) => (
          <Button
            key={format}
            variant="secondary"
            disabled={Boolean(emptyReason) || running}
            busy={running && state.format === format}
            onClick={() => start(href(format), format)}
            aria-describedby={emptyReason ? "download-empty-reason" : undefined}
          >
            {FORMAT_LABELS[format]}
          </Button>
        ))}
        {running && (
          <Button variant="ghost" onClick={cancel}>
            Cancel download
          </Button>
        )}
      </div>
      {emptyReason && (
        <p id="download-empty-reason" className="text-sm text-slate-600" data-testid="download-empty">
          {emptyReason}
        </p>
      )}
      <DownloadStatus state={state} />
    </div>
  );
}

export function DownloadStatus({ state }: { state: DownloadState }) {
  switch (state.phase) {
    case "idle":
      return null;
    case "running": {
      const percent = state.rows !== null && state.expectedRows ? Math.min(100, Math.floor((state.rows / state.expectedRows) * 100)) : null;
      return (
        <div role="status" aria-live="polite" className="max-w-xl space-y-1 text-sm text-slate-700" data-testid="download-progress">
          <p>
            Downloading <span className="font-medium wrap-anywhere">{state.fileName}</span>: {formatBytes(state.bytes)} received
            {state.rows !== null && state.expectedRows
              ? `, ${state.rows.toLocaleString("en")} of ${state.expectedRows.toLocaleString("en")} rows (${percent} %)`
              : state.expectedRows
                ? ` (${state.expectedRows.toLocaleString("en")} rows)`
                : ""}
          </p>
          {/* Without a row count to go by (XLSX, PDF, camt.053) the bar runs without a value: the byte count says it is moving. */}
          <progress className="h-2 w-full" max={100} value={percent ?? undefined} aria-label="Download progress" />
        </div>
      );
    }
    case "done":
      return (
        <p role="status" className="text-sm text-emerald-800" data-testid="download-done">
          Saved <span className="font-medium wrap-anywhere">{state.fileName}</span> ({formatBytes(state.bytes)}).
        </p>
      );
    case "empty":
      return (
        <p role="status" className="rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-900 ring-1 ring-inset ring-amber-200" data-testid="download-empty-answer">
          {state.message}
        </p>
      );
    case "failed":
      return <ErrorNote>{state.message}</ErrorNote>;
  }
}
