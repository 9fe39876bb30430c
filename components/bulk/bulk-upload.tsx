"use client";
// The bulk page: choose the connection, download its template, drop or choose
// a CSV or XLSX file, watch it upload and get checked, then read the preview
// (components/bulk/batch-preview.tsx) and create the payouts. The batch being
// looked at is in the address (?batch=<id>), so a reload or a shared link
// shows the same preview.
import { useEffect, useRef, useState, type DragEvent, type FormEvent } from "react";
import Link from "next/link";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/client";
import { messageOf } from "@/components/trpc/errors";
import { Button } from "@/components/ui/button";
import { Field } from "@/components/ui/field";
import { Card, EmptyState, ErrorNote, Loading } from "@/components/ui/layout";
import { when } from "@/components/payouts/format";
import { MAX_BYTES, MAX_BYTES_WORDS, MAX_ROWS, sizeInWords, tooLargeMessage } from "@/server/bulk/limits";
import { BatchPreview } from "./batch-preview";
import { ProgressBar } from "./progress-bar";
import { uploadFile, type SameFile } from "./upload-file";

/** The connection select's value for "each row names its connection". */
const BY_COLUMN = "by-column";

export function BulkUpload({ canUpload }: { canUpload: boolean }) {
  const params = useSearchParams();
  const router = useRouter();
  const pathname = usePathname();
  const batchId = params.get("batch");
  const preview = useRef<HTMLDivElement>(null);
  const show = (id: string) => {
    router.replace(`${pathname}?batch=${id}`, { scroll: false });
    // The preview is below the form: bring it into view once it is there.
    setTimeout(() => preview.current?.scrollIntoView({ behavior: "smooth", block: "start" }), 100);
  };
  return (
    <div className="space-y-6">
      {canUpload ? (
        <UploadForm onUploaded={show} />
      ) : (
        <Card>
          <EmptyState title="Only makers upload payout files">You can look at a batch from its link; a maker uploads and creates them.</EmptyState>
        </Card>
      )}
      <div ref={preview} className="scroll-mt-6">
        {batchId && /^[0-9a-f-]{36}$/i.test(batchId) && <BatchPreview id={batchId} key={batchId} />}
      </div>
      {canUpload && <RecentUploads current={batchId} />}
    </div>
  );
}

