// The approval policy: which rule a payout falls under, which levels of
// approvers that rule asks for, and where a payout stands against them.
// Pure (no I/O): the services load the rules, the people and the approvals,
// and the browser uses the same words to show them.
//
// A policy is a list of rules tried top to bottom (the first that matches a
// payout applies) and a default rule for payouts no rule matches. A rule asks
// for an ordered list of levels; level 2 starts only once level 1 is
// complete. Each level needs N distinct people of one kind: anyone with the
// approver role, anyone with the admin role, or the members of a named group.
// The maker never counts, nobody counts twice for one payout, and a person
// approves at one level only (one approval per person per round, which the
// database also enforces).
import { formatMoney, isKnownCurrency, MoneyError, parseAmount } from "./money";

export const APPROVER_KINDS = ["approver", "admin", "group"] as const;
export type ApproverKind = (typeof APPROVER_KINDS)[number];

export interface PolicyLevel {
  /** approver: anyone with the approver role; admin: anyone with the admin role; group: the group's approvers and admins. */
  approvers: ApproverKind;
  /** The group's id when approvers is "group", else null. */
  groupId: string | null;
  /** Distinct people needed at this level. */
  count: number;
}

export interface PolicyRule {
  /** Unique within a policy: diffs and messages name rules by it. */
  name: string;
  /** Null: any connection. */
  connectionId: string | null;
  /** Null: any currency. Amount bounds need one (amounts compare only within a currency). */
  currency: string | null;
  /** Matches amounts strictly above this (minor units as decimal text); null: no lower bound. */
  aboveMinor: string | null;
  /** Matches amounts up to and including this; null: no upper bound. */
  upToMinor: string | null;
  /** ISO 3166 alpha-2 of the recipient (from the phone number); null: any. */
  recipientCountry: string | null;
  levels: PolicyLevel[];
  /** False: approving a payout past the connection's available balance is refused, acknowledged or not. */
  allowOverBalance: boolean;
}

export interface DefaultRule {
  levels: PolicyLevel[];
  allowOverBalance: boolean;
}

export interface ApprovalPolicy {
  rules: PolicyRule[];
  defaultRule: DefaultRule;
  /** A payout not fully approved this long after it was created ends expired. */
  approvalWindowHours: number;
}

export const DEFAULT_WINDOW_HOURS = 7 * 24;
export const MAX_RULES = 50;
export const MAX_LEVELS = 5;
export const MAX_LEVEL_COUNT = 10;
export const MAX_WINDOW_HOURS = 90 * 24;
export const RULE_NAME_MAX = 80;

/** Version 1, the desk's behaviour before policies: one approver, whatever the payout; seven days to approve. */
export const DEFAULT_APPROVAL_POLICY: ApprovalPolicy = {
  rules: [],
  defaultRule: { levels: [{ approvers: "approver", groupId: null, count: 1 }], allowOverBalance: true },
  approvalWindowHours: DEFAULT_WINDOW_HOURS,
};

/** The rule that applies to one payout: a rule of the list (index from 0) or the default (index null). */
export interface AppliedRule {
  index: number | null;
  name: string;
  levels: readonly PolicyLevel[];
  allowOverBalance: boolean;
}

export const DEFAULT_RULE_NAME = "Default rule";

export interface PayoutFacts {
  connectionId: string;
  currency: string;
  amountMinor: bigint;
  recipientCountry: string | null;
}

/** The first rule that matches the payout, else the default rule. */
export function matchRule(policy: ApprovalPolicy, payout: PayoutFacts): AppliedRule {
  const index = policy.rules.findIndex((rule) => ruleMatches(rule, payout));
  if (index < 0) return { index: null, name: DEFAULT_RULE_NAME, levels: policy.defaultRule.levels, allowOverBalance: policy.defaultRule.allowOverBalance };
  const rule = policy.rules[index]!;
  return { index, name: rule.name, levels: rule.levels, allowOverBalance: rule.allowOverBalance };
}

export function ruleMatches(rule: PolicyRule, payout: PayoutFacts): boolean {
  if (rule.connectionId && rule.connectionId.toLowerCase() !== payout.connectionId.toLowerCase()) return false;
  if (rule.currency && rule.currency !== payout.currency) return false;
  if (rule.recipientCountry && rule.recipientCountry !== (payout.recipientCountry ?? "").toUpperCase()) return false;
  if (rule.aboveMinor !== null && !(payout.amountMinor > BigInt(rule.aboveMinor))) return false;
  if (rule.upToMinor !== null && !(payout.amountMinor <= BigInt(rule.upToMinor))) return false;
  return true;
}

