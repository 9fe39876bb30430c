"use client";
// Settings → Users (admins only; the page renders it for admins and the
// server refuses everyone else): create accounts, change roles and approval
// groups, disable and enable, reset passwords and second factors. Every
// change is audited by the server with before and after.
import { Suspense } from "react";
import { Loading } from "@/components/ui/layout";
import { UserCreateForm } from "./users-create";
import { UsersTable } from "./users-table";

export function UsersSettings() {
  return (
    <section aria-labelledby="users" className="space-y-3">
      <h2 id="users" className="scroll-mt-6 text-base font-semibold text-slate-900">
        Users
      </h2>
      <p className="text-sm text-slate-600">
        Who may sign in, and as what. Disabling someone ends their sessions at once; a new password is shown once and ends their sessions too. The desk always keeps one enabled admin, and nobody can disable themselves.
      </p>
      <UserCreateForm />
      {/* The table reads ?user= from the address bar. */}
      <Suspense fallback={<Loading label="Loading users…" />}>
        <UsersTable />
      </Suspense>
    </section>
  );
}
