import { getDesk } from "@/server/runtime";
import { auditExportDownload } from "@/server/services/audit-export";

export const dynamic = "force-dynamic";

/**
 * The audit trail of a period as a file: ?format=csv|evidence&fromDay=&toDay=&timeZone=.
 * Checked, authorised, audited and streamed in auditExportDownload, which the tests call with plain Requests.
 */
export async function GET(req: Request) {
  return auditExportDownload(await getDesk(), req);
}
