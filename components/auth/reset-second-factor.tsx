"use client";
// An admin's "Reset second factor" for a user (shown in Settings → Users).
// STUB until the TOTP work lands: renders nothing.

export function ResetSecondFactorButton(_props: { userId: string; userName: string; userRole: string }) {
  return null;
}
