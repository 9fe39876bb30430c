import { getDesk } from "@/server/runtime";
import { receiveCallback } from "@/server/services/callbacks";

export const dynamic = "force-dynamic";

/** Provider callbacks are small JSON documents; anything larger is not one and is not stored. */
const MAX_CALLBACK_BYTES = 256 * 1024;

/** Provider callbacks, one URL per connection. The raw body is what gets verified. */
export async function POST(req: Request, ctx: { params: Promise<{ connectionId: string }> }) {
  const { connectionId } = await ctx.params;
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > MAX_CALLBACK_BYTES) return Response.json({ status: "error", message: "Callback too large" }, { status: 413 });
  const rawBody = await req.text();
  if (Buffer.byteLength(rawBody) > MAX_CALLBACK_BYTES) return Response.json({ status: "error", message: "Callback too large" }, { status: 413 });
  const reply = await receiveCallback(await getDesk(), connectionId, {
    headers: req.headers,
    rawBody,
    url: req.url,
    method: req.method,
  });
  return new Response(reply.body, { status: reply.httpStatus, headers: { "content-type": reply.contentType } });
}
