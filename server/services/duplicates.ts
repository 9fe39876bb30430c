// Likely duplicates: a payout to the same recipient (phone or account), of the
// same amount and currency, created within a window (24 hours unless an admin
// or DESK_DUPLICATE_WINDOW_HOURS says otherwise). A warning, never a refusal:
// paying someone the same amount twice in a day can be right, so the maker is
// told at creation and the approver must acknowledge it on the approval card.
import type { PayoutStatus } from "@/server/domain/payout-state";
import type { Actor, Db, Desk, Tx } from "./types";
import { audit } from "./audit";
import { FieldErrors, Forbidden } from "./errors";

export const DEFAULT_DUPLICATE_WINDOW_HOURS = 24;
/** Thirty days: beyond that a repeat is a schedule, not a slip. 0 switches the warning off. */
export const MAX_DUPLICATE_WINDOW_HOURS = 720;
const SETTING_KEY = "general.duplicateWindowHours";
let reportedBadWindow: string | undefined;

/** DESK_DUPLICATE_WINDOW_HOURS, read per call; the default when unset or malformed (said once in the log). */
export function envDuplicateWindowHours(env: NodeJS.ProcessEnv = process.env): number {
  const value = env.DESK_DUPLICATE_WINDOW_HOURS?.trim();
  if (!value) return DEFAULT_DUPLICATE_WINDOW_HOURS;
  const n = Number(value);
  if (/^\d+$/.test(value) && n <= MAX_DUPLICATE_WINDOW_HOURS) return n;
  if (reportedBadWindow !== value) {
    reportedBadWindow = value;
    console.error(`[payouts] DESK_DUPLICATE_WINDOW_HOURS must be whole hours from 0 to ${MAX_DUPLICATE_WINDOW_HOURS}, not "${value}"; using ${DEFAULT_DUPLICATE_WINDOW_HOURS}`);
  }
  return DEFAULT_DUPLICATE_WINDOW_HOURS;
}

export interface DuplicateWindow {
  hours: number;
  /** Where it comes from: set by an admin in Settings, or the environment's (or built-in) default. */
  source: "setting" | "environment";
  /** What applies when the setting is cleared. */
  defaultHours: number;
}

/** The window that applies: Settings → General when an admin set it, else DESK_DUPLICATE_WINDOW_HOURS, else 24. */
export async function duplicateWindow(db: Db | Tx): Promise<DuplicateWindow> {
  const defaultHours = envDuplicateWindowHours();
  const row = await db.setting.findUnique({ where: { key: SETTING_KEY } });
  const stored = row && /^\d+$/.test(row.value) ? Number(row.value) : NaN;
  if (Number.isInteger(stored) && stored <= MAX_DUPLICATE_WINDOW_HOURS) return { hours: stored, source: "setting", defaultHours };
  return { hours: defaultHours, source: "environment", defaultHours };
}

export async function duplicateWindowHours(db: Db | Tx): Promise<number> {
  return (await duplicateWindow(db)).hours;
}

/** Admins only: whole hours, or blank for the environment's default. Audited with before and after. */
export async function updateDuplicateWindow(desk: Desk, actor: Actor, input: { hours: string }, ip?: string): Promise<DuplicateWindow> {
  if (actor.role !== "admin") throw new Forbidden(`Only admins change the desk's settings; you are ${actor.role}`, "settings.role");
  const typed = input.hours.trim();
  if (typed !== "" && !(/^\d{1,4}$/.test(typed) && Number(typed) <= MAX_DUPLICATE_WINDOW_HOURS)) {
    throw new FieldErrors({
      duplicateWindowHours: `Whole hours from 0 (no warning) to ${MAX_DUPLICATE_WINDOW_HOURS}, or blank for the default; not "${typed.slice(0, 12)}"`,
    });
  }
  return desk.db.$transaction(async (tx) => {
    const before = await duplicateWindow(tx);
    if (typed === "") await tx.setting.deleteMany({ where: { key: SETTING_KEY } });
    else await tx.setting.upsert({ where: { key: SETTING_KEY }, create: { key: SETTING_KEY, value: String(Number(typed)) }, update: { value: String(Number(typed)) } });
    const after = await duplicateWindow(tx);
    await audit(tx, {
      actorId: actor.id,
      action: "settings.update",
      entityType: "settings",
      entityId: "general",
      details: { changes: { duplicateWindowHours: { from: describe(before), to: describe(after) } } },
      ip,
    });
    return after;
  });
}

function describe(window: DuplicateWindow): string {
  return window.source === "setting" ? `${window.hours} h` : `default (${window.hours} h)`;
}

/** Statuses of a payout that cannot pay any more, so a new one to the same person is a retry, not a duplicate. */
const NOT_PAYING: readonly PayoutStatus[] = ["rejected", "cancelled", "expired", "failed", "reversed"];

export interface LikelyDuplicate {
  id: string;
  createdAt: Date;
  status: PayoutStatus;
  amountMinor: bigint;
  currency: string;
  recipientPhone: string | null;
  recipientAccount: string | null;
  connectionName: string;
  createdByName: string;
}

interface PayoutKey {
  id: string;
  recipientPhone: string | null;
  recipientAccount: string | null;
  amountMinor: bigint;
  currency: string;
  /** The window is around this instant (both sides: an earlier and a later twin are both worth a look). */
  createdAt: Date;
}

/**
 * Other payouts to the same recipient (the same phone number, or the same
 * account number), of the same amount and currency, created within
 * `windowHours` either side of this one, that have paid or still may: the
 * newest first, at most 10. On any connection: the same person paid twice
 * through two providers is still paid twice. The query walks the createdAt
 * index over the window only.
 */
