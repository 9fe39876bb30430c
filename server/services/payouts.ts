// Creating, listing and reading payouts.
import type { Payout, Prisma } from "@/server/db/generated/client";
import { isKnownCurrency, parseAmount, MoneyError } from "@/server/domain/money";
import { checkMsisdn } from "@/server/domain/phone";
import { type PayoutStatus } from "@/server/domain/payout-state";
import { isProviderSupported } from "@/server/connectors/registry";
import type { ProviderKind } from "@/server/connectors/types";
import type { Actor, Desk } from "./types";
import { Conflict, FieldErrors, NotFound } from "./errors";
import { audit } from "./audit";
import { openConnector } from "./connections";
import { changeStatusInTx } from "./payout-status";
import { decisionBlockedFor } from "./approvals";

export interface CreatePayoutInput {
  /** UUIDv4 made by the form when it opens: a double submit returns the same payout. */
  id: string;
  connectionId: string;
  amount: string;
  currency: string;
  /** Mobile-money recipients. */
  recipientPhone?: string | null;
  recipientName?: string | null;
  /** Bank recipients. */
  recipientAccount?: string | null;
  /** Provider-specific recipient fields the connector declares (recipientFields()). */
  recipientDetails?: Record<string, string> | null;
  channel?: string | null;
  description: string;
}

interface CheckedRecipient {
  phone: string | null;
  country: string | null;
  name: string | null;
  account: string | null;
  details: Record<string, string> | null;
}

export async function createPayout(desk: Desk, actor: Actor, input: CreatePayoutInput, ip?: string) {
  const existing = await desk.db.payout.findUnique({ where: { id: input.id } });
  if (existing) return sameRequest(existing, actor, input);

  const errors: Record<string, string> = {};
  const connection = await desk.db.connection.findUnique({ where: { id: input.connectionId } });
  if (!connection) errors.connectionId = "Choose a connection";
  else if (!connection.enabled) errors.connectionId = `${connection.name} is paused; choose another connection`;
  else if (!isProviderSupported(connection.provider as ProviderKind)) errors.connectionId = `${connection.name} cannot send payouts yet`;
  const connector = connection && !errors.connectionId ? openConnector(desk, connection) : null;

  let amountMinor: bigint | undefined;
  if (!isKnownCurrency(input.currency)) {
    errors.currency = "Choose a currency (ISO 4217 code, e.g. ZMW)";
  } else {
    try {
      amountMinor = parseAmount(input.amount, input.currency);
      if (amountMinor <= 0n) errors.amount = "Amount must be more than zero";
    } catch (error) {
      if (!(error instanceof MoneyError)) throw error;
      errors.amount = error.message;
    }
  }

  const recipient = checkRecipient(input, connector, errors);

  const description = input.description.trim();
  if (description === "") errors.description = "Enter a description the recipient will recognise";

  if (Object.keys(errors).length === 0 && connector && amountMinor !== undefined && recipient) {
    for (const issue of connector.validate({
      payoutId: input.id,
      amountMinor,
      currency: input.currency,
      recipient: {
        phone: recipient.phone,
        name: recipient.name,
        country: recipient.country,
        accountNumber: recipient.account,
        details: recipient.details,
      },
      channel: input.channel || null,
      description,
      createdAt: new Date(),
    })) {
      errors[issue.field] ??= issue.message;
    }
  }
  if (Object.keys(errors).length > 0 || !connection || amountMinor === undefined || !recipient) throw new FieldErrors(errors);

  try {
    return await insertPayout(desk, actor, input, { connectionId: connection.id, amountMinor, recipient, description }, ip);
  } catch (error) {
    // Two submits of the same form raced past the first check: the loser returns the winner's payout.
    if ((error as { code?: string }).code !== "P2002") throw error;
    const winner = await desk.db.payout.findUnique({ where: { id: input.id } });
    if (!winner) throw error;
    return sameRequest(winner, actor, input);
  }
}

