// The bulk file routes, as functions of a plain Request (the route handlers
// only call these; the tests call them with Requests carrying a real session
// cookie): the upload, a connection's template, and a batch's invalid rows.
// The session is checked as the tRPC context checks it; refusals are JSON
// with the field named, never a 500 for a bad file.
import { clientIp } from "@/server/auth/client-ip";
import { resolveSession } from "@/server/auth/request-session";
import { parseCookieHeader } from "@/server/auth/session-cookie";
import { sessionEndMessage } from "@/server/auth/user-sessions";
import { MAX_BYTES, tooLargeMessage } from "@/server/bulk/limits";
import { invalidRowsFile } from "@/server/bulk/invalid-file";
import { CONTENT_TYPES, templateBytes, templateFileName, type FileFormat } from "@/server/bulk/template";
import type { Actor, Desk } from "./types";
import { audit } from "./audit";
import { Conflict, FieldErrors, Forbidden, NotFound } from "./errors";
import { connectionShape, invalidRowsForFile, SameFileUploaded, uploadBatch } from "./batches";

function json(status: number, body: Record<string, unknown>): Response {
  return Response.json(body, { status, headers: { "cache-control": "no-store" } });
}

function refused(fields: Record<string, string>, status = 400): Response {
  return json(status, { error: Object.entries(fields).map(([f, m]) => `${f}: ${m}`).join("; "), fieldErrors: fields });
}

async function signedIn(desk: Desk, request: Request): Promise<{ actor: Actor } | { response: Response }> {
  const session = await resolveSession(desk.db, parseCookieHeader(request.headers.get("cookie")));
  if (session.state === "ended") return { response: json(401, { error: sessionEndMessage(session.reason) }) };
  if (session.state !== "active") return { response: json(401, { error: "Sign in to continue" }) };
  return { actor: session.actor };
}

function fileResponse(bytes: Buffer, fileName: string, format: FileFormat): Response {
  return new Response(new Uint8Array(bytes), {
    status: 200,
    headers: {
      "content-type": CONTENT_TYPES[format],
      "content-disposition": `attachment; filename="${fileName.replace(/[^\x20-\x7e]|"/g, "_")}"; filename*=UTF-8''${encodeURIComponent(fileName)}`,
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
    },
  });
}

function formatOf(params: URLSearchParams): FileFormat | null {
  const format = params.get("format") ?? "csv";
  return format === "csv" || format === "xlsx" ? format : null;
}

/**
 * The request body, read up to the limit and no further: a larger file is
 * refused as soon as it is known to be larger (by its Content-Length, or once
 * the bytes pass the limit), without storing or reading the rest.
 */
async function boundedBody(request: Request): Promise<{ bytes: Uint8Array } | { tooLarge: number; atLeast: boolean }> {
  const declared = Number(request.headers.get("content-length") ?? "");
  if (Number.isFinite(declared) && declared > MAX_BYTES) return { tooLarge: declared, atLeast: false };
  if (!request.body) return { bytes: new Uint8Array() };
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > MAX_BYTES) {
      await reader.cancel().catch(() => undefined);
      return { tooLarge: total, atLeast: true };
    }
    chunks.push(value);
  }
  return { bytes: Buffer.concat(chunks) };
}

/**
 * POST /api/batches/upload?fileName=&connectionId=&dryRun=1&confirmSameFile=1,
 * the file itself as the body (application/octet-stream: a cross-site form
 * cannot send that type without the browser asking first, which it refuses).
 * 202 with the batch id, at once; the rows are checked in the background.
 */
export async function uploadRequest(desk: Desk, request: Request): Promise<Response> {
  const who = await signedIn(desk, request);
  if ("response" in who) return who.response;
  const actor = who.actor;
  if (actor.role !== "maker") return json(403, { error: `Only makers upload payout files; you are ${actor.role}` });
  if ((request.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase() !== "application/octet-stream") {
    return refused({ file: "Send the file itself as the request body, typed application/octet-stream" });
  }
  const params = new URL(request.url).searchParams;
  const fileName = params.get("fileName") ?? "";
  if (!fileName.trim()) return refused({ fileName: "Name the file (the name it has on your computer)" });
  const body = await boundedBody(request);
  if ("tooLarge" in body) return refused({ file: tooLargeMessage(body.tooLarge, body.atLeast) }, 413);
  try {
    const { batchId } = await uploadBatch(
      desk,
      actor,
      {
        fileName,
        bytes: body.bytes,
        connectionId: params.get("connectionId") || null,
        dryRun: params.get("dryRun") === "1",
        confirmSameFile: params.get("confirmSameFile") === "1",
      },
      clientIp(request.headers),
    );
    return json(202, { batchId });
  } catch (error) {
    if (error instanceof SameFileUploaded) return json(409, { error: error.message, sameFile: error.earlier });
    if (error instanceof FieldErrors) return refused(error.fields);
    if (error instanceof Forbidden) return json(403, { error: error.message });
    console.error("[batches] upload failed:", error);
    return json(500, { error: "Something went wrong on our side before the file was stored; nothing was uploaded. Try again" });
  }
}

/** GET /api/batches/template?connectionId=&format=csv|xlsx: the connection's columns and the line describing each. Anyone signed in. */
export async function templateRequest(desk: Desk, request: Request): Promise<Response> {
  const who = await signedIn(desk, request);
  if ("response" in who) return who.response;
  const params = new URL(request.url).searchParams;
  const format = formatOf(params);
  const fields: Record<string, string> = {};
  if (!format) fields.format = "Choose a format: csv or xlsx";
  let shape;
  try {
    shape = await connectionShape(desk, params.get("connectionId") ?? "");
  } catch (error) {
    if (!(error instanceof FieldErrors)) throw error;
    Object.assign(fields, error.fields);
  }
  if (Object.keys(fields).length > 0) return refused(fields);
  return fileResponse(await templateBytes(shape!, format!), templateFileName(shape!.name, format!), format!);
}

/** GET /api/batches/<id>/invalid-rows?format=csv|xlsx: the rows to fix, with an "error" column. The maker's own batch (or an admin's look); audited. */
export async function invalidRowsRequest(desk: Desk, request: Request, batchId: string): Promise<Response> {
  const who = await signedIn(desk, request);
  if ("response" in who) return who.response;
  const format = formatOf(new URL(request.url).searchParams);
  if (!format) return refused({ format: "Choose a format: csv or xlsx" });
  try {
    const { batch, columns, rows } = await invalidRowsForFile(desk, who.actor, batchId);
    if (rows.length === 0) return json(404, { error: "This file has no invalid rows", empty: true });
    const bytes = await invalidRowsFile(columns, rows, format);
    const base = batch.fileName.replace(/\.(csv|xlsx)$/i, "");
    await audit(desk.db, {
      actorId: who.actor.id,
      action: "batch.invalid_rows_export",
      entityType: "batch",
      entityId: batch.id,
      ip: clientIp(request.headers),
      details: { format, rows: rows.length },
    });
    return fileResponse(bytes, `${base}-invalid-rows.${format}`, format);
  } catch (error) {
    if (error instanceof NotFound) return json(404, { error: error.message });
    if (error instanceof Forbidden) return json(403, { error: error.message });
    if (error instanceof Conflict) return json(409, { error: error.message });
    throw error;
  }
}