// ---------------------------------------------------------------------------
// Where a payout stands

/** One approval of the payout's current round that counts (decision approved, not voided). */
export interface CountedApproval {
  approverId: string;
  level: number;
}

/** A person as the policy sees them. */
export interface PolicyPerson {
  id: string;
  role: string;
  groupIds: readonly string[];
}

/** Group names by id, for words; an unknown id reads as "a deleted group". */
export type GroupNames = (groupId: string) => string | undefined;

export interface LevelStanding {
  level: number;
  /** "approvers", "admins", or the group's name. */
  who: string;
  required: number;
  /** Distinct people counted at this level, in the order they approved. */
  approverIds: string[];
  complete: boolean;
}

export interface Standing {
  levels: LevelStanding[];
  /** The level waiting for approvals (1-based), null once every level is complete. */
  currentLevel: number | null;
  complete: boolean;
  /** "Level 1 of 2: 1 of 2 approvals; waiting for treasury". */
  summary: string;
}

/** Who a level asks for, in words ("approvers", "admins", "treasury"). */
export function levelWho(level: PolicyLevel, groupName: GroupNames): string {
  if (level.approvers === "approver") return "approvers";
  if (level.approvers === "admin") return "admins";
  return groupName(level.groupId ?? "") ?? "a deleted group";
}

/** Who is still awaited at a level, in words: "an approver", "2 admins", "treasury". */
function awaited(level: PolicyLevel, remaining: number, groupName: GroupNames): string {
  if (level.approvers === "group") return levelWho(level, groupName);
  const one = level.approvers === "approver" ? "an approver" : "an admin";
  return remaining === 1 ? one : `${remaining} ${level.approvers}s`;
}

/**
 * Counts the approvals level by level. An approval counts at the level it was
 * given at; the maker's never counts, nor a second one by the same person
 * (the database refuses those; this holds even if one slipped in).
 */
export function approvalStanding(levels: readonly PolicyLevel[], approvals: readonly CountedApproval[], makerId: string, groupName: GroupNames): Standing {
  const counted = new Set<string>();
  const standing: LevelStanding[] = levels.map((level, i) => {
    const approverIds: string[] = [];
    for (const approval of approvals) {
      if (approval.level !== i + 1 || approval.approverId === makerId || counted.has(approval.approverId)) continue;
      counted.add(approval.approverId);
      approverIds.push(approval.approverId);
    }
    return { level: i + 1, who: levelWho(level, groupName), required: level.count, approverIds, complete: approverIds.length >= level.count };
  });
  const current = standing.find((l) => !l.complete) ?? null;
  const total = standing.length;
  let summary: string;
  if (!current) summary = total === 1 ? "Approved" : `Approved at every level (${total} of ${total})`;
  else {
    const level = levels[current.level - 1]!;
    const have = current.approverIds.length;
    summary = `Level ${current.level} of ${total}: ${have} of ${current.required} approval${current.required === 1 ? "" : "s"}; waiting for ${awaited(level, current.required - have, groupName)}`;
  }
  return { levels: standing, currentLevel: current?.level ?? null, complete: current === null, summary };
}

/** Whether this person counts at this level (a group's members count only as approvers or admins). */
export function countsAt(level: PolicyLevel, person: PolicyPerson): boolean {
  if (level.approvers === "approver") return person.role === "approver";
  if (level.approvers === "admin") return person.role === "admin";
  return level.groupId !== null && person.groupIds.includes(level.groupId) && (person.role === "approver" || person.role === "admin");
}

export type RefusalRule =
  | "approval.own_payout"
  | "approval.not_pending"
  | "approval.already_decided"
  | "approval.complete"
  | "approval.earlier_level"
  | "approval.not_eligible";

export interface ApprovalRefusal {
  rule: RefusalRule;
  message: string;
}

export interface EligibilityInput {
  levels: readonly PolicyLevel[];
  /** The round's approvals that count. */
  approvals: readonly CountedApproval[];
  /** Everyone who decided in this round (approved or rejected). */
  deciderIds: readonly string[];
  makerId: string;
  status: string;
  person: PolicyPerson;
  groupName: GroupNames;
}

export type Eligibility = { ok: true; level: number } | { ok: false; refusal: ApprovalRefusal };

function article(role: string): string {
  return /^[aeiou]/.test(role) ? `an ${role}` : `a ${role}`;
}