/** The recipient as the connector needs it: a mobile number, or a bank account with its declared extra fields. */
function checkRecipient(
  input: CreatePayoutInput,
  connector: ReturnType<typeof openConnector> | null,
  errors: Record<string, string>,
): CheckedRecipient | null {
  const kind = connector?.recipientKind ?? "msisdn";
  const name = input.recipientName?.trim() || null;
  let phone: string | null = null;
  let country: string | null = null;
  const typedPhone = input.recipientPhone?.trim() ?? "";
  if (kind === "msisdn" || typedPhone !== "") {
    const checked = checkMsisdn(typedPhone);
    if (checked.ok) {
      phone = checked.msisdn;
      country = checked.country;
    } else errors.recipientPhone = checked.message;
  }
  let account: string | null = null;
  if (kind === "bank_account") {
    account = input.recipientAccount?.replace(/\s+/g, "") || null;
    if (!account) errors.recipientAccount = "Enter the recipient's account number";
    else if (!/^[A-Za-z0-9]{4,34}$/.test(account)) errors.recipientAccount = "Account number: 4 to 34 letters or digits, no other characters";
    if (!name) errors.recipientName = "Enter the account holder's name as the bank knows it";
  }
  const fields = connector?.recipientFields?.() ?? [];
  const details: Record<string, string> = {};
  for (const [key, value] of Object.entries(input.recipientDetails ?? {})) {
    if (!fields.some((f) => f.key === key)) errors[key] = `${key} is not a field this connection takes`;
    else if (value.trim() !== "") details[key] = value.trim();
  }
  for (const field of fields) {
    if (field.required && !details[field.key]) errors[field.key] = `Enter the ${field.label.toLowerCase()}`;
  }
  if (Object.keys(errors).some((k) => k === "recipientPhone" || k === "recipientAccount" || k === "recipientName" || fields.some((f) => f.key === k))) {
    return null;
  }
  return { phone, country, name, account, details: Object.keys(details).length ? details : null };
}

interface CheckedPayout {
  connectionId: string;
  amountMinor: bigint;
  recipient: CheckedRecipient;
  description: string;
}

function insertPayout(desk: Desk, actor: Actor, input: CreatePayoutInput, checked: CheckedPayout, ip?: string) {
  const { connectionId, amountMinor, recipient, description } = checked;
  return desk.db.$transaction(async (tx) => {
    const payout = await tx.payout.create({
      data: {
        id: input.id,
        connectionId,
        amountMinor,
        currency: input.currency,
        recipientPhone: recipient.phone,
        recipientName: recipient.name,
        recipientCountry: recipient.country,
        recipientAccount: recipient.account,
        recipientDetails: recipient.details ?? undefined,
        channel: input.channel || null,
        description,
        status: "pending_approval",
        createdById: actor.id,
      },
    });
    await tx.payoutEvent.create({
      data: { payoutId: payout.id, fromStatus: null, toStatus: "pending_approval", source: "user", actorId: actor.id, note: "Created" },
    });
    await audit(tx, {
      actorId: actor.id,
      action: "payout.create",
      entityType: "payout",
      entityId: payout.id,
      ip,
      details: {
        amountMinor: amountMinor.toString(),
        currency: input.currency,
        connectionId,
        recipientPhone: recipient.phone,
        recipientAccount: recipient.account,
      },
    });
    return payout;
  });
}

function sameRequest(existing: Payout, actor: Actor, input: CreatePayoutInput): Payout {
  const phone = input.recipientPhone ? checkMsisdn(input.recipientPhone) : null;
  let amount: bigint | undefined;
  try {
    amount = parseAmount(input.amount, input.currency);
  } catch {
    amount = undefined;
  }
  const same =
    existing.createdById === actor.id &&
    existing.connectionId === input.connectionId &&
    existing.currency === input.currency &&
    existing.amountMinor === amount &&
    (existing.recipientPhone ?? null) === (phone?.ok ? phone.msisdn : null) &&
    (existing.recipientAccount ?? null) === (input.recipientAccount?.replace(/\s+/g, "") || null);
  if (!same) throw new Conflict("This payout id is already used by a different payout; reload the form");
  return existing;
}

export interface PayoutFilters {
  status?: PayoutStatus[];
  connectionId?: string;
  /** Inclusive, ISO date (yyyy-mm-dd), in UTC. */
  createdFrom?: string;
  createdTo?: string;
  /** Payout id, recipient phone or provider reference. */
  search?: string;
  /** Only payouts flagged as in flight for too long. */
  attention?: boolean;
}

export interface PageRequest {
  cursor?: string | null;
  limit?: number;
}

