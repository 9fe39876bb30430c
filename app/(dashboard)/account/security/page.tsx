import { TwoFactorSettings } from "@/components/auth/two-factor-settings";
import { PageHeader } from "@/components/ui/layout";
import { requireSession } from "@/server/auth/session";
import { ROLE_LABELS } from "@/server/auth/roles";

export const metadata = { title: "Two-factor sign-in" };

// Every user's own page (the menu links it below their name). A user who
// must enrol and has not is sent here by every other page (requireSession).
export default async function SecurityPage() {
  const user = await requireSession();
  return (
    <>
      <PageHeader
        title="Two-factor sign-in"
        description="A code from an authenticator app on your phone, asked after your password at sign-in, and again before approving, exporting or changing controls when the last code was more than 5 minutes ago."
      />
      <TwoFactorSettings role={ROLE_LABELS[user.role].toLowerCase()} />
    </>
  );
}
