"use client";
import { useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/client";
import { messageOf } from "@/components/trpc/errors";
import { Button } from "@/components/ui/button";
import { Card, EmptyState, ErrorNote, Loading } from "@/components/ui/layout";
import { AddConnectionForm, EditConnectionForm } from "./connection-form";
import { ConnectionCard } from "./connection-card";

type Editing = { kind: "none" } | { kind: "add" } | { kind: "edit"; id: string };

/** The admin's page: every connection with its actions, and the add / edit form. */
export function ConnectionsList() {
  const trpc = useTRPC();
  const list = useQuery(trpc.connections.list.queryOptions());
  const [editing, setEditing] = useState<Editing>({ kind: "none" });
  const [notice, setNotice] = useState<string | null>(null);
  const done = (message: string) => {
    setEditing({ kind: "none" });
    setNotice(message);
  };
  const close = () => setEditing({ kind: "none" });

  return (
    <div className="space-y-4">
      <div className="flex flex-wrap items-center justify-between gap-3">
        <p role="status" className="text-sm text-emerald-800" data-testid="connections-notice">
          {notice}
        </p>
        {editing.kind === "none" && (
          <Button
            onClick={() => {
              setNotice(null);
              setEditing({ kind: "add" });
            }}
          >
            Add connection
          </Button>
        )}
      </div>
      {editing.kind === "add" && <AddConnectionForm onDone={done} onCancel={close} />}
      {list.isPending ? (
        <Loading label="Loading connections…" />
      ) : list.isError ? (
        <ErrorNote>{messageOf(list.error)}</ErrorNote>
      ) : list.data.length === 0 ? (
        <Card>
          <EmptyState title="No connections yet">Add one to start sending payouts.</EmptyState>
        </Card>
      ) : (
        <ul className="space-y-4">
          {list.data.map((c) => (
            <li key={c.id}>
              {editing.kind === "edit" && editing.id === c.id ? (
                <EditConnectionForm id={c.id} onDone={done} onCancel={close} />
              ) : (
                <ConnectionCard
                  connection={c}
                  onEdit={() => {
                    setNotice(null);
                    setEditing({ kind: "edit", id: c.id });
                  }}
                />
              )}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