function notCounted(level: PolicyLevel, person: PolicyPerson, groupName: GroupNames): string {
  if (level.approvers === "group") {
    const name = levelWho(level, groupName);
    return person.role === "approver" || person.role === "admin" ? `you are not a member of ${name}` : `you are ${article(person.role)}, and only its approvers and admins count`;
  }
  return `you are ${article(person.role)}`;
}

/** Checks common to approving and rejecting; null when they pass. */
function basicRefusal(input: EligibilityInput): ApprovalRefusal | null {
  if (input.person.id === input.makerId) {
    return { rule: "approval.own_payout", message: "You created this payout; another approver must decide on it" };
  }
  if (input.status !== "pending_approval") {
    return { rule: "approval.not_pending", message: `This payout is ${input.status}, not waiting for approval` };
  }
  if (input.deciderIds.includes(input.person.id)) {
    const mine = input.approvals.find((a) => a.approverId === input.person.id);
    return {
      rule: "approval.already_decided",
      message: mine
        ? `You have already approved this payout (at level ${mine.level}); one person approves at one level only`
        : "You have already decided on this payout",
    };
  }
  return null;
}

/** May this person approve now, and at which level? The level is always the current one: levels go in order. */
export function approvalEligibility(input: EligibilityInput): Eligibility {
  const basic = basicRefusal(input);
  if (basic) return { ok: false, refusal: basic };
  const standing = approvalStanding(input.levels, input.approvals, input.makerId, input.groupName);
  if (standing.currentLevel === null) {
    return { ok: false, refusal: { rule: "approval.complete", message: "This payout already has every approval its policy asks for" } };
  }
  const total = input.levels.length;
  const current = input.levels[standing.currentLevel - 1]!;
  if (countsAt(current, input.person)) return { ok: true, level: standing.currentLevel };
  const later = input.levels.findIndex((level, i) => i + 1 > standing.currentLevel! && countsAt(level, input.person));
  if (later >= 0) {
    return {
      ok: false,
      refusal: {
        rule: "approval.earlier_level",
        message: `Level ${standing.currentLevel} of ${total} (${levelWho(current, input.groupName)}) comes first; you count at level ${later + 1}`,
      },
    };
  }
  return {
    ok: false,
    refusal: {
      rule: "approval.not_eligible",
      message: `Level ${standing.currentLevel} of ${total} needs ${levelWho(current, input.groupName)}; ${notCounted(current, input.person, input.groupName)}`,
    },
  };
}

/**
 * May this person reject? Anyone the policy still asks for on this payout
 * (at the current level or a later one) may stop it; others may not.
 */
export function rejectionRefusal(input: EligibilityInput): ApprovalRefusal | null {
  const basic = basicRefusal(input);
  if (basic) return basic;
  const standing = approvalStanding(input.levels, input.approvals, input.makerId, input.groupName);
  const from = standing.currentLevel ?? input.levels.length + 1;
  if (input.levels.some((level, i) => i + 1 >= from && countsAt(level, input.person))) return null;
  const asked = input.levels.slice(from - 1).map((level) => levelWho(level, input.groupName));
  return {
    rule: "approval.not_eligible",
    message: `Only people this payout still waits for may reject it (${asked.join(", then ") || "nobody"}); ${notCounted(input.levels[from - 1] ?? input.levels[0]!, input.person, input.groupName)}`,
  };
}

// ---------------------------------------------------------------------------
// Acknowledgements an approver must give

export interface Liquidity {
  /** Latest balance read of the connection in the payout's currency; null when none was read. */
  balanceMinor: bigint | null;
  snapshotAt: Date | null;
  reservedMinor: bigint;
  inFlightMinor: bigint;
  /** balance − reserved − in flight; null without a balance. */
  availableMinor: bigint | null;
  /** Available after this payout (and, in a batch, the ones before it that this batch approves); null without a balance. */
  remainingMinor: bigint | null;
}

/** True when approving would take the connection past its available balance (unknown balances cannot). */
export function overBalance(liquidity: Liquidity | null): boolean {
  return liquidity?.remainingMinor != null && liquidity.remainingMinor < 0n;
}

// ---------------------------------------------------------------------------
// Reading and checking policies

/** Input of a proposed policy as the form sends it: amounts in the currency's major units, as typed. */
export interface PolicyLevelInput {
  approvers: string;
  groupId?: string | null;
  count: number;
}

