import { PlannedPage } from "@/components/ui/layout";

export const metadata = { title: "Statements" };

export default function StatementsPage() {
  return <PlannedPage title="Statements" />;
}
