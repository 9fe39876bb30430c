import { getDesk } from "@/server/runtime";
import { batchResultsRequest } from "@/server/services/batch-results";

export const dynamic = "force-dynamic";

/** ?format=csv|xlsx: every row of the batch's file with its payout's status, provider reference, failure reason and fee. Streamed; audited; step-up as every export. */
export async function GET(req: Request, { params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return batchResultsRequest(await getDesk(), req, id);
}
