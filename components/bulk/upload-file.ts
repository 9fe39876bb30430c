"use client";
// Sending a bulk file: the bytes as the request body (application/octet-stream,
// see server/services/batch-requests.ts), through XMLHttpRequest because
// fetch reports no upload progress and a 20 MB file on a slow line takes a
// while. The answer is the batch id (202), or a refusal in words: a field
// error (400/413), the same file uploaded before (409, with when and by whom),
// or the role (403).

export interface SameFile {
  batchId: string;
  fileName: string;
  createdAt: string;
  createdByName: string;
  status: string;
  committedAt: string | null;
}

export type UploadAnswer =
  | { ok: true; batchId: string }
  | { ok: false; message: string; fieldErrors: Record<string, string>; sameFile?: SameFile; status: number };

export function uploadFile(
  file: File,
  options: { connectionId: string | null; dryRun: boolean; confirmSameFile: boolean },
  onProgress: (fraction: number) => void,
): { done: Promise<UploadAnswer>; abort: () => void } {
  const params = new URLSearchParams({ fileName: file.name });
  if (options.connectionId) params.set("connectionId", options.connectionId);
  if (options.dryRun) params.set("dryRun", "1");
  if (options.confirmSameFile) params.set("confirmSameFile", "1");
  const xhr = new XMLHttpRequest();
  const done = new Promise<UploadAnswer>((resolve) => {
    xhr.open("POST", `/api/batches/upload?${params}`);
    xhr.setRequestHeader("content-type", "application/octet-stream");
    xhr.responseType = "json";
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    };
    xhr.onload = () => {
      const body = (xhr.response ?? {}) as { batchId?: string; error?: string; fieldErrors?: Record<string, string>; sameFile?: SameFile };
      if (xhr.status === 202 && body.batchId) resolve({ ok: true, batchId: body.batchId });
      else if (xhr.status === 401) {
        // The session ended while the page was open: the server-rendered page says why on sign-in.
        window.location.reload();
        resolve({ ok: false, status: 401, message: body.error ?? "Sign in to continue", fieldErrors: {} });
      } else {
        resolve({ ok: false, status: xhr.status, message: body.error ?? `The upload was refused (HTTP ${xhr.status})`, fieldErrors: body.fieldErrors ?? {}, sameFile: body.sameFile });
      }
    };
    xhr.onerror = () => resolve({ ok: false, status: 0, message: "The file could not be sent: the connection to the desk failed. Check the network and try again", fieldErrors: {} });
    xhr.onabort = () => resolve({ ok: false, status: 0, message: "The upload was stopped", fieldErrors: {} });
    xhr.send(file);
  });
  return { done, abort: () => xhr.abort() };
}
