// Creating, listing and reading payouts.
import type { Payout, Prisma } from "@/server/db/generated/client";
import { isKnownCurrency, parseAmount, MoneyError } from "@/server/domain/money";
import { checkMsisdn, numbersOf } from "@/server/domain/phone";
import { type PayoutStatus } from "@/server/domain/payout-state";
import { isProviderSupported } from "@/server/connectors/registry";
import type { PayoutConnector, ProviderKind } from "@/server/connectors/types";
import type { Actor, Desk } from "./types";
import { Conflict, FieldErrors, NotFound } from "./errors";
import { audit } from "./audit";
import { openConnector } from "./connections";
import { changeStatusInTx } from "./payout-status";
import { decisionBlockedFor } from "./approvals";
import { payoutLimitProblem } from "./payout-limits";

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

export interface CheckedRecipient {
  phone: string | null;
  country: string | null;
  name: string | null;
  account: string | null;
  details: Record<string, string> | null;
}

export async function createPayout(desk: Desk, actor: Actor, input: CreatePayoutInput, ip?: string) {
  const existing = await desk.db.payout.findUnique({ where: { id: input.id } });
  if (existing) return sameRequest(existing, actor, input);

  const checked = await checkPayoutInput(desk, input);
  try {
    return await insertPayout(desk, actor, input, checked, ip);
  } catch (error) {
    // Two submits of the same form raced past the first check: the loser returns the winner's payout.
    if ((error as { code?: string }).code !== "P2002") throw error;
    const winner = await desk.db.payout.findUnique({ where: { id: input.id } });
    if (!winner) throw error;
    return sameRequest(winner, actor, input);
  }
}

/**
 * The one validation of a payout's fields, for the form, the API, an edit and
 * the bulk file alike: the connection, the amount (its currency's decimals and
 * the connection's maximum), the recipient, the description and the
 * connector's own rules. Throws FieldErrors naming every field at once;
 * answers the payout as it will be stored.
 */
export async function checkPayoutInput(desk: Desk, input: CreatePayoutInput): Promise<CheckedPayout> {
  // No prototype: a field named "constructor" or "toString" is a plain entry here, never Object's.
  const errors: Record<string, string> = Object.create(null);
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
  if (connection && connector && amountMinor !== undefined && !errors.amount) {
    // The provider's or desk's maximum, lowered by the connection's own limits (Connections → Limits).
    const overLimit = payoutLimitProblem(connection, connector, amountMinor, input.currency, input.channel || null);
    if (overLimit) errors.amount = overLimit;
  }

  const recipient = checkRecipient(input, connector, errors);

  // A number of the wrong country is the phone's problem: the maker chose the
  // number, not the network the desk would have predicted from it.
  const wrongCountry =
    connection && connector && recipient && isKnownCurrency(input.currency)
      ? phoneCountryProblem(connection.name, connector, input.currency, input.channel || null, recipient.country)
      : null;
  if (wrongCountry) errors.recipientPhone = wrongCountry;

  const description = input.description.trim();
  if (description === "") errors.description = "Enter a description the recipient will recognise";

  // The connector's rules run whenever there is a payout to show them, so the
  // maker sees every problem at once; a field already refused keeps the first message.
  if (connector && amountMinor !== undefined && recipient) {
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
      // The network and currency follow from the number; once the number is wrong, they are noise.
      if (wrongCountry && (issue.field === "currency" || issue.field === "channel")) continue;
      if (!Object.hasOwn(errors, issue.field)) errors[issue.field] = issue.message;
    }
  }
  if (Object.keys(errors).length > 0 || !connection || amountMinor === undefined || !recipient) throw new FieldErrors(errors);
  return { connectionId: connection.id, amountMinor, recipient, description };
}

// The per-payout maximum lives with the other limits (payout-limits.ts); re-exported for callers of this module.
export { DEFAULT_MAX_PAYOUT_MAJOR, deskMaxPayoutMajor, payoutLimitProblem, payoutMaximum } from "./payout-limits";

/**
 * For a connector that routes mobile money by network: the number's country
 * must be one the chosen network (or, on automatic, a network paying this
 * currency) serves. Null when it is, or when the connector has no such list.
 */
function phoneCountryProblem(
  connectionName: string,
  connector: PayoutConnector,
  currency: string,
  channel: string | null,
  country: string | null,
): string | null {
  if (!country || connector.recipientKind === "bank_account" || connector.payoutCurrencies) return null;
  const channels = connector.channels();
  const candidates = channel ? channels.filter((c) => c.code === channel) : channels.filter((c) => c.currency === currency);
  // No network for this currency or no such channel: the connector says so on the right field.
  if (candidates.length === 0 || candidates.some((c) => c.country.toUpperCase() === country)) return null;
  const countries = [...new Set(candidates.map((c) => c.country.toUpperCase()))];
  const where = countries.map((c) => numbersOf(c)).join(" or ");
  const payer = channel ? `${candidates[0]!.label} pays` : `${connectionName} pays ${currency}`;
  return `This is ${numbersOf(country, "one")}; ${payer} to ${where}`;
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
  const declared = new Map(fields.map((f) => [f.key, f]));
  const details = new Map<string, string>();
  // Own keys only, looked up in a Map: "constructor" or "toString" is just an unknown key.
  for (const [key, value] of Object.entries(input.recipientDetails ?? {})) {
    // Named under recipientDetails so an unknown key can never overwrite another field's error.
    if (!declared.has(key)) errors[`recipientDetails.${key}`] = `"${key}" is not a field this connection takes`;
    else if (value.trim() !== "") details.set(key, value.trim());
  }
  for (const field of fields) {
    if (field.required && !details.has(field.key)) errors[field.key] = `Enter the ${field.label.toLowerCase()}`;
  }
  const recipientProblem = Object.keys(errors).some(
    (k) => k === "recipientPhone" || k === "recipientAccount" || k === "recipientName" || k.startsWith("recipientDetails.") || declared.has(k),
  );
  if (recipientProblem) return null;
  return { phone, country, name, account, details: details.size ? Object.fromEntries(details) : null };
}

