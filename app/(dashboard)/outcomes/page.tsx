import { OutcomeWorkList } from "@/components/outcomes/outcome-work-list";
import { PageHeader } from "@/components/ui/layout";

export const metadata = { title: "Outcome unknown" };

export default function OutcomesPage() {
  return (
    <>
      <PageHeader
        title="Outcome unknown"
        description="Payouts the desk sent but could not learn the result of, and payouts flagged while in flight. The desk keeps asking the provider; resolving one by hand needs two people."
      />
      <OutcomeWorkList />
    </>
  );
}
