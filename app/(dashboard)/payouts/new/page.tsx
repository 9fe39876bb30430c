import { PayoutForm } from "@/components/payouts/payout-form";
import { Card, EmptyState, PageHeader } from "@/components/ui/layout";
import { requireSession } from "@/server/auth/session";

export const metadata = { title: "New payout" };

export default async function NewPayoutPage() {
  const user = await requireSession();
  return (
    <>
      <PageHeader title="New payout" description="A maker creates it; an approver must approve it before it is sent." />
      {user.role === "maker" ? (
        <PayoutForm />
      ) : (
        <Card>
          <EmptyState title="Only makers create payouts">You are signed in as {user.role}. Ask a maker to create this payout.</EmptyState>
        </Card>
      )}
    </>
  );
}
