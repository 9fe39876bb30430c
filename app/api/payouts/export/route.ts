import { getDesk } from "@/server/runtime";
import { exportWriter } from "@/server/exports";
import { exportDownload } from "@/server/services/exports";

export const dynamic = "force-dynamic";

/**
 * The payouts list as a file, under the list's own address-bar filters
 * (?status=&connection=&currency=&batch=&from=&to=&tz=&min=&max=&q=&attention=&sort=&dir=,
 * read by server/domain/payout-list-params.ts as the page reads them) and &format=csv|xlsx|pdf|camt053.
 */
export async function GET(req: Request) {
  return exportDownload(await getDesk(), req, "payouts", exportWriter);
}
