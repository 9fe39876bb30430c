import { Suspense } from "react";
import { Loading, PageHeader } from "@/components/ui/layout";
import { ReconciliationView } from "@/components/reconciliation/reconciliation-view";

export const metadata = { title: "Reconciliation" };

export default function ReconciliationPage() {
  return (
    <>
      <PageHeader
        title="Reconciliation"
        description="The desk's payouts of a connection and period compared with the provider's own record: Paytota's statement, or a status query of each payout elsewhere. Every difference stays open until someone resolves it with a note, and is carried into the connection's next run until then."
      />
      <Suspense fallback={<Loading />}>
        <ReconciliationView />
      </Suspense>
    </>
  );
}
