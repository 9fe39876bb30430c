import Link from "next/link";
import { Suspense } from "react";
import { PageHeader, Loading } from "@/components/ui/layout";
import { PayoutsTable } from "@/components/payouts/payouts-table";
import { PayoutsExportMenu } from "@/components/payouts/export-menu";
import { canUse } from "@/server/auth/controls";
import { requireSession } from "@/server/auth/session";

export const metadata = { title: "Payouts" };

export default async function PayoutsPage() {
  const user = await requireSession();
  // Only makers create payouts: other roles are not offered the buttons (the server refuses them anyway).
  const canCreate = canUse(user.role, "createPayout");
  return (
    <>
      <PageHeader
        title="Payouts"
        description="Every payout, newest first; search as you type, sort by a column, and open a payout by its row. Times are in your time zone; filters stay in the address bar."
        actions={
          <>
            <Suspense fallback={null}>
              <PayoutsExportMenu />
            </Suspense>
            {canCreate && (
              <>
                <Link href="/payouts/bulk" className="rounded-md px-3.5 py-2 text-sm font-semibold text-slate-700 ring-1 ring-inset ring-slate-300 hover:bg-slate-50">
                  Bulk upload
                </Link>
                <Link href="/payouts/new" className="rounded-md bg-indigo-600 px-3.5 py-2 text-sm font-semibold text-white shadow-sm hover:bg-indigo-700">
                  New payout
                </Link>
              </>
            )}
          </>
        }
      />
      <Suspense fallback={<Loading />}>
        <PayoutsTable canCreate={canCreate} />
      </Suspense>
    </>
  );
}
