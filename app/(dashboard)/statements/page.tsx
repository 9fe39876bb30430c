import { Suspense } from "react";
import { Loading, PageHeader } from "@/components/ui/layout";
import { StatementsView } from "@/components/statements/statements-view";

export const metadata = { title: "Statements" };

export default function StatementsPage() {
  return (
    <>
      <PageHeader
        title="Statements"
        description="What a connection's money did in a period: the provider's balance at the start and the end, what was paid, charged and taken back, and what the desk cannot explain. Download it as CSV, XLSX, PDF or camt.053."
      />
      <Suspense fallback={<Loading />}>
        <StatementsView />
      </Suspense>
    </>
  );
}
