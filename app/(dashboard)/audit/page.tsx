import { NotBuiltYet, PageHeader } from "@/components/ui/layout";

export const metadata = { title: "Audit" };

export default function AuditPage() {
  return (
    <>
      <PageHeader title="Audit" />
      <NotBuiltYet what="Audit" />
    </>
  );
}
