import { getDesk } from "@/server/runtime";
import { receiveCallbackRequest } from "@/server/services/callbacks";

export const dynamic = "force-dynamic";

/**
 * Provider callbacks, one URL per connection. The raw body is what gets
 * verified; the size cap, storage and answers live in receiveCallbackRequest,
 * which the test desk serves too, so tests exercise this very path.
 */
export async function POST(req: Request, ctx: { params: Promise<{ connectionId: string }> }) {
  const { connectionId } = await ctx.params;
  return receiveCallbackRequest(await getDesk(), connectionId, req);
}
