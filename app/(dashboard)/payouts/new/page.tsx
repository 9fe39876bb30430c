import { PayoutForm } from "@/components/payouts/payout-form";
import { Card, EmptyState, ErrorNote, PageHeader } from "@/components/ui/layout";
import { requireSession } from "@/server/auth/session";
import { getDesk } from "@/server/runtime";
import { payoutCopy, type PayoutCopy } from "@/server/services/payout-copy";

export const metadata = { title: "New payout" };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `?copy=<id>`: the form starts from a failed payout's fields (Copy as new payout), loaded here on the server. */
export default async function NewPayoutPage({ searchParams }: { searchParams: Promise<{ copy?: string | string[] }> }) {
  const user = await requireSession();
  const { copy } = await searchParams;
  const copyId = typeof copy === "string" ? copy : undefined;
  let prefill: PayoutCopy | undefined;
  let copyProblem: string | null = null;
  if (user.role === "maker" && copyId !== undefined) {
    if (!UUID.test(copyId)) copyProblem = "The payout to copy is not a payout id; the form starts empty.";
    else {
      try {
        prefill = await payoutCopy(await getDesk(), user, copyId);
      } catch (error) {
        copyProblem = `${error instanceof Error ? error.message : String(error)}; the form starts empty.`;
      }
    }
  }
  return (
    <>
      <PageHeader title="New payout" description="A maker creates it; an approver must approve it before it is sent." />
      {user.role === "maker" ? (
        <>
          {copyProblem && (
            <div className="mb-4 max-w-2xl">
              <ErrorNote>{copyProblem}</ErrorNote>
            </div>
          )}
          <PayoutForm prefill={prefill} />
        </>
      ) : (
        <Card>
          <EmptyState title="Only makers create payouts">You are signed in as {user.role}. Ask a maker to create this payout.</EmptyState>
        </Card>
      )}
    </>
  );
}
