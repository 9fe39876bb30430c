import { getDesk } from "@/server/runtime";
import { healthReport } from "@/server/services/health";

export const dynamic = "force-dynamic";

/**
 * For load balancers and monitoring: no sign-in, no secrets. 200 when the
 * database answers and the payout queue keeps up; 503 with the reasons otherwise.
 */
export async function GET() {
  let report;
  try {
    report = await healthReport((await getDesk()).db);
  } catch {
    return Response.json({ ok: false, problems: ["the desk cannot open its database"] }, { status: 503, headers: { "cache-control": "no-store" } });
  }
  return Response.json(report, { status: report.ok ? 200 : 503, headers: { "cache-control": "no-store" } });
}
