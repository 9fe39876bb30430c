"use client";
import { useState } from "react";
import { Button } from "@/components/ui/button";

/**
 * A password shown once: the desk keeps only its hash, so this is the only
 * time anyone can read it. Copy it, hand it over, then close the panel.
 */
export function OneTimePassword({ title, password, generated, onDone }: { title: string; password: string; generated: boolean; onDone: () => void }) {
  const [copied, setCopied] = useState(false);
  return (
    <div role="status" className="mt-4 space-y-2 rounded-md bg-amber-50 p-4 text-sm text-amber-950 ring-1 ring-inset ring-amber-200" data-testid="one-time-password">
      <p className="font-medium">{title}</p>
      {generated ? (
        <>
          <p>
            Their password, shown this once (the desk keeps only a hash of it): <span className="select-all rounded bg-white px-1.5 py-0.5 font-mono ring-1 ring-amber-200" data-testid="one-time-password-value">{password}</span>
          </p>
          <div className="flex gap-2">
            <Button
              type="button"
              variant="secondary"
              onClick={async () => {
                try {
                  await navigator.clipboard.writeText(password);
                  setCopied(true);
                } catch {
                  setCopied(false);
                }
              }}
            >
              {copied ? "Copied" : "Copy password"}
            </Button>
            <Button type="button" variant="ghost" onClick={onDone}>
              Done, hide it
            </Button>
          </div>
        </>
      ) : (
        <div className="flex items-center gap-2">
          <p>With the password you set. Hand it over the way your team hands over secrets.</p>
          <Button type="button" variant="ghost" onClick={onDone}>
            Close
          </Button>
        </div>
      )}
    </div>
  );
}