export interface PolicyRuleInput {
  name: string;
  connectionId?: string | null;
  currency?: string | null;
  above?: string | null;
  upTo?: string | null;
  recipientCountry?: string | null;
  levels: PolicyLevelInput[];
  allowOverBalance: boolean;
}

export interface PolicyInput {
  rules: PolicyRuleInput[];
  defaultRule: { levels: PolicyLevelInput[]; allowOverBalance: boolean };
  approvalWindowHours: number;
}

export interface PolicyCheckContext {
  connectionIds: ReadonlySet<string>;
  groupIds: ReadonlySet<string>;
  /** People who could count at a level of each kind (approver and admin roles; a group's approvers and admins). */
  eligibleCount(level: PolicyLevel): number;
  groupName: GroupNames;
}

export type PolicyCheck = { ok: true; policy: ApprovalPolicy } | { ok: false; errors: Record<string, string> };

/**
 * Checks a proposed policy and turns it into stored form. Each problem is a
 * field error whose key locates it (rules.2.levels.0.groupId) and whose
 * message names the rule and what it broke.
 */
export function checkPolicyInput(input: PolicyInput, context: PolicyCheckContext): PolicyCheck {
  const errors: Record<string, string> = Object.create(null);
  const rules: PolicyRule[] = [];
  if (input.rules.length > MAX_RULES) errors.rules = `${MAX_RULES} rules at most; this has ${input.rules.length}`;
  const names = new Map<string, number>();
  input.rules.slice(0, MAX_RULES).forEach((rule, i) => {
    const key = `rules.${i}`;
    const name = rule.name.trim().replace(/\s+/g, " ");
    const label = name ? `Rule ${i + 1} ("${name.slice(0, 40)}")` : `Rule ${i + 1}`;
    if (!name) errors[`${key}.name`] = `${label}: give the rule a name`;
    else if (name.length > RULE_NAME_MAX) errors[`${key}.name`] = `${label}: ${RULE_NAME_MAX} characters at most; this has ${name.length}`;
    // eslint-disable-next-line no-control-regex
    else if (/[\u0000-\u001f\u007f]/.test(name)) errors[`${key}.name`] = `${label}: one line of text, no control characters`;
    else if (names.has(name.toLowerCase())) errors[`${key}.name`] = `${label}: rule ${names.get(name.toLowerCase())! + 1} has this name already; each rule needs its own`;
    else names.set(name.toLowerCase(), i);

    const connectionId = rule.connectionId?.trim().toLowerCase() || null;
    if (connectionId && !context.connectionIds.has(connectionId)) errors[`${key}.connectionId`] = `${label}: choose one of the desk's connections, or any`;

    const currency = rule.currency?.trim().toUpperCase() || null;
    if (currency && !isKnownCurrency(currency)) errors[`${key}.currency`] = `${label}: ${currency.slice(0, 8)} is not a currency code (ISO 4217, e.g. USD)`;

    const bound = (field: "above" | "upTo", words: string): bigint | null => {
      const text = rule[field]?.trim() ?? "";
      if (text === "") return null;
      if (!currency) {
        errors[`${key}.currency`] ??= `${label}: an amount range needs a currency (amounts compare only within one currency)`;
        return null;
      }
      if (errors[`${key}.currency`]) return null;
      try {
        return parseAmount(text, currency);
      } catch (error) {
        if (!(error instanceof MoneyError)) throw error;
        errors[`${key}.${field}`] = `${label}, ${words}: ${error.message}`;
        return null;
      }
    };
    const above = bound("above", "amount above");
    const upTo = bound("upTo", "amount up to");
    if (above !== null && upTo !== null && upTo <= above && currency) {
      errors[`${key}.upTo`] = `${label}: "up to" (${formatMoney(upTo, currency)}) must be more than "above" (${formatMoney(above, currency)}), or no payout matches`;
    }

    const country = rule.recipientCountry?.trim().toUpperCase() || null;
    if (country && !/^[A-Z]{2}$/.test(country)) errors[`${key}.recipientCountry`] = `${label}: a two-letter country code (ISO 3166, e.g. ZM), or any`;

    const levels = checkLevels(rule.levels, `${key}.levels`, label, context, errors);
    rules.push({
      name,
      connectionId,
      currency,
      aboveMinor: above?.toString() ?? null,
      upToMinor: upTo?.toString() ?? null,
      recipientCountry: country,
      levels,
      allowOverBalance: rule.allowOverBalance,
    });
  });
  const defaultLevels = checkLevels(input.defaultRule.levels, "defaultRule.levels", DEFAULT_RULE_NAME, context, errors);
  const window = input.approvalWindowHours;
  if (!Number.isInteger(window) || window < 1 || window > MAX_WINDOW_HOURS) {
    errors.approvalWindowHours = `Approval window: whole hours from 1 to ${MAX_WINDOW_HOURS} (90 days)`;
  }
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return {
    ok: true,
    policy: {
      rules,
      defaultRule: { levels: defaultLevels, allowOverBalance: input.defaultRule.allowOverBalance },
      approvalWindowHours: window,
    },
  };
}

