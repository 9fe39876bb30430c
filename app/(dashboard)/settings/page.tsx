import { GeneralSettings } from "@/components/settings/general-settings";
import { ApprovalPolicySettings } from "@/components/settings/approval-policy-settings";
import { DuplicateWindowSetting } from "@/components/settings/duplicate-window";
import { BalanceAlertsSetting } from "@/components/settings/balance-alerts";
import { PageHeader } from "@/components/ui/layout";
import { UsersSettings } from "@/components/settings/users";
import { TwoFactorPolicySettings } from "@/components/auth/two-factor-policy";
import { canUse } from "@/server/auth/controls";
import { requireSession } from "@/server/auth/session";

export const metadata = { title: "Settings" };

// One section per subject; later ones (approval policy, users) join below General.
export default async function SettingsPage() {
  const user = await requireSession();
  return (
    <>
      <PageHeader title="Settings" description="How the desk presents itself and the defaults it works with. Every change is recorded in the audit log." />
      <div className="space-y-8">
        <section aria-labelledby="settings-general" className="space-y-3">
          <h2 id="settings-general" className="text-base font-semibold text-slate-900">
            General
          </h2>
          <GeneralSettings canEdit={user.role === "admin"} />
          <DuplicateWindowSetting canEdit={user.role === "admin"} />
          <BalanceAlertsSetting canEdit={user.role === "admin"} />
        </section>
        <ApprovalPolicySettings canEdit={user.role === "admin"} />
        <section aria-labelledby="settings-two-factor" className="space-y-3">
          <h2 id="settings-two-factor" className="text-base font-semibold text-slate-900">
            Two-factor sign-in
          </h2>
          <TwoFactorPolicySettings canEdit={user.role === "admin"} />
        </section>
        {canUse(user.role, "manageUsers") && <UsersSettings />}
      </div>
    </>
  );
}
