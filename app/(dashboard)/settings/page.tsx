import { PlannedPage } from "@/components/ui/layout";

export const metadata = { title: "Settings" };

export default function SettingsPage() {
  return <PlannedPage title="Settings" />;
}
