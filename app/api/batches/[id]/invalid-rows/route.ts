import { getDesk } from "@/server/runtime";
import { invalidRowsRequest } from "@/server/services/batch-requests";

export const dynamic = "force-dynamic";

/** ?format=csv|xlsx: the batch's invalid rows with an "error" column, to fix and upload again. */
export async function GET(req: Request, { params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return invalidRowsRequest(await getDesk(), req, id);
}
