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
        description="Provider accounts the desk pays through. Adding and editing connections here arrives in a later release; today they come from configuration (see the README)."
      />
      {user.role === "admin" ? (
        <ConnectionsList />
      ) : (
        <Card>
          <EmptyState title="Only admins manage connections" />
        </Card>
      )}
    </>
  );
}
