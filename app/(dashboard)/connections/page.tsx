import { ConnectionsList } from "@/components/connections/connections-list";
import { Card, EmptyState, PageHeader } from "@/components/ui/layout";
import { requireSession } from "@/server/auth/session";

export const metadata = { title: "Connections" };

export default async function ConnectionsPage() {
  const user = await requireSession();
  return (
    <>
      <PageHeader
        title="Connections"
        description="Provider accounts the desk pays through: their credentials (stored encrypted, never shown again), a test call, and pausing one so it takes no new payouts. Connections named in configuration are reset to it when the desk restarts."
      />
      {user.role === "admin" ? (
        <ConnectionsList />
      ) : (
        <Card>
          <EmptyState title="Only admins manage connections">
            Ask an admin to add, change, test or pause a provider connection.
          </EmptyState>
        </Card>
      )}
    </>
  );
}
