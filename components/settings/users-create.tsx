"use client";
import { useState, type FormEvent } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/client";
import { fieldErrorsOf, messageOf } from "@/components/trpc/errors";
import { Button } from "@/components/ui/button";
import { Field } from "@/components/ui/field";
import { Card, ErrorNote } from "@/components/ui/layout";
import { ROLE_LABELS, ROLES, type Role } from "@/server/auth/roles";
import { OneTimePassword } from "./users-password";

/** A new account: email, name, role, and a password the admin sets or the desk generates (shown once). */
export function UserCreateForm() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [email, setEmail] = useState("");
  const [name, setName] = useState("");
  const [role, setRole] = useState<Role>("viewer");
  const [password, setPassword] = useState("");
  const [created, setCreated] = useState<{ name: string; email: string; password: string; generated: boolean } | null>(null);
  const create = useMutation(
    trpc.users.create.mutationOptions({
      onSuccess: async (result) => {
        setCreated({ name: result.name, email: result.email, password: result.password, generated: result.generated });
        setEmail("");
        setName("");
        setPassword("");
        await queryClient.invalidateQueries({ queryKey: trpc.users.pathKey() });
      },
    }),
  );
  const errors = fieldErrorsOf(create.error);

  function submit(e: FormEvent) {
    e.preventDefault();
    setCreated(null);
    create.mutate({ email, name: name || null, role, password: password || null });
  }

  return (
    <Card className="p-5">
      <form className="space-y-4" onSubmit={submit} aria-label="Add a user" noValidate>
        <h3 className="text-sm font-semibold text-slate-900">Add a user</h3>
        <div className="grid gap-4 md:grid-cols-2 xl:grid-cols-4">
          <Field label="Email" error={errors.email}>
            {(props) => <input {...props} name="email" type="email" autoComplete="off" value={email} onChange={(e) => setEmail(e.target.value)} />}
          </Field>
          <Field label="Name" error={errors.name} hint="As colleagues know them; the part before @ when empty.">
            {(props) => <input {...props} name="name" autoComplete="off" value={name} onChange={(e) => setName(e.target.value)} />}
          </Field>
          <Field label="Role" error={errors.role}>
            {(props) => (
              <select {...props} name="role" value={role} onChange={(e) => setRole(e.target.value as Role)}>
                {ROLES.map((r) => (
                  <option key={r} value={r}>
                    {ROLE_LABELS[r]}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label="Initial password" error={errors.password} hint="Empty: the desk generates one and shows it once.">
            {(props) => <input {...props} name="password" type="password" autoComplete="new-password" value={password} onChange={(e) => setPassword(e.target.value)} />}
          </Field>
        </div>
        <Button type="submit" busy={create.isPending}>
          Add user
        </Button>
        {create.isError && Object.keys(errors).length === 0 && <ErrorNote>{messageOf(create.error)}</ErrorNote>}
      </form>
      {created && (
        <OneTimePassword
          title={`${created.name} (${created.email}) can sign in now`}
          password={created.password}
          generated={created.generated}
          onDone={() => setCreated(null)}
        />
      )}
    </Card>
  );
}