function UploadForm({ onUploaded }: { onUploaded: (batchId: string) => void }) {
  const trpc = useTRPC();
  const connections = useQuery(trpc.connections.forPayouts.queryOptions());
  const [connectionId, setConnectionId] = useState("");
  const [file, setFile] = useState<File | null>(null);
  const [dragging, setDragging] = useState(false);
  const [dryRun, setDryRun] = useState(false);
  const [sent, setSent] = useState<number | null>(null);
  const [error, setError] = useState<{ message: string; fields: Record<string, string> } | null>(null);
  const [sameFile, setSameFile] = useState<SameFile | null>(null);
  const input = useRef<HTMLInputElement>(null);
  const abort = useRef<(() => void) | null>(null);
  useEffect(() => () => abort.current?.(), []);

  const chosen = connectionId || connections.data?.[0]?.id || "";
  const byColumn = chosen === BY_COLUMN;
  const template = useQuery({ ...trpc.batches.template.queryOptions({ connectionId: chosen }), enabled: Boolean(chosen) && !byColumn });

  if (connections.isPending) return <Loading label="Loading connections…" />;
  if (connections.isError) return <ErrorNote>{messageOf(connections.error)}</ErrorNote>;
  if (connections.data.length === 0) {
    return (
      <Card>
        <EmptyState title="No connection can send payouts">An admin must add or enable a connection first.</EmptyState>
      </Card>
    );
  }

  function pick(next: File | null) {
    setError(null);
    setSameFile(null);
    setFile(next);
    if (next && next.size > MAX_BYTES) setError({ message: tooLargeMessage(next.size), fields: { file: tooLargeMessage(next.size) } });
  }

  async function send(confirmSameFile: boolean) {
    if (!file || file.size > MAX_BYTES) return;
    setError(null);
    setSameFile(null);
    setSent(0);
    const upload = uploadFile(file, { connectionId: byColumn ? null : chosen, dryRun, confirmSameFile }, setSent);
    abort.current = upload.abort;
    const answer = await upload.done;
    abort.current = null;
    setSent(null);
    if (answer.ok) {
      setFile(null);
      if (input.current) input.current.value = "";
      onUploaded(answer.batchId);
    } else if (answer.sameFile) setSameFile(answer.sameFile);
    else setError({ message: answer.message, fields: answer.fieldErrors });
  }

  function onSubmit(event: FormEvent) {
    event.preventDefault();
    if (!file) {
      setError({ message: "Choose a CSV or XLSX file first", fields: { file: "Choose a CSV or XLSX file first" } });
      return;
    }
    void send(false);
  }

  function onDrop(event: DragEvent) {
    event.preventDefault();
    setDragging(false);
    const dropped = event.dataTransfer.files;
    if (dropped.length > 1) {
      setError({ message: "Drop one file at a time", fields: { file: "Drop one file at a time" } });
      return;
    }
    pick(dropped[0] ?? null);
  }

  const uploading = sent !== null;
  return (
    <Card className="p-6">
      <form onSubmit={onSubmit} className="space-y-5" aria-label="Upload a payout file" noValidate>
        <div className="grid gap-5 sm:grid-cols-2">
          <Field label="Connection" error={error?.fields.connectionId} hint={byColumn ? "Each row's connection column names its connection." : "Rows without a connection cell pay through it."}>
            {(p) => (
              <select {...p} name="connectionId" value={chosen} onChange={(e) => setConnectionId(e.target.value)} disabled={uploading}>
                {connections.data.map((c) => (
                  <option key={c.id} value={c.id}>
                    {c.name}
                    {c.environment === "sandbox" ? " (sandbox)" : ""}
                  </option>
                ))}
                <option value={BY_COLUMN}>Several: the file has a connection column</option>
              </select>
            )}
          </Field>
          <div>
            <p className="block text-sm font-medium text-slate-800">Template</p>
            {byColumn ? (
              <p className="mt-2 text-sm text-slate-600">Download a connection&apos;s template, add a column named connection, and put each row&apos;s connection name in it.</p>
            ) : (
              <div className="mt-1 flex flex-wrap items-center gap-2">
                <a
                  className="rounded-md bg-white px-3 py-2 text-sm font-semibold text-slate-800 shadow-sm ring-1 ring-inset ring-slate-300 hover:bg-slate-50"
                  href={`/api/batches/template?connectionId=${chosen}&format=csv`}
                  download
                  data-testid="template-csv"
                >
                  Download CSV template
                </a>
                <a
                  className="rounded-md bg-white px-3 py-2 text-sm font-semibold text-slate-800 shadow-sm ring-1 ring-inset ring-slate-300 hover:bg-slate-50"
                  href={`/api/batches/template?connectionId=${chosen}&format=xlsx`}
                  download
                  data-testid="template-xlsx"
                >
                  Download XLSX template
                </a>
              </div>
            )}
          </div>
        </div>

        {!byColumn && template.data && (
          <details className="rounded-md bg-slate-50 px-4 py-3 text-sm ring-1 ring-inset ring-slate-200">
            <summary className="cursor-pointer font-medium text-slate-800">Columns for {template.data.connection.name}</summary>
            <p className="mt-2 text-xs text-slate-600">
              The template&apos;s second row describes each column; it is skipped when the file is read, so you may leave it. Header names are matched ignoring case, spaces and underscores.
            </p>
            <dl className="mt-2 grid gap-x-4 gap-y-1 sm:grid-cols-[max-content_1fr]">
              {template.data.columns.map((c) => (
                <div key={c.name} className="contents">
                  <dt className="font-mono text-xs text-slate-900">{c.name}</dt>
                  <dd className="text-xs text-slate-600">{c.description}</dd>
                </div>
              ))}
            </dl>
          </details>
        )}

        <div>
          <p id="file-label" className="block text-sm font-medium text-slate-800">
            File
          </p>
          <div
            onDragOver={(e) => {
              e.preventDefault();
              setDragging(true);
            }}
            onDragLeave={() => setDragging(false)}
            onDrop={onDrop}
            data-testid="dropzone"
            className={`mt-1 flex flex-col items-center justify-center gap-2 rounded-lg border-2 border-dashed px-6 py-8 text-center text-sm ${
              dragging ? "border-indigo-500 bg-indigo-50" : error?.fields.file ? "border-rose-300 bg-rose-50/40" : "border-slate-300 bg-white"
            }`}
          >
            <p className="text-slate-700">{file ? <span className="font-medium text-slate-900">{file.name}</span> : "Drop a CSV or XLSX file here, or"}</p>
            {file && <p className="text-xs text-slate-500">{sizeInWords(file.size)}</p>}
            <label className="cursor-pointer rounded-md bg-white px-3 py-1.5 font-semibold text-indigo-700 ring-1 ring-inset ring-indigo-200 focus-within:ring-2 focus-within:ring-indigo-600 hover:bg-indigo-50">
              {file ? "Choose another file" : "Choose a file"}
              <input
                ref={input}
                type="file"
                name="file"
                accept=".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
                className="sr-only"
                aria-describedby="file-label file-hint"
                aria-invalid={Boolean(error?.fields.file)}
                onChange={(e) => pick(e.target.files?.[0] ?? null)}
                disabled={uploading}
              />
            </label>
            <p id="file-hint" className="text-xs text-slate-500">
              CSV (UTF-8, comma or semicolon) or XLSX; at most {MAX_BYTES_WORDS} and {MAX_ROWS.toLocaleString("en")} rows.
            </p>
          </div>
          {error?.fields.file && (
            <p className="mt-1 text-sm text-rose-700" data-testid="error-File">
              {error.fields.file}
            </p>
          )}
        </div>

        <label className="flex items-start gap-2 text-sm text-slate-800">
          <input type="checkbox" className="mt-0.5" checked={dryRun} onChange={(e) => setDryRun(e.target.checked)} disabled={uploading} name="dryRun" />
          <span>
            Dry run <span className="text-slate-500">— check the file and show what it would create, but create nothing (the file can be uploaded for real afterwards).</span>
          </span>
        </label>

        {error && !error.fields.file && <ErrorNote>{error.message}</ErrorNote>}
        {sameFile && (
          <div role="alert" className="rounded-md bg-amber-50 px-4 py-3 text-sm text-amber-900 ring-1 ring-inset ring-amber-200" data-testid="same-file">
            <p className="font-semibold">This file was uploaded before</p>
            <p className="mt-1">
              {sameFile.fileName}, on {when(sameFile.createdAt)} by {sameFile.createdByName}: {sameFile.status === "created" ? "its payouts were created" : "its payouts were not created yet"}.{" "}
              <Link href={`/payouts/bulk?batch=${sameFile.batchId}`} className="font-medium underline">
                Open that upload
              </Link>
            </p>
            <div className="mt-3 flex gap-2">
              <Button type="button" variant="secondary" onClick={() => void send(true)}>
                Upload it again anyway
              </Button>
              <Button type="button" variant="ghost" onClick={() => setSameFile(null)}>
                Cancel
              </Button>
            </div>
          </div>
        )}

        <div className="flex items-center gap-3 border-t border-slate-100 pt-5">
          <Button type="submit" busy={uploading} disabled={!file || file.size > MAX_BYTES}>
            {dryRun ? "Upload and check (dry run)" : "Upload and check"}
          </Button>
          {uploading && (
            <div className="flex min-w-48 flex-1 items-center gap-2 text-xs text-slate-600">
              <ProgressBar value={Math.round((sent ?? 0) * 100)} label="Uploading the file" />
              <span className="tabular-nums">{Math.round((sent ?? 0) * 100)} % sent</span>
              <Button type="button" variant="ghost" onClick={() => abort.current?.()}>
                Stop
              </Button>
            </div>
          )}
        </div>
      </form>
    </Card>
  );
}

