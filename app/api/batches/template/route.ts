import { getDesk } from "@/server/runtime";
import { templateRequest } from "@/server/services/batch-requests";

export const dynamic = "force-dynamic";

/** ?connectionId=&format=csv|xlsx: the connection's bulk file template. */
export async function GET(req: Request) {
  return templateRequest(await getDesk(), req);
}
