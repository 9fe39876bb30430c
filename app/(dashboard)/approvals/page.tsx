import { ApprovalsList } from "@/components/approvals/approvals-list";
import { PageHeader } from "@/components/ui/layout";

export const metadata = { title: "Approvals" };

export default function ApprovalsPage() {
  return (
    <>
      <PageHeader title="Approvals" description="Payouts waiting for a second person. Nobody approves their own payout." />
      <ApprovalsList />
    </>
  );
}
