// Desk-wide settings people change (Settings → General): the merchant's name
// on exported statements and the time zone statements default to. Stored in
// the Setting key/value table under "general.*" keys, beside the secrets the
// desk generates for itself (which these functions never read or write).
import { canonicalTimeZone, DEFAULT_TIME_ZONE } from "@/server/domain/statement";
import type { Actor, Db, Desk, Tx } from "./types";
import { audit } from "./audit";
import { FieldErrors, Forbidden } from "./errors";

const KEYS = {
  merchantName: "general.merchantName",
  timeZone: "general.timeZone",
} as const;

/** What a PDF header says when no admin has named the merchant yet. */
export const DEFAULT_MERCHANT_NAME = "Payout desk";
export const MERCHANT_NAME_MAX = 120;

export interface GeneralSettings {
  /** Null until an admin sets it (exports then say DEFAULT_MERCHANT_NAME). */
  merchantName: string | null;
  /** IANA zone statements use unless a user picks their own. */
  timeZone: string;
  /** When either was last changed; null when never. */
  updatedAt: Date | null;
}

export async function generalSettings(db: Db | Tx): Promise<GeneralSettings> {
  const rows = await db.setting.findMany({ where: { key: { in: Object.values(KEYS) } } });
  const byKey = new Map(rows.map((r) => [r.key, r]));
  const merchantName = byKey.get(KEYS.merchantName)?.value.trim() || null;
  // A stored zone the platform no longer knows (an ICU update renamed it) falls back rather than breaking every statement.
  const timeZone = canonicalTimeZone(byKey.get(KEYS.timeZone)?.value ?? "") ?? DEFAULT_TIME_ZONE;
  const updated = rows.map((r) => r.updatedAt.getTime());
  return { merchantName, timeZone, updatedAt: updated.length ? new Date(Math.max(...updated)) : null };
}

export interface GeneralSettingsInput {
  merchantName: string;
  timeZone: string;
}

/** Admins only; each change is audited with what it was and what it became. */
export async function updateGeneralSettings(desk: Desk, actor: Actor, input: GeneralSettingsInput, ip?: string): Promise<GeneralSettings> {
  if (actor.role !== "admin") throw new Forbidden(`Only admins change the desk's settings; you are ${actor.role}`, "settings.role");
  const errors: Record<string, string> = Object.create(null);
  const merchantName = input.merchantName.trim();
  if (merchantName === "") errors.merchantName = "Enter the merchant's name as it should head exported statements";
  else if (merchantName.length > MERCHANT_NAME_MAX) errors.merchantName = `${MERCHANT_NAME_MAX} characters at most; this has ${merchantName.length.toLocaleString("en")}`;
  // eslint-disable-next-line no-control-regex
  else if (/[\u0000-\u001f\u007f]/.test(merchantName)) errors.merchantName = "One line of text: no line breaks, tabs or control characters";
  const timeZone = canonicalTimeZone(input.timeZone.trim());
  if (!timeZone) errors.timeZone = `Choose an IANA time zone such as Europe/London or Africa/Lusaka; "${input.timeZone.trim().slice(0, 64)}" is not one`;
  if (Object.keys(errors).length > 0 || !timeZone) throw new FieldErrors(errors);

  return desk.db.$transaction(async (tx) => {
    const before = await generalSettings(tx);
    const changes: Record<string, { from: string | null; to: string }> = {};
    if (before.merchantName !== merchantName) changes.merchantName = { from: before.merchantName, to: merchantName };
    if (before.timeZone !== timeZone) changes.timeZone = { from: before.timeZone, to: timeZone };
    for (const [key, value] of [
      [KEYS.merchantName, merchantName],
      [KEYS.timeZone, timeZone],
    ] as const) {
      await tx.setting.upsert({ where: { key }, create: { key, value }, update: { value } });
    }
    await audit(tx, { actorId: actor.id, action: "settings.update", entityType: "settings", entityId: "general", details: { changes }, ip });
    return generalSettings(tx);
  });
}
