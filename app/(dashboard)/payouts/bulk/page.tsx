import { NotBuiltYet, PageHeader } from "@/components/ui/layout";

export const metadata = { title: "Bulk payouts" };

export default function BulkPayoutsPage() {
  return (
    <>
      <PageHeader title="Bulk payouts" description="Create many payouts from a file." />
      <NotBuiltYet what="Bulk upload" />
    </>
  );
}
