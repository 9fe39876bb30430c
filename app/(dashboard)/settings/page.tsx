import { NotBuiltYet, PageHeader } from "@/components/ui/layout";

export const metadata = { title: "Settings" };

export default function SettingsPage() {
  return (
    <>
      <PageHeader title="Settings" />
      <NotBuiltYet what="Settings" />
    </>
  );
}