export interface CheckedPayout {
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

/**
 * A second submit with the same payout id: the same payout comes back only if
 * it is the same request. Any changed field is a conflict that names what
 * changed, never silently the old payout.
 */
function sameRequest(existing: Payout, actor: Actor, input: CreatePayoutInput): Payout {
  if (existing.createdById !== actor.id) throw new Conflict("This payout id belongs to another maker's payout; reload the form to make a new one");
  let amount: bigint | null;
  try {
    amount = parseAmount(input.amount, input.currency);
  } catch {
    amount = null;
  }
  const typedPhone = input.recipientPhone?.trim() ?? "";
  const phone = typedPhone === "" ? null : checkMsisdn(typedPhone);
  const changed: string[] = [];
  const compare = (label: string, before: unknown, now: unknown) => {
    if (before !== now) changed.push(label);
  };
  compare("connection", existing.connectionId, input.connectionId);
  compare("amount", existing.amountMinor, amount);
  compare("currency", existing.currency, input.currency);
  compare("recipient phone", existing.recipientPhone ?? null, phone === null ? null : phone.ok ? phone.msisdn : typedPhone);
  compare("recipient account", existing.recipientAccount ?? null, input.recipientAccount?.replace(/\s+/g, "") || null);
  compare("recipient name", existing.recipientName ?? null, input.recipientName?.trim() || null);
  compare("recipient details", detailsKey(existing.recipientDetails), detailsKey(input.recipientDetails ?? null));
  compare("network", existing.channel ?? null, input.channel || null);
  compare("description", existing.description, input.description.trim());
  if (changed.length > 0) {
    throw new Conflict(
      `This payout id is already used by a payout with a different ${listOf(changed)}; reload the form to make a new payout`,
    );
  }
  return existing;
}

/** Recipient details as stored (trimmed, empty values dropped), in one comparable form. */
function detailsKey(details: unknown): string {
  if (!details || typeof details !== "object" || Array.isArray(details)) return "";
  const entries = Object.entries(details as Record<string, unknown>)
    .map(([k, v]) => [k, typeof v === "string" ? v.trim() : String(v)] as const)
    .filter(([, v]) => v !== "")
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify(entries);
}

function listOf(words: string[]): string {
  return words.length <= 1 ? (words[0] ?? "") : `${words.slice(0, -1).join(", ")} and ${words.at(-1)}`;
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

/**
 * The list's filters as a query, checked (bad dates are field errors). Shared
 * with the payouts export, so a download holds exactly what the list shows.
 */
export function payoutListWhere(filters: PayoutFilters): Prisma.PayoutWhereInput {
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
        // A real UUID only: 36 dashes would otherwise reach PostgreSQL's uuid cast.
        ...(UUID.test(search) ? [{ id: search.toLowerCase() }] : []),
        ...(/^\d{5,}$/.test(digits) ? [{ recipientPhone: { contains: digits } }] : []),
        { providerReference: search },
      ],
    });
  }
  return where;
}

/** Keyset pagination on (createdAt desc, id desc): stable under inserts, cheap at any depth. */
export async function listPayouts(desk: Desk, filters: PayoutFilters, page: PageRequest = {}) {
  const limit = Math.min(Math.max(page.limit ?? 50, 1), 200);
  const where = payoutListWhere(filters);
  const and = where.AND as Prisma.PayoutWhereInput[];
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

// Dates a PostgreSQL timestamptz and a JavaScript Date agree on without surprises (year 0 does not exist in PostgreSQL).
const EARLIEST_DAY = "1970-01-01";
const LATEST_DAY = "9999-12-30";

function dayStart(value: string, field: string): Date {
  const date = new Date(`${value}T00:00:00Z`);
  // Round trip: "2026-02-31" parses in some engines as 3 March; it is no date at all.
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== value) {
    throw new FieldErrors({ [field]: "Use a date like 2026-11-21" });
  }
  if (value < EARLIEST_DAY || value > LATEST_DAY) throw new FieldErrors({ [field]: `Use a date from ${EARLIEST_DAY} to ${LATEST_DAY}` });
  return date;
}

function encodeCursor(createdAt: Date, id: string): string {
  return Buffer.from(`${createdAt.toISOString()}|${id}`).toString("base64url");
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Only what encodeCursor makes: anything else would reach the database as a bad uuid or timestamp. */
function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  const [iso, id, extra] = Buffer.from(cursor, "base64url").toString().split("|");
  const createdAt = new Date(iso ?? "");
  if (extra !== undefined || !id || !UUID.test(id) || Number.isNaN(createdAt.getTime()) || createdAt.toISOString() !== iso || iso.slice(0, 10) < EARLIEST_DAY || iso.slice(0, 10) > LATEST_DAY) {
    throw new FieldErrors({ cursor: "The page link is broken; start from the first page" });
  }
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
