"use client";
// A file download with progress: the export is fetched as a stream, its bytes
// (and, for CSV, its rows) counted as they arrive against the row count the
// server announces (X-Export-Rows), then saved through an object URL. An
// empty period or a refused query comes back as JSON and is said in words,
// before anything is saved. A download that needs a fresh second-factor code
// (JSON 403 with stepUpRequired) asks for it and starts again: the caller
// renders `dialog`.
import { useCallback, useRef, useState } from "react";
import { useStepUp } from "@/components/auth/step-up";
import { fetchWithStepUp, stepUpAnswerOf } from "@/components/auth/step-up-fetch";

export type DownloadState =
  | { phase: "idle" }
  | { phase: "running"; format: string; fileName: string; bytes: number; rows: number | null; expectedRows: number | null }
  | { phase: "done"; format: string; fileName: string; bytes: number }
  | { phase: "empty"; format: string; message: string }
  | { phase: "failed"; format: string; message: string; fieldErrors: Record<string, string> };

export const FORMAT_LABELS: Record<string, string> = { csv: "CSV", xlsx: "XLSX", pdf: "PDF", camt053: "camt.053" };

function fileNameOf(disposition: string | null, fallback: string): string {
  const star = /filename\*=UTF-8''([^;]+)/i.exec(disposition ?? "");
  if (star) {
    try {
      return decodeURIComponent(star[1]!);
    } catch {
      // fall through to the plain name
    }
  }
  return /filename="([^"]+)"/i.exec(disposition ?? "")?.[1] ?? fallback;
}

export function useExportDownload() {
  const [state, setState] = useState<DownloadState>({ phase: "idle" });
  const abort = useRef<AbortController | null>(null);
  const stepUp = useStepUp();
  const runWithStepUp = stepUp.run;

  const start = useCallback(async (url: string, format: string) => {
    abort.current?.abort();
    const controller = new AbortController();
    abort.current = controller;
    const label = FORMAT_LABELS[format] ?? format;
    setState({ phase: "running", format, fileName: `${label} file`, bytes: 0, rows: null, expectedRows: null });
    try {
      const response = await runWithStepUp(() => fetchWithStepUp(url, { credentials: "same-origin", signal: controller.signal, cache: "no-store" }));
      if (!response.ok) {
        const body = (await response.json().catch(() => ({}))) as { error?: string; empty?: boolean; fieldErrors?: Record<string, string> };
        if (response.status === 401) {
          // The session ended while the page was open: the server-rendered page sends the browser to sign-in, saying why.
          window.location.reload();
          return;
        }
        if (body.empty) setState({ phase: "empty", format, message: body.error ?? "Nothing to export for this period" });
        else setState({ phase: "failed", format, message: body.error ?? `The download was refused (HTTP ${response.status})`, fieldErrors: body.fieldErrors ?? {} });
        return;
      }
      const fileName = fileNameOf(response.headers.get("content-disposition"), `export.${format}`);
      const expected = Number(response.headers.get("x-export-rows"));
      const expectedRows = Number.isInteger(expected) && expected > 0 ? expected : null;
      const type = response.headers.get("content-type") ?? "application/octet-stream";
      const countRows = format === "csv";
      const reader = response.body!.getReader();
      const chunks: Uint8Array[] = [];
      let bytes = 0;
      let newlines = 0;
      let lastPaint = 0;
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        chunks.push(value);
        bytes += value.byteLength;
        // CSV rows end in CRLF; the header row is one of them. (A line break inside a quoted cell over-counts, capped at 100 %.)
        if (countRows) for (let i = 0; i < value.length; i++) if (value[i] === 10) newlines++;
        const now = performance.now();
        if (now - lastPaint > 100) {
          lastPaint = now;
          setState({ phase: "running", format, fileName, bytes, rows: countRows ? Math.max(0, newlines - 1) : null, expectedRows });
        }
      }
      const blob = new Blob(chunks as BlobPart[], { type });
      const href = URL.createObjectURL(blob);
      const a = document.createElement("a");
      a.href = href;
      a.download = fileName;
      a.rel = "noopener";
      document.body.appendChild(a);
      a.click();
      a.remove();
      // The browser has taken the file once the click is handled; the URL is only needed until then.
      setTimeout(() => URL.revokeObjectURL(href), 60_000);
      setState({ phase: "done", format, fileName, bytes });
    } catch (error) {
      if (controller.signal.aborted) {
        setState({ phase: "idle" });
        return;
      }
      const stepUpAnswer = stepUpAnswerOf(error);
      if (stepUpAnswer) {
        // The code was not given (the dialog was closed): the server's own words say why nothing came.
        setState({ phase: "failed", format, message: stepUpAnswer.message, fieldErrors: {} });
        return;
      }
      setState({ phase: "failed", format, message: `The download broke off before the file was complete (${error instanceof Error ? error.message : String(error)}); nothing was saved. Try again.`, fieldErrors: {} });
    } finally {
      if (abort.current === controller) abort.current = null;
    }
  }, [runWithStepUp]);

  const cancel = useCallback(() => abort.current?.abort(), []);
  const reset = useCallback(() => setState({ phase: "idle" }), []);
  return { state, start, cancel, reset, dialog: stepUp.dialog };
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}
