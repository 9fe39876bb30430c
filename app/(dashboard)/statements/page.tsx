import { NotBuiltYet, PageHeader } from "@/components/ui/layout";

export const metadata = { title: "Statements" };

export default function StatementsPage() {
  return (
    <>
      <PageHeader title="Statements" />
      <NotBuiltYet what="Statements" />
    </>
  );
}
