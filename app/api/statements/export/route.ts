import { getDesk } from "@/server/runtime";
import { exportWriter } from "@/server/exports";
import { exportDownload } from "@/server/services/exports";

export const dynamic = "force-dynamic";

/**
 * A statement as a file: ?connectionId=<id|all>&currency=&period=&from=&to=&timeZone=&format=csv|xlsx|pdf|camt053.
 * Checked, authorised, audited and streamed in exportDownload, which the tests call with plain Requests.
 */
export async function GET(req: Request) {
  return exportDownload(await getDesk(), req, "statement", exportWriter);
}
