import { Overview } from "@/components/overview/overview";
import { PageHeader } from "@/components/ui/layout";

export const metadata = { title: "Overview" };

export default function OverviewPage() {
  return (
    <>
      <PageHeader title="Overview" />
      <Overview />
    </>
  );
}
