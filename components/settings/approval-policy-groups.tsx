"use client";
// Approval groups (Settings → Approval policy): named groups a policy level
// can ask for ("2 of treasury"). Admins create, rename and delete them here;
// who is in which group is set in Settings → Users. The server refuses to
// delete a group a policy version or a waiting payout still needs, saying which.
import { useState, type FormEvent } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/client";
import { fieldErrorsOf, messageOf } from "@/components/trpc/errors";
import { Button } from "@/components/ui/button";
import { Field } from "@/components/ui/field";
import { Card, ErrorNote } from "@/components/ui/layout";

interface Group {
  id: string;
  name: string;
  members: Array<{ id: string; name: string; email: string; role: string; disabled: boolean }>;
}

export function ApprovalGroups({ groups, canEdit }: { groups: Group[]; canEdit: boolean }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const onSuccess = () => queryClient.invalidateQueries({ queryKey: trpc.approvalPolicy.pathKey() });
  const create = useMutation(trpc.approvalPolicy.createGroup.mutationOptions({ onSuccess }));
  const [name, setName] = useState("");

  function submit(e: FormEvent) {
    e.preventDefault();
    create.mutate({ name }, { onSuccess: () => setName("") });
  }

  return (
    <Card className="p-5">
      <section aria-labelledby="approval-groups-heading" className="space-y-3" data-testid="approval-groups">
        <div>
          <h3 id="approval-groups-heading" className="text-sm font-semibold text-slate-900">
            Approval groups
          </h3>
          <p className="text-xs text-slate-600">
            A level of the policy may ask for N people of a group. Members count only with the approver or admin role. Who is in which group is set in Settings → Users.
          </p>
        </div>
        {groups.length === 0 ? (
          <p className="text-sm text-slate-600">No groups yet.</p>
        ) : (
          <ul className="divide-y divide-slate-100">
            {groups.map((g) => (
              <GroupRow key={g.id} group={g} canEdit={canEdit} />
            ))}
          </ul>
        )}
        {canEdit && (
          <form onSubmit={submit} className="flex flex-wrap items-end gap-2" noValidate>
            <div className="w-64">
              <Field label="New group" error={fieldErrorsOf(create.error).name}>
                {(props) => <input {...props} value={name} onChange={(e) => setName(e.target.value)} placeholder="treasury" autoComplete="off" />}
              </Field>
            </div>
            <Button type="submit" variant="secondary" busy={create.isPending}>
              Create group
            </Button>
            {create.error && !fieldErrorsOf(create.error).name && <ErrorNote>{messageOf(create.error)}</ErrorNote>}
          </form>
        )}
      </section>
    </Card>
  );
}

function GroupRow({ group, canEdit }: { group: Group; canEdit: boolean }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const onSuccess = () => queryClient.invalidateQueries({ queryKey: trpc.approvalPolicy.pathKey() });
  const rename = useMutation(trpc.approvalPolicy.renameGroup.mutationOptions({ onSuccess }));
  const remove = useMutation(trpc.approvalPolicy.deleteGroup.mutationOptions({ onSuccess }));
  const [editing, setEditing] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [name, setName] = useState(group.name);
  const counted = group.members.filter((m) => !m.disabled && (m.role === "approver" || m.role === "admin"));

  return (
    <li className="space-y-2 py-3 text-sm">
      {editing ? (
        <form
          className="flex flex-wrap items-end gap-2"
          noValidate
          onSubmit={(e) => {
            e.preventDefault();
            rename.mutate({ id: group.id, name }, { onSuccess: () => setEditing(false) });
          }}
        >
          <div className="w-64">
            <Field label={`Rename ${group.name}`} error={fieldErrorsOf(rename.error).name}>
              {(props) => <input {...props} value={name} onChange={(e) => setName(e.target.value)} autoFocus autoComplete="off" />}
            </Field>
          </div>
          <Button type="submit" variant="secondary" busy={rename.isPending}>
            Save
          </Button>
          <Button type="button" variant="ghost" onClick={() => setEditing(false)}>
            Cancel
          </Button>
        </form>
      ) : (
        <div className="flex flex-wrap items-center justify-between gap-2">
          <div className="min-w-0">
            <p className="font-medium text-slate-900 wrap-anywhere">{group.name}</p>
            <p className="text-xs text-slate-600 wrap-anywhere">
              {group.members.length === 0
                ? "No members"
                : group.members.map((m) => `${m.name} (${m.role}${m.disabled ? ", disabled" : ""})`).join(", ")}
              {group.members.length > 0 && ` · ${counted.length} can approve`}
            </p>
          </div>
          {canEdit && (
            <div className="flex gap-2">
              <Button variant="ghost" onClick={() => setEditing(true)}>
                Rename
              </Button>
              {confirming ? (
                <>
                  <Button variant="danger" onClick={() => remove.mutate({ id: group.id })} busy={remove.isPending}>
                    Delete {group.name}
                  </Button>
                  <Button variant="ghost" onClick={() => setConfirming(false)}>
                    Keep it
                  </Button>
                </>
              ) : (
                <Button variant="ghost" onClick={() => setConfirming(true)}>
                  Delete…
                </Button>
              )}
            </div>
          )}
        </div>
      )}
      {(rename.error && !fieldErrorsOf(rename.error).name) || remove.error ? <ErrorNote>{messageOf(rename.error ?? remove.error)}</ErrorNote> : null}
    </li>
  );
}
