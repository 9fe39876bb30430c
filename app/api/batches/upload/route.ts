import { getDesk } from "@/server/runtime";
import { uploadRequest } from "@/server/services/batch-requests";

export const dynamic = "force-dynamic";

/** A bulk file, as the request body: stored, answered 202 with its batch id, checked in the background (server/services/batches.ts). */
export async function POST(req: Request) {
  return uploadRequest(await getDesk(), req);
}
