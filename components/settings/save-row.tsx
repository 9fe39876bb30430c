"use client";
// The foot of a Settings form: Save with what was saved (admins), or why
// there is nothing to press, and a refusal that names no field.
import { Button } from "@/components/ui/button";
import { ErrorNote } from "@/components/ui/layout";

export function SaveRow({ canEdit, busy, saved, error }: { canEdit: boolean; busy: boolean; saved: string | null; error: string | null }) {
  return (
    <>
      {canEdit ? (
        <div className="flex items-center gap-3">
          <Button type="submit" busy={busy}>
            Save
          </Button>
          {saved && (
            <p role="status" className="text-sm text-emerald-800">
              {saved}
            </p>
          )}
        </div>
      ) : (
        <p className="text-sm text-slate-600">Only admins change these settings.</p>
      )}
      {error && <ErrorNote>{error}</ErrorNote>}
    </>
  );
}
