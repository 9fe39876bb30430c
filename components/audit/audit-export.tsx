"use client";
// The audit trail of a period as a file: CSV to read, or the evidence pack
// (every entry as stored, one JSON line each, then a manifest with the chain
// head and the sha256 of the entries) to keep. Streamed from
// /api/audit/export with the statements' download code (progress, the empty
// answer, field errors, the second-factor step-up dialog).
import { useEffect, useState } from "react";
import { Button } from "@/components/ui/button";
import { controlClass } from "@/components/ui/field";
import { Card } from "@/components/ui/layout";
import { DownloadStatus } from "@/components/statements/download-buttons";
import { useExportDownload } from "@/components/statements/use-download";
import { addDays, zonedDay } from "@/server/domain/statement";

const FORMATS = [
  { format: "csv", label: "CSV" },
  { format: "evidence", label: "Evidence pack" },
] as const;

export function AuditExport({ fromDay, toDay, timeZone }: { fromDay: string; toDay: string; timeZone: string }) {
  const { state, start, cancel, dialog } = useExportDownload();
  const [from, setFrom] = useState(fromDay);
  const [to, setTo] = useState(toDay);
  // The filter's period when there is one; the last seven days otherwise (set after mount: "today" is the browser's).
  useEffect(() => {
    const today = zonedDay(new Date(), timeZone);
    setFrom(fromDay || addDays(toDay || today, -6));
    setTo(toDay || (fromDay && fromDay > today ? fromDay : today));
  }, [fromDay, toDay, timeZone]);
  const running = state.phase === "running";
  const fieldErrors = state.phase === "failed" ? state.fieldErrors : {};
  const href = (format: string) => `/api/audit/export?${new URLSearchParams({ format, fromDay: from, toDay: to, timeZone })}`;

  return (
    <Card className="space-y-3 p-5" data-testid="audit-export">
      {/* Exports ask for a fresh second-factor code when the last is older than 5 minutes. */}
      {dialog}
      <div>
        <h2 className="text-sm font-semibold text-slate-900">Export a period</h2>
        <p className="text-xs text-slate-600">
          Every entry from the first day to the last ({timeZone}). The evidence pack holds the entries exactly as stored and a manifest with the chain head and the sha256 of the entries: keep it, with its own sha256.
        </p>
      </div>
      <div className="flex flex-wrap items-end gap-3">
        <label className="text-xs font-medium text-slate-700">
          First day
          <input type="date" name="exportFrom" className={`${controlClass} mt-1`} value={from} onChange={(e) => setFrom(e.target.value)} />
          {fieldErrors.fromDay && <span className="block text-rose-700 wrap-anywhere">{fieldErrors.fromDay}</span>}
        </label>
        <label className="text-xs font-medium text-slate-700">
          Last day
          <input type="date" name="exportTo" className={`${controlClass} mt-1`} value={to} onChange={(e) => setTo(e.target.value)} />
          {fieldErrors.toDay && <span className="block text-rose-700 wrap-anywhere">{fieldErrors.toDay}</span>}
        </label>
        <div className="flex gap-2" role="group" aria-label="Download the audit trail">
          {FORMATS.map(({ format, label }) => (
            <Button key={format} variant="secondary" disabled={running || !from || !to} busy={running && state.format === format} onClick={() => start(href(format), format)}>
              {label}
            </Button>
          ))}
          {running && (
            <Button variant="ghost" onClick={cancel}>
              Cancel
            </Button>
          )}
        </div>
      </div>
      <DownloadStatus state={state} />
    </Card>
  );
}
