import { Suspense } from "react";
import { LoginForm } from "@/components/shell/login-form";

export const metadata = { title: "Sign in" };

export default function LoginPage() {
  return (
    <div className="flex min-h-screen items-center justify-center px-4">
      <div className="w-full max-w-sm">
        <h1 className="mb-1 text-2xl font-semibold tracking-tight">Payout desk</h1>
        <p className="mb-6 text-sm text-slate-600">Sign in to create, approve and follow payouts.</p>
        <Suspense>
          <LoginForm />
        </Suspense>
      </div>
    </div>
  );
}