function RecentUploads({ current }: { current: string | null }) {
  const trpc = useTRPC();
  const recent = useQuery(trpc.batches.recent.queryOptions(undefined, { refetchInterval: 10_000 }));
  if (recent.isPending) return <Loading label="Loading your uploads…" />;
  if (recent.isError) return <ErrorNote>{messageOf(recent.error)}</ErrorNote>;
  return (
    <Card>
      <h2 className="border-b border-slate-100 px-6 py-3 text-sm font-semibold text-slate-900">Your recent uploads</h2>
      {recent.data.length === 0 ? (
        <EmptyState title="No uploads yet">Upload a file above; it shows here with what was found in it.</EmptyState>
      ) : (
        <ul className="divide-y divide-slate-100 text-sm" data-testid="recent-uploads">
          {recent.data.map((b) => (
            <li key={b.id} className={`flex flex-wrap items-center justify-between gap-2 px-6 py-2 ${b.id === current ? "bg-indigo-50/50" : ""}`}>
              <Link href={`/payouts/bulk?batch=${b.id}`} className="font-medium text-indigo-700 hover:underline" scroll={false}>
                {b.fileName}
              </Link>
              <span className="text-xs text-slate-600">
                {when(b.createdAt)} · {uploadState(b)}
                {b.phase !== "failed" && b.rowCount > 0 && ` · ${b.validCount.toLocaleString("en")} valid, ${b.invalidCount.toLocaleString("en")} invalid`}
              </span>
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}

function uploadState(b: { status: string; phase: string; dryRun: boolean }): string {
  if (b.phase === "failed") return "refused";
  if (b.phase === "validating") return "being checked";
  if (b.phase === "creating") return "payouts being created";
  if (b.dryRun) return "dry run";
  if (b.status === "created") return "payouts created";
  if (b.status === "discarded") return "discarded";
  return "checked, not created";
}