export async function findLikelyDuplicates(db: Db | Tx, payout: PayoutKey, windowHours: number): Promise<LikelyDuplicate[]> {
  if (windowHours <= 0 || (!payout.recipientPhone && !payout.recipientAccount)) return [];
  const span = windowHours * 3600_000;
  const rows = await db.payout.findMany({
    where: {
      createdAt: { gte: new Date(payout.createdAt.getTime() - span), lte: new Date(payout.createdAt.getTime() + span) },
      currency: payout.currency,
      amountMinor: payout.amountMinor,
      id: { not: payout.id },
      status: { notIn: [...NOT_PAYING] },
      OR: [
        ...(payout.recipientPhone ? [{ recipientPhone: payout.recipientPhone }] : []),
        ...(payout.recipientAccount ? [{ recipientAccount: payout.recipientAccount }] : []),
      ],
    },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: 10,
    select: DUPLICATE_SELECT,
  });
  return rows.map(likelyDuplicate);
}

/** What a likely duplicate shows (the maker's warning, the approval card), read the same way by both finders. */
const DUPLICATE_SELECT = {
  id: true,
  createdAt: true,
  status: true,
  amountMinor: true,
  currency: true,
  recipientPhone: true,
  recipientAccount: true,
  connection: { select: { name: true } },
  createdBy: { select: { name: true } },
} as const;

function likelyDuplicate({ connection, createdBy, ...row }: { status: string; connection: { name: string }; createdBy: { name: string } } & Omit<LikelyDuplicate, "status" | "connectionName" | "createdByName">): LikelyDuplicate {
  return { ...row, status: row.status as PayoutStatus, connectionName: connection.name, createdByName: createdBy.name };
}

/**
 * The same rule for many payouts at once (the rows of a bulk file, not yet
 * stored): one query over the createdAt index for the span of their windows,
 * restricted to their recipients, amounts and currencies, then matched here
 * row by row. Answers, by the key's id, its likely duplicates (newest first,
 * at most `perPayout`); keys with none are absent. `amongThemselves`: the
 * payouts are stored ones (a batch being approved), so each may be another's
 * duplicate, exactly as findLikelyDuplicates would find it one by one.
 */
export async function findLikelyDuplicatesAmong(
  db: Db | Tx,
  payouts: readonly PayoutKey[],
  windowHours: number,
  perPayout = 3,
  amongThemselves = false,
): Promise<Map<string, LikelyDuplicate[]>> {
  const out = new Map<string, LikelyDuplicate[]>();
  const keyed = payouts.filter((p) => p.recipientPhone || p.recipientAccount);
  if (windowHours <= 0 || keyed.length === 0) return out;
  const span = windowHours * 3600_000;
  const times = keyed.map((p) => p.createdAt.getTime());
  const phones = [...new Set(keyed.flatMap((p) => (p.recipientPhone ? [p.recipientPhone] : [])))];
  const accounts = [...new Set(keyed.flatMap((p) => (p.recipientAccount ? [p.recipientAccount] : [])))];
  const rows = await db.payout.findMany({
    where: {
      createdAt: { gte: new Date(Math.min(...times) - span), lte: new Date(Math.max(...times) + span) },
      currency: { in: [...new Set(keyed.map((p) => p.currency))] },
      amountMinor: { in: [...new Set(keyed.map((p) => p.amountMinor))] },
      ...(amongThemselves ? {} : { id: { notIn: keyed.map((p) => p.id) } }),
      status: { notIn: [...NOT_PAYING] },
      OR: [...(phones.length ? [{ recipientPhone: { in: phones } }] : []), ...(accounts.length ? [{ recipientAccount: { in: accounts } }] : [])],
    },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    select: DUPLICATE_SELECT,
  });
  const byMoney = new Map<string, typeof rows>();
  for (const row of rows) {
    const key = `${row.currency}|${row.amountMinor}`;
    const list = byMoney.get(key);
    if (list) list.push(row);
    else byMoney.set(key, [row]);
  }
  for (const payout of keyed) {
    const found: LikelyDuplicate[] = [];
    for (const row of byMoney.get(`${payout.currency}|${payout.amountMinor}`) ?? []) {
      if (found.length >= perPayout) break;
      if (row.id === payout.id) continue;
      const samePerson =
        (payout.recipientPhone !== null && row.recipientPhone === payout.recipientPhone) ||
        (payout.recipientAccount !== null && row.recipientAccount === payout.recipientAccount);
      if (!samePerson || Math.abs(row.createdAt.getTime() - payout.createdAt.getTime()) > span) continue;
      found.push(likelyDuplicate(row));
    }
    if (found.length > 0) out.set(payout.id, found);
  }
  return out;
}

/**
 * The likely duplicates of stored payouts (an approval card, a batch being
 * approved), by the one rule: what findLikelyDuplicates answers one by one,
 * found a few hundred payouts at a query (a card per payout cost three queries
 * each, and a batch of 200 previewed and approved cost 1,200).
 */
export async function findLikelyDuplicatesOfStored(db: Db | Tx, payouts: readonly PayoutKey[], windowHours: number): Promise<Map<string, LikelyDuplicate[]>> {
  const out = new Map<string, LikelyDuplicate[]>();
  for (let i = 0; i < payouts.length; i += 500) {
    for (const [id, list] of await findLikelyDuplicatesAmong(db, payouts.slice(i, i + 500), windowHours, 10, true)) out.set(id, list);
  }
  return out;
}
