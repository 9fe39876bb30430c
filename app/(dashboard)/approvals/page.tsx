import { ApprovalsList } from "@/components/approvals/approvals-list";
import { PageHeader } from "@/components/ui/layout";

export const metadata = { title: "Approvals" };

export default function ApprovalsPage() {
  return (
    <>
      <PageHeader
        title="Approvals"
        description="Payouts waiting for approval under the policy they were created with. Nobody approves their own payout, nobody counts twice, and each level waits for the one before it."
      />
      <ApprovalsList />
    </>
  );
}
