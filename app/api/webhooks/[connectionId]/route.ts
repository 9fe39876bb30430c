import { getDesk } from "@/server/runtime";
import { receiveCallback } from "@/server/services/callbacks";

export const dynamic = "force-dynamic";

/** Provider callbacks, one URL per connection. The raw body is what gets verified. */
export async function POST(req: Request, ctx: { params: Promise<{ connectionId: string }> }) {
  const { connectionId } = await ctx.params;
  const rawBody = await req.text();
  const reply = await receiveCallback(await getDesk(), connectionId, {
    headers: req.headers,
    rawBody,
    url: req.url,
    method: req.method,
  });
  return new Response(reply.body, { status: reply.httpStatus, headers: { "content-type": reply.contentType } });
}
