import { PlannedPage } from "@/components/ui/layout";

export const metadata = { title: "Audit" };

export default function AuditPage() {
  return <PlannedPage title="Audit" />;
}
