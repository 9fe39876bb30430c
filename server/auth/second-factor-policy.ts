// Who must sign in with a second factor. Approvers and admins always (they
// move money and change controls); everyone else only when an admin has
// turned on "require it of everyone" (Settings → Two-factor sign-in), stored
// in the Setting table under REQUIRE_TOTP_FOR_ALL_KEY.
import type { Db, Tx } from "@/server/services/types";
import type { Role } from "./roles";

export const REQUIRE_TOTP_FOR_ALL_KEY = "security.requireTotpForAll";

/** Roles that must use two-factor sign-in whatever the desk's setting. */
export const ROLES_REQUIRING_TOTP: readonly Role[] = ["approver", "admin"];

/** Why a role must have a second factor: its role, the desk's setting, or it need not. */
export type SecondFactorRequirement = "role" | "desk" | null;

export async function totpRequiredForAll(db: Db | Tx): Promise<boolean> {
  const row = await db.setting.findUnique({ where: { key: REQUIRE_TOTP_FOR_ALL_KEY } });
  return row?.value === "true";
}

export async function secondFactorRequirement(db: Db | Tx, role: Role): Promise<SecondFactorRequirement> {
  if (ROLES_REQUIRING_TOTP.includes(role)) return "role";
  return (await totpRequiredForAll(db)) ? "desk" : null;
}
