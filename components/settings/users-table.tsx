"use client";
import { useState } from "react";
import { useSearchParams } from "next/navigation";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/client";
import { fieldErrorsOf, messageOf } from "@/components/trpc/errors";
import { ResetSecondFactorButton } from "@/components/auth/reset-second-factor";
import { Button } from "@/components/ui/button";
import { controlClass } from "@/components/ui/field";
import { Card, EmptyState, ErrorNote, Loading } from "@/components/ui/layout";
import { ROLE_LABELS, ROLES, type Role } from "@/server/auth/roles";
import type { UserRow as User } from "@/server/services/user-admin";
import { OneTimePassword } from "./users-password";

type Group = { id: string; name: string };

export function UsersTable() {
  const trpc = useTRPC();
  const users = useQuery(trpc.users.list.queryOptions());
  // ?user=<id>: the audit trail links a user's entries here.
  const highlighted = useSearchParams().get("user");

  if (users.isPending) return <Loading label="Loading users…" />;
  if (users.isError) return <ErrorNote>{messageOf(users.error)}</ErrorNote>;
  if (users.data.users.length === 0) return <EmptyState title="No users yet" />;
  return (
    <Card className="overflow-x-auto">
      <table className="min-w-full divide-y divide-slate-200 text-sm" data-testid="users-table">
        <thead className="bg-slate-50 text-left text-xs font-semibold uppercase tracking-wide text-slate-600">
          <tr>
            <th className="px-4 py-3">User</th>
            <th className="px-4 py-3">Role</th>
            <th className="px-4 py-3">Approval groups</th>
            <th className="px-4 py-3">Status</th>
            <th className="px-4 py-3">Sign-in</th>
            <th className="px-4 py-3">Actions</th>
          </tr>
        </thead>
        <tbody className="divide-y divide-slate-100 bg-white">
          {users.data.users.map((user) => (
            <UserRow key={user.id} user={user} groups={users.data.groups} highlighted={highlighted === user.id} />
          ))}
        </tbody>
      </table>
    </Card>
  );
}