/** Keyset pagination on (createdAt desc, id desc): stable under inserts, cheap at any depth. */
export async function listPayouts(desk: Desk, filters: PayoutFilters, page: PageRequest = {}) {
  const limit = Math.min(Math.max(page.limit ?? 50, 1), 200);
  const where: Prisma.PayoutWhereInput = { AND: [] };
  const and = where.AND as Prisma.PayoutWhereInput[];
  if (filters.status?.length) and.push({ status: { in: filters.status } });
  if (filters.connectionId) and.push({ connectionId: filters.connectionId });
  if (filters.attention) and.push({ attentionSince: { not: null } });
  if (filters.createdFrom) and.push({ createdAt: { gte: dayStart(filters.createdFrom, "createdFrom") } });
  if (filters.createdTo) {
    const end = dayStart(filters.createdTo, "createdTo");
    end.setUTCDate(end.getUTCDate() + 1);
    and.push({ createdAt: { lt: end } });
  }
  const search = filters.search?.trim();
  if (search) {
    const digits = search.replace(/[\s+\-]/g, "");
    and.push({
      OR: [
        ...(/^[0-9a-f-]{36}$/i.test(search) ? [{ id: search.toLowerCase() }] : []),
        ...(/^\d{5,}$/.test(digits) ? [{ recipientPhone: { contains: digits } }] : []),
        { providerReference: search },
      ],
    });
  }
  if (page.cursor) {
    const { createdAt, id } = decodeCursor(page.cursor);
    and.push({ OR: [{ createdAt: { lt: createdAt } }, { createdAt, id: { lt: id } }] });
  }
  const rows = await desk.db.payout.findMany({
    where,
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: limit + 1,
    include: { connection: { select: { name: true, provider: true } }, createdBy: { select: { name: true } } },
  });
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items, nextCursor: rows.length > limit && last ? encodeCursor(last.createdAt, last.id) : null };
}

function dayStart(value: string, field: string): Date {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(Date.parse(`${value}T00:00:00Z`))) {
    throw new FieldErrors({ [field]: "Use a date like 2026-11-21" });
  }
  return new Date(`${value}T00:00:00Z`);
}

function encodeCursor(createdAt: Date, id: string): string {
  return Buffer.from(`${createdAt.toISOString()}|${id}`).toString("base64url");
}

function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  const [iso, id] = Buffer.from(cursor, "base64url").toString().split("|");
  const createdAt = new Date(iso ?? "");
  if (!id || Number.isNaN(createdAt.getTime())) throw new FieldErrors({ cursor: "The page link is broken; start from the first page" });
  return { createdAt, id };
}

export async function getPayout(desk: Desk, actor: Actor, id: string) {
  const payout = await desk.db.payout.findUnique({
    where: { id },
    include: {
      connection: { select: { id: true, name: true, provider: true, environment: true } },
      createdBy: { select: { id: true, name: true, email: true } },
      events: { orderBy: [{ at: "asc" }, { id: "asc" }] },
      approvals: { orderBy: { at: "asc" }, include: { approver: { select: { name: true, email: true } } } },
      providerCalls: { orderBy: [{ at: "asc" }, { id: "asc" }] },
    },
  });
  if (!payout) throw new NotFound("Payout");
  const decisionBlockedBecause = decisionBlockedFor(actor, payout);
  const canWithdraw = payout.createdById === actor.id && payout.status === "pending_approval";
  return { payout, canDecide: decisionBlockedBecause === null, decisionBlockedBecause, canWithdraw };
}

/** A maker withdraws their own payout before it is decided. */
export async function cancelPayout(desk: Desk, actor: Actor, id: string, ip?: string) {
  return desk.db.$transaction(async (tx) => {
    const payout = await tx.payout.findUnique({ where: { id }, select: { createdById: true, status: true } });
    if (!payout) throw new NotFound("Payout");
    if (payout.createdById !== actor.id) throw new Conflict("Only the maker who created this payout can withdraw it");
    const outcome = await changeStatusInTx(tx, {
      payoutId: id,
      to: "cancelled",
      from: ["pending_approval"],
      source: "user",
      actorId: actor.id,
      note: "Withdrawn by the maker",
    });
    if (!outcome.changed) throw new Conflict(`This payout is ${outcome.current} and can no longer be withdrawn`);
    await audit(tx, { actorId: actor.id, action: "payout.cancel", entityType: "payout", entityId: id, ip });
    return outcome;
  });
}
