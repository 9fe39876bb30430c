"use client";
// The foot of a Settings form: Save with what was saved (admins), or why
// there is nothing to press, and a refusal that names no field.
import { Button } from "@/components/ui/button";
import { ErrorNote } from "@/components/ui/layout";

export function SaveRow({
  canEdit,
  busy,
  saved,
  error,
  disabled = false,
  readOnlyNote = "Only admins change these settings.",
}: {
  canEdit: boolean;
  busy: boolean;
  saved: string | null;
  error: string | null;
  /** Nothing to save yet (the form still holds what is stored). */
  disabled?: boolean;
  /** What a person who may not change them reads instead of the button. */
  readOnlyNote?: string;
}) {
  return (
    <>
      {canEdit ? (
        <div className="flex items-center gap-3">
          <Button type="submit" busy={busy} disabled={disabled}>
            Save
          </Button>
          {saved && (
            <p role="status" className="text-sm text-emerald-800">
              {saved}
            </p>
          )}
        </div>
      ) : (
        <p className="text-sm text-slate-600">{readOnlyNote}</p>
      )}
      {error && <ErrorNote>{error}</ErrorNote>}
    </>
  );
}