function UserRow({ user, groups, highlighted }: { user: User; groups: Group[]; highlighted: boolean }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [problem, setProblem] = useState<string | null>(null);
  const [newPassword, setNewPassword] = useState<string | null>(null);
  const [confirming, setConfirming] = useState<"disable" | "reset" | null>(null);
  const refresh = async () => {
    await queryClient.invalidateQueries({ queryKey: trpc.users.pathKey() });
  };
  const onError = (error: unknown) => {
    const fields = fieldErrorsOf(error);
    setProblem(Object.values(fields)[0] ?? messageOf(error));
  };
  const options = { onError, onSuccess: refresh, onMutate: () => setProblem(null) };
  const setRole = useMutation(trpc.users.setRole.mutationOptions(options));
  const setDisabled = useMutation(trpc.users.setDisabled.mutationOptions({ ...options, onSuccess: async () => { setConfirming(null); await refresh(); } }));
  const setGroups = useMutation(trpc.users.setGroups.mutationOptions(options));
  const resetPassword = useMutation(
    trpc.users.resetPassword.mutationOptions({
      ...options,
      onSuccess: async (result) => {
        setConfirming(null);
        setNewPassword(result.password);
        await refresh();
      },
    }),
  );
  const busy = setRole.isPending || setDisabled.isPending || setGroups.isPending || resetPassword.isPending;
  const memberOf = new Set(user.groups.map((g) => g.id));

  return (
    <>
      <tr className={`align-top ${highlighted ? "bg-amber-50" : ""} ${user.disabled ? "text-slate-500" : ""}`} data-testid="user-row" data-email={user.email}>
        <td className="min-w-48 px-4 py-3 wrap-anywhere">
          <div className="font-medium text-slate-900">
            {user.name}
            {user.isYou && <span className="ml-1 text-xs font-normal text-slate-500">(you)</span>}
          </div>
          <div className="text-xs text-slate-500">{user.email}</div>
        </td>
        <td className="px-4 py-3">
          <select
            aria-label={`Role of ${user.name}`}
            className={controlClass}
            value={user.role}
            disabled={busy}
            onChange={(e) => setRole.mutate({ userId: user.id, role: e.target.value as Role })}
          >
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {ROLE_LABELS[r]}
              </option>
            ))}
          </select>
        </td>
        <td className="min-w-40 px-4 py-3">
          {groups.length === 0 ? (
            <span className="text-xs text-slate-500">No groups yet (Settings → Approval policy)</span>
          ) : (
            <details>
              <summary className="cursor-pointer text-sm text-slate-700">{user.groups.length === 0 ? "None" : user.groups.map((g) => g.name).join(", ")}</summary>
              <fieldset className="mt-2 space-y-1" aria-label={`Approval groups of ${user.name}`} disabled={busy}>
                {groups.map((g) => (
                  <label key={g.id} className="flex items-center gap-2 text-sm">
                    <input
                      type="checkbox"
                      checked={memberOf.has(g.id)}
                      onChange={(e) => {
                        const next = new Set(memberOf);
                        if (e.target.checked) next.add(g.id);
                        else next.delete(g.id);
                        setGroups.mutate({ userId: user.id, groupIds: [...next] });
                      }}
                    />
                    {g.name}
                  </label>
                ))}
                {user.role !== "approver" && user.role !== "admin" && <p className="text-xs text-slate-500">Groups count only for approvers and admins.</p>}
              </fieldset>
            </details>
          )}
        </td>
        <td className="whitespace-nowrap px-4 py-3">
          <span className={`rounded px-1.5 py-0.5 text-xs font-medium ${user.disabled ? "bg-slate-100 text-slate-600" : "bg-emerald-50 text-emerald-800"}`} data-testid="user-status">
            {user.disabled ? "Disabled" : "Enabled"}
          </span>
          <div className="mt-1 text-xs text-slate-500">Two-factor {user.secondFactor ? "on" : "off"}</div>
        </td>
        <td className="whitespace-nowrap px-4 py-3 text-xs text-slate-600">
          {user.lastSignInAt ? `Last ${new Date(user.lastSignInAt).toLocaleString()}` : "Never signed in"}
          <div>
            {user.openSessions} open session{user.openSessions === 1 ? "" : "s"}
          </div>
        </td>
        <td className="px-4 py-3">
          <div className="flex flex-wrap gap-2">
            {user.disabled ? (
              <Button variant="secondary" busy={setDisabled.isPending} disabled={busy} onClick={() => setDisabled.mutate({ userId: user.id, disabled: false })}>
                Enable
              </Button>
            ) : (
              !user.isYou && (
                <Button variant="secondary" disabled={busy} onClick={() => setConfirming("disable")}>
                  Disable
                </Button>
              )
            )}
            <Button variant="secondary" disabled={busy} onClick={() => setConfirming("reset")}>
              Reset password
            </Button>
            <ResetSecondFactorButton userId={user.id} userName={user.name} userRole={user.role} />
          </div>
        </td>
      </tr>
      {(confirming || problem || newPassword) && (
        <tr className={highlighted ? "bg-amber-50" : ""}>
          <td colSpan={6} className="px-4 pb-4">
            {confirming && (
              <div role="group" aria-label={`Confirm for ${user.name}`} className="flex flex-wrap items-center gap-2 rounded-md bg-amber-50 p-3 text-sm text-amber-950 ring-1 ring-amber-200">
                <span>
                  {confirming === "disable"
                    ? `Disable ${user.name}? Their ${user.openSessions} open session${user.openSessions === 1 ? "" : "s"} end at once and they cannot sign in until enabled.`
                    : `Give ${user.name} a new password? ${user.isYou ? "Your other sessions end; this one stays." : "Their sessions end at once."} The new one is shown once.`}
                </span>
                <Button
                  variant="danger"
                  busy={setDisabled.isPending || resetPassword.isPending}
                  onClick={() => (confirming === "disable" ? setDisabled.mutate({ userId: user.id, disabled: true }) : resetPassword.mutate({ userId: user.id }))}
                >
                  {confirming === "disable" ? "Disable" : "Reset password"}
                </Button>
                <Button variant="ghost" onClick={() => setConfirming(null)}>
                  Keep as is
                </Button>
              </div>
            )}
            {problem && (
              <div className="mt-2">
                <ErrorNote>{problem}</ErrorNote>
              </div>
            )}
            {newPassword && <OneTimePassword title={`New password for ${user.name}`} password={newPassword} generated onDone={() => setNewPassword(null)} />}
          </td>
        </tr>
      )}
    </>
  );
}
