// Creating, listing and reading payouts.
import { Prisma, type Connection, type Payout } from "@/server/db/generated/client";
import { formatMoney, isKnownCurrency, parseAmount, MoneyError } from "@/server/domain/money";
import { changedPayloadFields, PAYLOAD_FIELD_LABELS, payoutPayload, type PayoutPayload } from "@/server/domain/payout-payload";
import { checkMsisdn, numbersOf } from "@/server/domain/phone";
import { type PayoutStatus } from "@/server/domain/payout-state";
import { isProviderSupported } from "@/server/connectors/registry";
import type { PayoutConnector, ProviderKind } from "@/server/connectors/types";
import type { Actor, Db, Desk, Tx } from "./types";
import { Conflict, FieldErrors, Forbidden, NotFound } from "./errors";
import { phoneDigitsReversed } from "./payout-list";
import { audit, type AuditEntry } from "./audit";
import { addNewPayoutsToRollupsInTx, movePayoutInRollupsInTx } from "./payout-rollups";
import { openConnector } from "./connections";
import { changeStatusInTx } from "./payout-status";
import { decisionBlockedFor } from "./approvals";
import { activePolicy } from "./approval-policy";
import { payoutLimitProblem } from "./payout-limits";
import { duplicateWindowHours, findLikelyDuplicates, type LikelyDuplicate } from "./duplicates";

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
export async function checkPayoutInput(desk: Desk, input: CreatePayoutInput, cache?: PayoutCheckCache): Promise<CheckedPayout> {
  // No prototype: a field named "constructor" or "toString" is a plain entry here, never Object's.
  const errors: Record<string, string> = Object.create(null);
  const connection = cache ? await cache.connection(desk, input.connectionId) : await desk.db.connection.findUnique({ where: { id: input.connectionId } });
  if (!connection) errors.connectionId = "Choose a connection";
  else if (!connection.enabled) errors.connectionId = `${connection.name} is paused; choose another connection`;
  else if (!isProviderSupported(connection.provider as ProviderKind)) errors.connectionId = `${connection.name} cannot send payouts yet`;
  const connector = connection && !errors.connectionId ? (cache ? cache.connector(desk, connection) : openConnector(desk, connection)) : null;

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

/**
 * For many checks in one run (the rows of a bulk file): each connection is
 * read and opened once instead of once a row, and checkPayoutInput runs the
 * very same rules with it. Good for one run only: a connection paused or
 * edited later is seen by the next run (creating the batch checks again).
 */
export class PayoutCheckCache {
  private readonly rows = new Map<string, Promise<Connection | null>>();
  private readonly opened = new Map<string, PayoutConnector>();

  connection(desk: Desk, connectionId: string): Promise<Connection | null> {
    let row = this.rows.get(connectionId);
    if (!row) this.rows.set(connectionId, (row = desk.db.connection.findUnique({ where: { id: connectionId } })));
    return row;
  }

  connector(desk: Desk, connection: Connection): PayoutConnector {
    let connector = this.opened.get(connection.id);
    if (!connector) this.opened.set(connection.id, (connector = openConnector(desk, connection)));
    return connector;
  }
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

async function insertPayout(desk: Desk, actor: Actor, input: CreatePayoutInput, checked: CheckedPayout, ip?: string) {
  // The approval policy it is created under: it keeps this version, and its approval window starts now.
  const policy = await activePolicy(desk.db);
  return desk.db.$transaction(async (tx) => {
    const { payouts, auditEntries } = await insertPayoutsInTx(tx, actor, [{ input, checked }], policy, ip);
    await audit(tx, auditEntries[0]!);
    return payouts[0]!;
  });
}

/** A payout about to be inserted: the input as the maker gave it, as checkPayoutInput answered it, and, from a bulk file, its batch and row. */
export interface NewPayout {
  input: CreatePayoutInput;
  checked: CheckedPayout;
  batch?: { id: string; row: number; note: string };
}

/**
 * The one insert of new payouts, for the form and the bulk file alike: each
 * waits for approval under `policy` (it keeps that version; its approval
 * window starts now) and gets its "Created" event. Answers the payouts and
 * their audit entries, which the caller writes as the last write of this same
 * transaction (audit.ts's rule), one entry per payout.
 */
export async function insertPayoutsInTx(
  tx: Tx,
  actor: Actor,
  items: readonly NewPayout[],
  policy: Awaited<ReturnType<typeof activePolicy>>,
  ip?: string,
): Promise<{ payouts: Payout[]; auditEntries: AuditEntry[] }> {
  if (items.length === 0) return { payouts: [], auditEntries: [] };
  const approvalExpiresAt = new Date(Date.now() + policy.policy.approvalWindowHours * 3600_000);
  const payouts = await tx.payout.createManyAndReturn({
    data: items.map(({ input, checked, batch }) => ({
      id: input.id,
      connectionId: checked.connectionId,
      amountMinor: checked.amountMinor,
      currency: input.currency,
      recipientPhone: checked.recipient.phone,
      phoneDigitsReversed: phoneDigitsReversed(checked.recipient.phone),
      recipientName: checked.recipient.name,
      recipientCountry: checked.recipient.country,
      recipientAccount: checked.recipient.account,
      recipientDetails: checked.recipient.details ?? undefined,
      channel: input.channel || null,
      description: checked.description,
      status: "pending_approval" as const,
      createdById: actor.id,
      policyVersion: policy.version,
      approvalExpiresAt,
      batchId: batch?.id ?? null,
      batchRow: batch?.row ?? null,
    })),
  });
  await addNewPayoutsToRollupsInTx(tx, payouts.map((payout) => payout.id));
  const byId = new Map(items.map((item) => [item.input.id, item]));
  await tx.payoutEvent.createMany({
    data: payouts.map((payout) => ({
      payoutId: payout.id,
      fromStatus: null,
      toStatus: "pending_approval" as const,
      source: "user",
      actorId: actor.id,
      note: byId.get(payout.id)?.batch?.note ?? "Created",
    })),
  });
  const auditEntries = payouts.map((payout): AuditEntry => ({
    actorId: actor.id,
    action: "payout.create",
    entityType: "payout",
    entityId: payout.id,
    ip,
    details: {
      amountMinor: payout.amountMinor.toString(),
      currency: payout.currency,
      connectionId: payout.connectionId,
      recipientPhone: payout.recipientPhone,
      recipientAccount: payout.recipientAccount,
      ...(payout.batchId ? { batchId: payout.batchId, batchRow: payout.batchRow } : {}),
    },
  }));
  return { payouts, auditEntries };
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

// The list (filters, keyset pages, search, totals) lives in payout-list.ts: one SQL statement a page.
export { listPayouts, listTotals, resolveListFilters, type ListedPayout, type PageRequest, type PayoutFilters } from "./payout-list";

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
  const liveApprovals = payout.approvals.filter((a) => a.voidedAt === null && a.round === payout.approvalRound).length;
  return {
    payout,
    canDecide: decisionBlockedBecause === null,
    decisionBlockedBecause,
    canWithdraw,
    // The same rule as withdrawing: the maker, while nobody has finished deciding.
    canEdit: canWithdraw && actor.role === "maker",
    // What an edit form loaded now must send back (updatePayout refuses a stale one).
    editRevision: editRevision(payout, liveApprovals),
    edits: await payoutEdits(desk, id),
  };
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

// ─── Edits while waiting for approval ────────────────────────────────────────

/** Likely duplicates of a payout just created or edited, under the desk's window (a warning for the maker). */
export async function duplicatesOf(desk: Desk, payout: Pick<Payout, "id" | "recipientPhone" | "recipientAccount" | "amountMinor" | "currency" | "createdAt">): Promise<LikelyDuplicate[]> {
  return findLikelyDuplicates(desk.db, payout, await duplicateWindowHours(desk.db));
}

export interface UpdatePayoutInput extends CreatePayoutInput {
  /** The editRevision the form was loaded with: an edit, an approval or a status change since makes the save a conflict. */
  revision: string;
}

/**
 * What a payout's edit form is based on: its status version, its approval
 * round (bumped by every edit) and how many approvals the round holds. Any of
 * them moving means the maker is looking at something that is no longer so.
 */
export function editRevision(payout: { version: number; approvalRound: number }, liveApprovals: number): string {
  return `${payout.version}.${payout.approvalRound}.${liveApprovals}`;
}

/** One field an edit changed, as people read it; null where the field was empty. */
export interface PayoutEditChange {
  field: keyof PayoutPayload;
  label: string;
  before: string | null;
  after: string | null;
}

export interface PayoutEdit {
  eventId: string;
  at: Date;
  by: { id: string; name: string } | null;
  /** The approval round the edit started. */
  round: number;
  changes: PayoutEditChange[];
  /** Approvals the edit voided (approved what is no longer the payout). */
  voidedApprovals: Array<{ approverId: string; approverName: string; at: string }>;
}

/** Stored in the edit's PayoutEvent.payload; payoutEdits reads it back. */
interface EditEventPayload {
  kind: "maker_edit";
  round: number;
  changes: Array<PayoutEditChange & { from: unknown; to: unknown }>;
  voidedApprovals: PayoutEdit["voidedApprovals"];
}

const EDIT_EVENT = "maker_edit";

/**
 * The maker changes a payout still waiting for approval. The fields go
 * through checkPayoutInput, exactly as at creation. An edit that changes the
 * payload (anything an approver approves) starts a new approval round: the
 * current round's approvals are void, the payout's round goes up, and an event
 * records each changed field before and after; all in one transaction, under
 * the payout's row lock, and audited. The revision must be the one the form
 * was loaded with, so two edits, or an edit and an approval, never cross.
 */
export async function updatePayout(desk: Desk, actor: Actor, input: UpdatePayoutInput, ip?: string) {
  const found = await desk.db.payout.findUnique({ where: { id: input.id }, select: { createdById: true, status: true } });
  if (!found) throw new NotFound("Payout");
  // Who and when first: someone else's payout gets the rule, not a list of field errors.
  assertEditable(found, actor);
  const checked = await checkPayoutInput(desk, input);

  const result = await desk.db.$transaction(async (tx) => {
    // Approvals and other edits wait here; the checks below see what they committed.
    await tx.$queryRaw`SELECT id FROM "Payout" WHERE id = ${input.id}::uuid FOR UPDATE`;
    const payout = await tx.payout.findUniqueOrThrow({
      where: { id: input.id },
      include: {
        connection: { select: { name: true } },
        approvals: { where: { voidedAt: null }, include: { approver: { select: { name: true } } }, orderBy: { at: "asc" } },
      },
    });
    assertEditable(payout, actor);
    const live = payout.approvals.filter((a) => a.round === payout.approvalRound);
    if (input.revision !== editRevision(payout, live.length)) throw new Conflict(staleEditMessage(input.revision, payout, live));

    const before = payoutPayload(payout);
    const after = payoutPayload({
      connectionId: checked.connectionId,
      amountMinor: checked.amountMinor,
      currency: input.currency,
      recipientPhone: checked.recipient.phone,
      recipientName: checked.recipient.name,
      recipientAccount: checked.recipient.account,
      recipientCountry: checked.recipient.country,
      recipientDetails: checked.recipient.details,
      channel: input.channel || null,
      description: checked.description,
    });
    const fields = changedPayloadFields(before, after);
    if (fields.length === 0) return { payout, changed: [] as string[], voidedApprovals: 0 };

    const names = new Map([[payout.connectionId, payout.connection.name]]);
    if (!names.has(checked.connectionId)) {
      const next = await tx.connection.findUniqueOrThrow({ where: { id: checked.connectionId }, select: { name: true } });
      names.set(checked.connectionId, next.name);
    }
    const changes = fields.map((field) => ({
      field,
      label: PAYLOAD_FIELD_LABELS[field],
      before: fieldText(field, before, names),
      after: fieldText(field, after, names),
      from: before[field],
      to: after[field],
    }));
    const labels = changes.map((c) => c.label);
    const note = `Edited by the maker: ${labels.join(", ")}`;
    const round = payout.approvalRound + 1;
    const voided = live.map((a) => ({ approverId: a.approverId, approverName: a.approver.name, at: a.at.toISOString() }));

    if (live.length > 0) {
      await tx.approval.updateMany({
        where: { payoutId: payout.id, round: payout.approvalRound, voidedAt: null },
        data: { voidedAt: new Date(), voidReason: `${note}; approved what the payout no longer is` },
      });
    }
    const updated = await tx.payout.update({
      where: { id: payout.id },
      data: {
        connectionId: checked.connectionId,
        amountMinor: checked.amountMinor,
        currency: input.currency,
        recipientPhone: checked.recipient.phone,
        phoneDigitsReversed: phoneDigitsReversed(checked.recipient.phone),
        recipientName: checked.recipient.name,
        recipientCountry: checked.recipient.country,
        recipientAccount: checked.recipient.account,
        recipientDetails: checked.recipient.details ?? Prisma.DbNull,
        channel: input.channel || null,
        description: checked.description,
        approvalRound: round,
      },
    });
    // Amount, currency or connection may have changed: the rollups follow, in this transaction.
    await movePayoutInRollupsInTx(tx, payout, updated);
    const payload: EditEventPayload = { kind: EDIT_EVENT, round, changes, voidedApprovals: voided };
    await tx.payoutEvent.create({
      data: {
        payoutId: payout.id,
        fromStatus: "pending_approval",
        toStatus: "pending_approval",
        source: "user",
        actorId: actor.id,
        note: voided.length > 0 ? `${note}. ${voided.length === 1 ? "The approval" : `${voided.length} approvals`} so far void` : note,
        payload: payload as unknown as Prisma.InputJsonValue,
      },
    });
    await audit(tx, {
      actorId: actor.id,
      action: "payout.edit",
      entityType: "payout",
      entityId: payout.id,
      ip,
      details: {
        round,
        changes: Object.fromEntries(changes.map((c) => [c.field, { before: c.from, after: c.to }])) as Prisma.InputJsonValue,
        voidedApprovals: voided.map((v) => v.approverId),
      },
    });
    return { payout: updated, changed: labels, voidedApprovals: voided.length };
  });
  const approvals = result.changed.length === 0 ? await desk.db.approval.count({ where: { payoutId: input.id, voidedAt: null, round: result.payout.approvalRound } }) : 0;
  return {
    id: result.payout.id,
    changed: result.changed,
    voidedApprovals: result.voidedApprovals,
    revision: editRevision(result.payout, approvals),
    payout: result.payout,
  };
}

function assertEditable(payout: { createdById: string; status: string }, actor: Actor) {
  if (payout.createdById !== actor.id) throw new Forbidden("Only the maker who created this payout can edit it", "payout.edit_own");
  if (payout.status !== "pending_approval") {
    throw new Conflict(`This payout is ${payout.status.replaceAll("_", " ")}; only a payout waiting for approval can be edited`);
  }
}

/** Why the form's revision is stale, in words: what happened since the maker opened it. */
function staleEditMessage(
  revision: string,
  payout: { version: number; approvalRound: number },
  live: ReadonlyArray<{ approver: { name: string } }>,
): string {
  const [version, round, approvals] = revision.split(".").map(Number);
  const reload = "Reload the payout to see it; your edit was not saved";
  if (round !== payout.approvalRound) return `This payout was edited meanwhile (in another tab or window?). ${reload}`;
  if (version !== payout.version) return `This payout changed status meanwhile. ${reload}`;
  if (approvals !== live.length) {
    const who = live.at(-1)?.approver.name;
    return `${who ? `${who} approved` : "An approver decided on"} this payout meanwhile: saving your edit would void an approval you have not seen. ${reload}`;
  }
  return `This edit form is out of date. ${reload}`;
}

/** A payload field's value as people read it in the edit history. */
function fieldText(field: keyof PayoutPayload, payload: PayoutPayload, connectionNames: Map<string, string>): string | null {
  const value = payload[field];
  switch (field) {
    case "connectionId":
      return connectionNames.get(payload.connectionId) ?? payload.connectionId;
    case "amountMinor":
      return isKnownCurrency(payload.currency) ? formatMoney(BigInt(payload.amountMinor), payload.currency) : `${payload.amountMinor} (minor units)`;
    case "recipientPhone":
      return payload.recipientPhone ? `+${payload.recipientPhone}` : null;
    case "recipientDetails":
      return payload.recipientDetails ? Object.entries(payload.recipientDetails).map(([k, v]) => `${k}: ${v}`).join(", ") : null;
    case "channel":
      return payload.channel ?? "automatic";
    default:
      return typeof value === "string" ? value : value === null ? null : JSON.stringify(value);
  }
}

/**
 * The maker's edits of a payout, oldest first, each with every changed field
 * before and after (in words, "15.00 ZMW" → "20.00 ZMW") and the approvals it
 * voided. For the payout page and the approvals queue: what changed since
 * someone approved it.
 */
export async function payoutEdits(desk: { db: Db | Tx }, payoutId: string): Promise<PayoutEdit[]> {
  return (await payoutEditsFor(desk, [payoutId])).get(payoutId) ?? [];
}

/** The same for many payouts in one query (the approvals queue): payout id → its edits; payouts never edited are absent. */
export async function payoutEditsFor(desk: { db: Db | Tx }, payoutIds: readonly string[]): Promise<Map<string, PayoutEdit[]>> {
  const out = new Map<string, PayoutEdit[]>();
  if (payoutIds.length === 0) return out;
  // Status unchanged and made by a person: only edits (and none of the provider's events) qualify.
  const events = await desk.db.payoutEvent.findMany({
    where: { payoutId: { in: [...payoutIds] }, source: "user", fromStatus: "pending_approval", toStatus: "pending_approval" },
    orderBy: [{ at: "asc" }, { id: "asc" }],
  });
  const edits = events.filter((e) => (e.payload as { kind?: unknown } | null)?.kind === EDIT_EVENT);
  const actorIds = [...new Set(edits.flatMap((e) => (e.actorId ? [e.actorId] : [])))];
  const users = new Map(
    actorIds.length === 0 ? [] : (await desk.db.user.findMany({ where: { id: { in: actorIds } }, select: { id: true, name: true } })).map((u) => [u.id, u]),
  );
  for (const event of edits) {
    const payload = event.payload as unknown as EditEventPayload;
    const list = out.get(event.payoutId) ?? [];
    list.push({
      eventId: event.id.toString(),
      at: event.at,
      by: event.actorId ? (users.get(event.actorId) ?? { id: event.actorId, name: "a former user" }) : null,
      round: payload.round,
      changes: payload.changes.map(({ field, label, before, after }) => ({ field, label, before, after })),
      voidedApprovals: payload.voidedApprovals ?? [],
    });
    out.set(event.payoutId, list);
  }
  return out;
}