function checkLevels(input: PolicyLevelInput[], key: string, label: string, context: PolicyCheckContext, errors: Record<string, string>): PolicyLevel[] {
  if (input.length === 0) errors[key] = `${label}: add at least one level of approvers`;
  if (input.length > MAX_LEVELS) errors[key] = `${label}: ${MAX_LEVELS} levels at most; this has ${input.length}`;
  return input.slice(0, MAX_LEVELS).map((level, j) => {
    const at = `${key}.${j}`;
    const where = `${label}, level ${j + 1}`;
    const approvers = (APPROVER_KINDS as readonly string[]).includes(level.approvers) ? (level.approvers as ApproverKind) : null;
    if (!approvers) errors[`${at}.approvers`] = `${where}: choose approvers, admins or a group`;
    let groupId: string | null = null;
    if (approvers === "group") {
      groupId = level.groupId?.trim().toLowerCase() || null;
      if (!groupId) errors[`${at}.groupId`] = `${where}: choose the group`;
      else if (!context.groupIds.has(groupId)) errors[`${at}.groupId`] = `${where}: that group no longer exists; choose another`;
    }
    const count = level.count;
    if (!Number.isInteger(count) || count < 1 || count > MAX_LEVEL_COUNT) errors[`${at}.count`] = `${where}: from 1 to ${MAX_LEVEL_COUNT} people`;
    const checked: PolicyLevel = { approvers: approvers ?? "approver", groupId, count };
    if (approvers && !errors[`${at}.groupId`] && !errors[`${at}.count`]) {
      // A level nobody can complete would leave every payout under it to expire.
      const available = context.eligibleCount(checked);
      if (available < count) {
        errors[`${at}.count`] =
          `${where}: needs ${count} different ${levelWho(checked, context.groupName)} but the desk has ${available} who could approve` +
          (approvers === "group" ? " (members with the approver or admin role)" : "");
      }
    }
    return checked;
  });
}

/**
 * A stored policy (JSON) read back. Stored policies were checked when
 * proposed; this only guards the shape, so a hand-edited row fails loudly
 * instead of approving by accident.
 */
export function readPolicy(json: unknown): ApprovalPolicy {
  const value = json as Partial<ApprovalPolicy> | null;
  if (!value || typeof value !== "object" || !Array.isArray(value.rules) || !value.defaultRule || !Array.isArray(value.defaultRule.levels)) {
    throw new Error("The stored approval policy is not in the expected shape");
  }
  const levels = (list: unknown): PolicyLevel[] => {
    if (!Array.isArray(list) || list.length === 0) throw new Error("A stored approval policy rule has no levels");
    return list.map((l: Partial<PolicyLevel>) => {
      if (!(APPROVER_KINDS as readonly string[]).includes(l.approvers ?? "") || !Number.isInteger(l.count) || (l.count ?? 0) < 1) {
        throw new Error("A stored approval policy level is not in the expected shape");
      }
      return { approvers: l.approvers as ApproverKind, groupId: l.groupId ?? null, count: l.count! };
    });
  };
  return {
    rules: value.rules.map((r) => ({
      name: String(r.name),
      connectionId: r.connectionId ?? null,
      currency: r.currency ?? null,
      aboveMinor: r.aboveMinor ?? null,
      upToMinor: r.upToMinor ?? null,
      recipientCountry: r.recipientCountry ?? null,
      levels: levels(r.levels),
      allowOverBalance: r.allowOverBalance !== false,
    })),
    defaultRule: { levels: levels(value.defaultRule.levels), allowOverBalance: value.defaultRule.allowOverBalance !== false },
    approvalWindowHours: Number.isInteger(value.approvalWindowHours) ? value.approvalWindowHours! : DEFAULT_WINDOW_HOURS,
  };
}

/** Every group a policy asks for. */
export function policyGroupIds(policy: ApprovalPolicy): string[] {
  const ids = [...policy.rules.flatMap((r) => r.levels), ...policy.defaultRule.levels].map((l) => l.groupId).filter((id): id is string => Boolean(id));
  return [...new Set(ids)];
}

