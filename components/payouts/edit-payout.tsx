"use client";
import Link from "next/link";
import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/client";
import { messageOf } from "@/components/trpc/errors";
import { Card, EmptyState, ErrorNote, Loading } from "@/components/ui/layout";
import { payoutFormFields } from "@/server/domain/payout-form-fields";
import { PayoutForm } from "./payout-form";

/** The payout form, prefilled from the payout as stored now, for its maker while it waits for approval. */
export function EditPayout({ id }: { id: string }) {
  const trpc = useTRPC();
  // Always fresh and never refetched under the maker's typing: the revision is what the save is checked against.
  const query = useQuery(trpc.payouts.byId.queryOptions({ id }, { staleTime: 0, gcTime: 0, refetchOnWindowFocus: false }));
  if (query.isPending) return <Loading label="Loading payout…" />;
  if (query.isError) return <ErrorNote>{messageOf(query.error)}</ErrorNote>;
  const { payout, canEdit, editRevision } = query.data;
  if (!canEdit) {
    return (
      <Card>
        <EmptyState title="This payout cannot be edited">
          {payout.status !== "pending_approval"
            ? `It is ${payout.status.replaceAll("_", " ")}; only a payout waiting for approval can be edited.`
            : "Only the maker who created it can edit it."}{" "}
          <Link href={`/payouts/${id}`} className="font-medium text-indigo-700 hover:underline">
            Back to the payout
          </Link>
        </EmptyState>
      </Card>
    );
  }
  const hasApprovals = payout.approvals.some((a) => a.voidedAt === null && a.round === payout.approvalRound && a.decision === "approved");
  return (
    <PayoutForm
      // A reload after a conflict starts the form again from what is stored now.
      key={editRevision}
      hasApprovals={hasApprovals}
      onStale={() => void query.refetch()}
      existing={{ id: payout.id, revision: editRevision, ...payoutFormFields(payout) }}
    />
  );
}
