import { Suspense } from "react";
import { BulkUpload } from "@/components/bulk/bulk-upload";
import { Loading, PageHeader } from "@/components/ui/layout";
import { requireSession } from "@/server/auth/session";

export const metadata = { title: "Bulk payouts" };

export default async function BulkPayoutsPage() {
  const user = await requireSession();
  return (
    <>
      <PageHeader
        title="Bulk payouts"
        description="Pay many recipients from one CSV or XLSX file: every row is checked like a payout typed in the form, and you see what was found before anything is created."
      />
      <Suspense fallback={<Loading />}>
        <BulkUpload canUpload={user.role === "maker"} />
      </Suspense>
    </>
  );
}
