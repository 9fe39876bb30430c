import { Suspense } from "react";
import { AuditView } from "@/components/audit/audit-view";
import { Card, EmptyState, Loading, PageHeader } from "@/components/ui/layout";
import { canUse } from "@/server/auth/controls";
import { requireSession } from "@/server/auth/session";

export const metadata = { title: "Audit" };

export default async function AuditPage() {
  const user = await requireSession();
  return (
    <>
      <PageHeader
        title="Audit"
        description="Every change anyone made on the desk, and every sign-in: who, when, from which address, what, and before and after. Entries are hash-chained, so a change to the record itself shows."
      />
      {canUse(user.role, "readAudit") ? (
        <Suspense fallback={<Loading />}>
          <AuditView />
        </Suspense>
      ) : (
        <Card>
          <EmptyState title="The audit trail is for viewers, approvers and admins">
            You are signed in as {user.role}. Each of your payouts shows its own history on its page.
          </EmptyState>
        </Card>
      )}
    </>
  );
}
