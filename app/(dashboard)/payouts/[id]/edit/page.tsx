import { notFound } from "next/navigation";
import { EditPayout } from "@/components/payouts/edit-payout";
import { Card, EmptyState, PageHeader } from "@/components/ui/layout";
import { requireSession } from "@/server/auth/session";

export const metadata = { title: "Edit payout" };

export default async function EditPayoutPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  if (!/^[0-9a-f-]{36}$/i.test(id)) notFound();
  const user = await requireSession();
  return (
    <>
      <PageHeader title="Edit payout" description="Only its maker edits a payout, and only while it waits for approval. A change voids the approvals so far." />
      {user.role === "maker" ? (
        <EditPayout id={id} />
      ) : (
        <Card>
          <EmptyState title="Only makers edit payouts">You are signed in as {user.role}; the maker who created this payout can edit it.</EmptyState>
        </Card>
      )}
    </>
  );
}
