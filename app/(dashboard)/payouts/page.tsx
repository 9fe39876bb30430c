import Link from "next/link";
import { Suspense } from "react";
import { PageHeader, Loading } from "@/components/ui/layout";
import { PayoutsTable } from "@/components/payouts/payouts-table";
import { PayoutsExportMenu } from "@/components/payouts/export-menu";

export const metadata = { title: "Payouts" };

export default function PayoutsPage() {
  return (
    <>
      <PageHeader
        title="Payouts"
        description="Every payout, newest first. Filters stay in the address bar."
        actions={
          <>
            <Suspense fallback={null}>
              <PayoutsExportMenu />
            </Suspense>
            <Link href="/payouts/bulk" className="rounded-md px-3.5 py-2 text-sm font-semibold text-slate-700 ring-1 ring-inset ring-slate-300 hover:bg-slate-50">
              Bulk upload
            </Link>
            <Link href="/payouts/new" className="rounded-md bg-indigo-600 px-3.5 py-2 text-sm font-semibold text-white shadow-sm hover:bg-indigo-700">
              New payout
            </Link>
          </>
        }
      />
      <Suspense fallback={<Loading />}>
        <PayoutsTable />
      </Suspense>
    </>
  );
}