// ---------------------------------------------------------------------------
// Words and diffs

export interface PolicyNames {
  connection(id: string): string | undefined;
  group: GroupNames;
}

/** "1 approver, then 1 admin", "2 of treasury". */
export function describeLevels(levels: readonly PolicyLevel[], groupName: GroupNames): string {
  return levels
    .map((level) => {
      if (level.approvers === "group") return `${level.count} of ${levelWho(level, groupName)}`;
      return `${level.count} ${level.approvers}${level.count === 1 ? "" : "s"}`;
    })
    .join(", then ");
}

/** "pawaPay sandbox, ZMW, above 1,000.00 ZMW up to 50,000.00 ZMW, recipients in ZM", or "any payout". */
export function describeMatch(rule: PolicyRule, names: PolicyNames): string {
  const parts: string[] = [];
  if (rule.connectionId) parts.push(names.connection(rule.connectionId) ?? "a deleted connection");
  if (rule.currency) parts.push(rule.currency);
  const amount = (minor: string) => (rule.currency ? formatMoney(BigInt(minor), rule.currency) : minor);
  if (rule.aboveMinor !== null && rule.upToMinor !== null) parts.push(`above ${amount(rule.aboveMinor)} up to ${amount(rule.upToMinor)}`);
  else if (rule.aboveMinor !== null) parts.push(`above ${amount(rule.aboveMinor)}`);
  else if (rule.upToMinor !== null) parts.push(`up to ${amount(rule.upToMinor)}`);
  if (rule.recipientCountry) parts.push(`recipients in ${rule.recipientCountry}`);
  return parts.length ? parts.join(", ") : "any payout";
}

function describeRule(rule: PolicyRule, names: PolicyNames): string {
  return `${describeMatch(rule, names)}: ${describeLevels(rule.levels, names.group)}${rule.allowOverBalance ? "" : "; never past the available balance"}`;
}

export interface PolicyChange {
  /** What changed, in words: 'Rule "Large USD"', 'Approval window'. */
  subject: string;
  before: string | null;
  after: string | null;
}

/** What a new policy changes against the one it replaces, in words (rules matched by name). */
export function policyDiff(before: ApprovalPolicy, after: ApprovalPolicy, names: PolicyNames): PolicyChange[] {
  const changes: PolicyChange[] = [];
  const beforeByName = new Map(before.rules.map((r, i) => [r.name.toLowerCase(), { rule: r, i }]));
  const afterByName = new Map(after.rules.map((r, i) => [r.name.toLowerCase(), { rule: r, i }]));
  for (const [name, { rule, i }] of beforeByName) {
    if (!afterByName.has(name)) changes.push({ subject: `Rule "${rule.name}"`, before: `${i + 1}. ${describeRule(rule, names)}`, after: null });
  }
  for (const [name, { rule, i }] of afterByName) {
    const old = beforeByName.get(name);
    if (!old) {
      changes.push({ subject: `Rule "${rule.name}"`, before: null, after: `${i + 1}. ${describeRule(rule, names)}` });
      continue;
    }
    const was = `${old.i + 1}. ${describeRule(old.rule, names)}`;
    const now = `${i + 1}. ${describeRule(rule, names)}`;
    if (was !== now || JSON.stringify(old.rule) !== JSON.stringify(rule)) changes.push({ subject: `Rule "${rule.name}"`, before: was, after: now });
  }
  const defaultWas = `${describeLevels(before.defaultRule.levels, names.group)}${before.defaultRule.allowOverBalance ? "" : "; never past the available balance"}`;
  const defaultNow = `${describeLevels(after.defaultRule.levels, names.group)}${after.defaultRule.allowOverBalance ? "" : "; never past the available balance"}`;
  if (defaultWas !== defaultNow) changes.push({ subject: DEFAULT_RULE_NAME, before: defaultWas, after: defaultNow });
  if (before.approvalWindowHours !== after.approvalWindowHours) {
    changes.push({ subject: "Approval window", before: describeHours(before.approvalWindowHours), after: describeHours(after.approvalWindowHours) });
  }
  return changes;
}

/** 168 → "7 days", 36 → "36 hours", 0 → "off". */
export function describeHours(hours: number): string {
  if (hours === 0) return "off";
  if (hours % 24 === 0) return `${hours / 24} day${hours === 24 ? "" : "s"}`;
  return `${hours} hour${hours === 1 ? "" : "s"}`;
}
