import { Suspense } from "react";
import { LoginForm } from "@/components/shell/login-form";
import { isSessionEndReason, sessionEndMessage } from "@/server/auth/user-sessions";

export const metadata = { title: "Sign in" };

export default async function LoginPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const params = await searchParams;
  // Why the user is here again: the dashboard sends ended sessions with their reason, the Sign out button with signedout.
  const notice = isSessionEndReason(params.ended) ? sessionEndMessage(params.ended) : params.signedout !== undefined ? "You signed out." : null;
  return (
    <div className="flex min-h-screen items-center justify-center px-4">
      <div className="w-full max-w-sm">
        <h1 className="mb-1 text-2xl font-semibold tracking-tight">Payout desk</h1>
        <p className="mb-6 text-sm text-slate-600">Sign in to create, approve and follow payouts.</p>
        <Suspense>
          <LoginForm notice={notice} />
        </Suspense>
      </div>
    </div>
  );
}
