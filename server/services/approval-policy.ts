// The approval policy's versions and the approval groups (Settings →
// Approval policy). A policy change is itself maker-checker: one admin
// proposes a version, a different admin approves it (or rejects it, or the
// proposer withdraws it), and only then does it become the active version.
// New payouts record the active version and keep it: approving a new version
// never changes what a payout already waiting needs.
import type { Prisma } from "@/server/db/generated/client";
import {
  checkPolicyInput,
  DEFAULT_APPROVAL_POLICY,
  policyDiff,
  policyGroupIds,
  readPolicy,
  type ApprovalPolicy,
  type PolicyChange,
  type PolicyInput,
  type PolicyLevel,
  type PolicyNames,
} from "@/server/domain/approval-policy";
import type { Actor, Db, Desk, Tx } from "./types";
import { audit } from "./audit";
import { Conflict, FieldErrors, Forbidden, NotFound } from "./errors";

export type PolicyVersionStatus = "proposed" | "active" | "superseded" | "rejected" | "withdrawn";

export interface PolicyVersion {
  version: number;
  policy: ApprovalPolicy;
}

/** What a version's diff column holds: the version it was proposed against and the changes in words. */
interface StoredDiff {
  baseVersion: number | null;
  changes: PolicyChange[];
}

/**
 * Version 1 (one approver, seven days) when the desk has no policy yet.
 * Idempotent under concurrency: the insert skips an existing version 1
 * (ON CONFLICT DO NOTHING on the unique version), so two processes starting
 * at once, or two payouts created at once, seed it exactly once, and only
 * the one that inserted it writes the audit entry. It runs in a transaction
 * of its own because the audit entry must be a transaction's last write
 * (audit.ts): callers seed first, then open theirs.
 */
export async function ensurePolicySeeded(db: Db): Promise<void> {
  if (await db.approvalPolicyVersion.findFirst({ select: { id: true } })) return;
  await db.$transaction(async (tx) => {
    const inserted = await tx.approvalPolicyVersion.createMany({
      data: [
        {
          version: 1,
          rules: DEFAULT_APPROVAL_POLICY as unknown as Prisma.InputJsonValue,
          status: "active",
          decidedAt: new Date(),
          decisionNote: "The desk's first policy: one approver for any payout, seven days to approve",
        },
      ],
      skipDuplicates: true,
    });
    if (inserted.count > 0) {
      await audit(tx, { actorId: null, action: "policy.seed", entityType: "policy", entityId: "1", details: { version: 1, policy: DEFAULT_APPROVAL_POLICY } });
    }
  });
}

/** The policy new payouts are created under, read inside a transaction (call ensurePolicySeeded before it). */
export async function activePolicyIn(db: Db | Tx): Promise<PolicyVersion> {
  const row = await db.approvalPolicyVersion.findFirst({ where: { status: "active" }, orderBy: { version: "desc" } });
  if (!row) throw new Error("No approval policy version is active (ensurePolicySeeded was not called first)");
  return { version: row.version, policy: readPolicy(row.rules) };
}

/** The policy new payouts are created under, seeding version 1 on first use. */
export async function activePolicy(db: Db): Promise<PolicyVersion> {
  await ensurePolicySeeded(db);
  return activePolicyIn(db);
}

/**
 * The policies of these versions (call ensurePolicySeeded before). A payout
 * created before versions existed (no version recorded) is under version 1,
 * which is the desk's behaviour of that time.
 */
export async function policyVersions(db: Db | Tx, versions: ReadonlyArray<number | null>): Promise<Map<number, ApprovalPolicy>> {
  const wanted = [...new Set(versions.map((v) => v ?? 1))];
  const rows = await db.approvalPolicyVersion.findMany({ where: { version: { in: wanted } } });
  const found = new Map(rows.map((r) => [r.version, readPolicy(r.rules)]));
  for (const version of wanted) if (!found.has(version)) throw new Error(`Approval policy version ${version} is missing`);
  return found;
}

/** Names of groups and connections, for the words of levels, rules and diffs. */
export async function policyNames(db: Db | Tx): Promise<PolicyNames & { groups: Map<string, string> }> {
  const [groups, connections] = await Promise.all([
    db.approvalGroup.findMany({ select: { id: true, name: true } }),
    db.connection.findMany({ select: { id: true, name: true } }),
  ]);
  const groupMap = new Map(groups.map((g) => [g.id, g.name]));
  const connectionMap = new Map(connections.map((c) => [c.id, c.name]));
  return { groups: groupMap, group: (id) => groupMap.get(id), connection: (id) => connectionMap.get(id) };
}

function requireAdmin(actor: Actor, what: string) {
  if (actor.role !== "admin") throw new Forbidden(`Only admins ${what}; you are ${actor.role}`, "policy.role");
}

// ---------------------------------------------------------------------------
// Proposing and deciding versions

export interface ProposalInput extends PolicyInput {
  note?: string | null;
}

/** One admin proposes a new version; it waits for a different admin. One proposal is open at a time. */
export async function proposePolicy(desk: Desk, actor: Actor, input: ProposalInput, ip?: string) {
  requireAdmin(actor, "propose approval policies");
  const note = checkNote(input.note, false);
  await ensurePolicySeeded(desk.db);
  return desk.db.$transaction(async (tx) => {
    const active = await activePolicyIn(tx);
    const open = await tx.approvalPolicyVersion.findFirst({ where: { status: "proposed" } });
    if (open) {
      const by = open.proposedById ? await tx.user.findUnique({ where: { id: open.proposedById }, select: { name: true } }) : null;
      throw new Conflict(`Version ${open.version}, proposed by ${by?.name ?? "another admin"}, is waiting for a decision; approve, reject or withdraw it first`);
    }
    const context = await checkContext(tx);
    const checked = checkPolicyInput(input, context);
    if (!checked.ok) throw new FieldErrors(checked.errors);
    const changes = policyDiff(active.policy, checked.policy, context);
    if (changes.length === 0) throw new FieldErrors({ rules: `This is the same as version ${active.version}, the active policy: change something to propose it` });
    const latest = await tx.approvalPolicyVersion.aggregate({ _max: { version: true } });
    const version = (latest._max.version ?? 0) + 1;
    const diff: StoredDiff = { baseVersion: active.version, changes };
    await tx.approvalPolicyVersion
      .create({
        data: {
          version,
          rules: checked.policy as unknown as Prisma.InputJsonValue,
          status: "proposed",
          proposedById: actor.id,
          decisionNote: null,
          diff: diff as unknown as Prisma.InputJsonValue,
        },
      })
      .catch((error: { code?: string }) => {
        // Another admin proposed at the same moment and took this version number.
        if (error?.code === "P2002") throw new Conflict("Another admin proposed a policy at the same moment; reload to see it");
        throw error;
      });
    await audit(tx, {
      actorId: actor.id,
      action: "policy.propose",
      entityType: "policy",
      entityId: String(version),
      details: { version, baseVersion: active.version, changes: changes as unknown as Prisma.InputJsonValue, note },
      ip,
    });
    return { version, changes };
  });
}

/** Locks and returns an open proposal, refusing anything else with what it is. */
async function openProposal(tx: Tx, version: number) {
  const [locked] = await tx.$queryRaw<Array<{ id: string }>>`SELECT id FROM "ApprovalPolicyVersion" WHERE version = ${version} FOR UPDATE`;
  if (!locked) throw new NotFound(`Approval policy version ${version}`);
  const row = await tx.approvalPolicyVersion.findUniqueOrThrow({ where: { version } });
  if (row.status !== "proposed") throw new Conflict(`Version ${version} is ${row.status}, not waiting for a decision`);
  return row;
}

/** A different admin approves: the proposal becomes active and the version it replaces is superseded. */
export async function approvePolicy(desk: Desk, actor: Actor, input: { version: number; note?: string | null }, ip?: string) {
  requireAdmin(actor, "approve approval policies");
  const note = checkNote(input.note, false);
  return desk.db.$transaction(async (tx) => {
    const row = await openProposal(tx, input.version);
    if (row.proposedById === actor.id) {
      throw new Forbidden("You proposed this version; a different admin must approve it", "policy.own_proposal");
    }
    const diff = row.diff as unknown as StoredDiff | null;
    // Serialises with other approvals and with payouts reading the active version.
    const active = await tx.$queryRaw<Array<{ version: number }>>`SELECT version FROM "ApprovalPolicyVersion" WHERE status = 'active' FOR UPDATE`;
    const current = active[0]?.version ?? null;
    if (diff?.baseVersion != null && current !== diff.baseVersion) {
      // Approving it now would silently undo whatever the newer active version changed.
      throw new Conflict(`Version ${row.version} was proposed against version ${diff.baseVersion}, but version ${current} is active now; withdraw it and propose again`);
    }
    const now = new Date();
    await tx.approvalPolicyVersion.updateMany({ where: { status: "active" }, data: { status: "superseded" } });
    await tx.approvalPolicyVersion.update({ where: { version: row.version }, data: { status: "active", decidedById: actor.id, decidedAt: now, decisionNote: note } });
    await audit(tx, {
      actorId: actor.id,
      action: "policy.approve",
      entityType: "policy",
      entityId: String(row.version),
      details: { version: row.version, replaces: current, proposedById: row.proposedById, changes: (diff?.changes ?? []) as unknown as Prisma.InputJsonValue, note },
      ip,
    });
    return { version: row.version, status: "active" as const };
  });
}

/** A different admin rejects the proposal, saying why. */
export async function rejectPolicy(desk: Desk, actor: Actor, input: { version: number; note: string }, ip?: string) {
  requireAdmin(actor, "reject approval policies");
  const note = checkNote(input.note, true);
  return desk.db.$transaction(async (tx) => {
    const row = await openProposal(tx, input.version);
    if (row.proposedById === actor.id) {
      throw new Forbidden("You proposed this version; withdraw it instead, or let a different admin reject it", "policy.own_proposal");
    }
    await tx.approvalPolicyVersion.update({ where: { version: row.version }, data: { status: "rejected", decidedById: actor.id, decidedAt: new Date(), decisionNote: note } });
    await audit(tx, { actorId: actor.id, action: "policy.reject", entityType: "policy", entityId: String(row.version), details: { version: row.version, note }, ip });
    return { version: row.version, status: "rejected" as const };
  });
}

/** The proposer takes their own proposal back. */
export async function withdrawPolicy(desk: Desk, actor: Actor, input: { version: number }, ip?: string) {
  requireAdmin(actor, "withdraw approval policies");
  return desk.db.$transaction(async (tx) => {
    const row = await openProposal(tx, input.version);
    if (row.proposedById !== actor.id) throw new Forbidden("Only the admin who proposed this version can withdraw it; reject it instead", "policy.not_proposer");
    await tx.approvalPolicyVersion.update({ where: { version: row.version }, data: { status: "withdrawn", decidedById: actor.id, decidedAt: new Date() } });
    await audit(tx, { actorId: actor.id, action: "policy.withdraw", entityType: "policy", entityId: String(row.version), details: { version: row.version }, ip });
    return { version: row.version, status: "withdrawn" as const };
  });
}

function checkNote(value: string | null | undefined, required: boolean): string | null {
  const note = value?.trim() || null;
  if (required && !note) throw new FieldErrors({ note: "Say why, for the proposer and the audit trail" });
  if (note && note.length > 500) throw new FieldErrors({ note: `500 characters at most; this has ${note.length}` });
  return note;
}

/** What checkPolicyInput needs to know of the desk: its connections, groups, and who could count at each level. */
async function checkContext(tx: Tx) {
  const [names, roles, members] = await Promise.all([
    policyNames(tx),
    tx.user.groupBy({ by: ["role"], where: { disabled: false }, _count: { _all: true } }),
    tx.userGroup.findMany({ where: { user: { disabled: false, role: { in: ["approver", "admin"] } } }, select: { groupId: true } }),
  ]);
  const connections = await tx.connection.findMany({ select: { id: true } });
  const byRole = new Map(roles.map((r) => [r.role as string, r._count._all]));
  const byGroup = new Map<string, number>();
  for (const m of members) byGroup.set(m.groupId, (byGroup.get(m.groupId) ?? 0) + 1);
  return {
    ...names,
    groupName: names.group,
    connectionIds: new Set(connections.map((c) => c.id)),
    groupIds: new Set(names.groups.keys()),
    eligibleCount: (level: PolicyLevel) =>
      level.approvers === "group" ? (byGroup.get(level.groupId ?? "") ?? 0) : (byRole.get(level.approvers) ?? 0),
  };
}

// ---------------------------------------------------------------------------
// Reading

/** Settings → Approval policy: the active version, the open proposal, the history, groups and the form's choices. */
export async function policyOverview(desk: Desk, actor: Actor) {
  await ensurePolicySeeded(desk.db);
  const [rows, groups, connections, names] = await Promise.all([
    desk.db.approvalPolicyVersion.findMany({ orderBy: { version: "desc" }, take: 30 }),
    desk.db.approvalGroup.findMany({
      orderBy: { name: "asc" },
      include: { members: { include: { user: { select: { id: true, name: true, email: true, role: true, disabled: true } } } } },
    }),
    desk.db.connection.findMany({ orderBy: { name: "asc" }, select: { id: true, name: true } }),
    policyNames(desk.db),
  ]);
  const people = new Map(
    (
      await desk.db.user.findMany({
        where: { id: { in: [...new Set(rows.flatMap((r) => [r.proposedById, r.decidedById]).filter((id): id is string => Boolean(id)))] } },
        select: { id: true, name: true },
      })
    ).map((u) => [u.id, u.name]),
  );
  const pendingByVersion = new Map(
    (await desk.db.payout.groupBy({ by: ["policyVersion"], where: { status: "pending_approval" }, _count: { _all: true } })).map((g) => [g.policyVersion ?? 1, g._count._all]),
  );
  const versions = rows.map((row) => {
    const diff = row.diff as unknown as StoredDiff | null;
    return {
      version: row.version,
      status: row.status as PolicyVersionStatus,
      policy: readPolicy(row.rules),
      proposedBy: row.proposedById ? { id: row.proposedById, name: people.get(row.proposedById) ?? "a removed user" } : null,
      proposedAt: row.proposedAt,
      decidedBy: row.decidedById ? { id: row.decidedById, name: people.get(row.decidedById) ?? "a removed user" } : null,
      decidedAt: row.decidedAt,
      decisionNote: row.decisionNote,
      baseVersion: diff?.baseVersion ?? null,
      changes: diff?.changes ?? [],
      pendingPayouts: pendingByVersion.get(row.version) ?? 0,
    };
  });
  const active = versions.find((v) => v.status === "active") ?? null;
  const proposal = versions.find((v) => v.status === "proposed") ?? null;
  return {
    active,
    proposal,
    history: versions,
    /** Whether this person may approve or reject the open proposal (an admin who did not propose it). */
    canDecideProposal: Boolean(proposal && actor.role === "admin" && proposal.proposedBy?.id !== actor.id),
    canWithdrawProposal: Boolean(proposal && proposal.proposedBy?.id === actor.id),
    canPropose: actor.role === "admin" && !proposal,
    groups: groups.map((g) => ({
      id: g.id,
      name: g.name,
      members: g.members
        .map((m) => m.user)
        .sort((a, b) => a.name.localeCompare(b.name))
        .map((u) => ({ id: u.id, name: u.name, email: u.email, role: u.role, disabled: u.disabled })),
    })),
    connections,
    groupNames: Object.fromEntries(names.groups),
  };
}

// ---------------------------------------------------------------------------
// Groups

const GROUP_NAME_MAX = 60;

function checkGroupName(value: string): string {
  const name = value.trim().replace(/\s+/g, " ");
  if (!name) throw new FieldErrors({ name: "Give the group a name, e.g. treasury" });
  if (name.length > GROUP_NAME_MAX) throw new FieldErrors({ name: `${GROUP_NAME_MAX} characters at most; this has ${name.length}` });
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) throw new FieldErrors({ name: "One line of text, no control characters" });
  return name;
}

function nameTaken(error: unknown, name: string): never {
  if ((error as { code?: string })?.code === "P2002") throw new FieldErrors({ name: `A group named ${name} exists already; names are unique` });
  throw error;
}

export async function createGroup(desk: Desk, actor: Actor, input: { name: string }, ip?: string) {
  requireAdmin(actor, "manage approval groups");
  const name = checkGroupName(input.name);
  return desk.db.$transaction(async (tx) => {
    const clash = await tx.approvalGroup.findFirst({ where: { name: { equals: name, mode: "insensitive" } } });
    if (clash) throw new FieldErrors({ name: `A group named ${clash.name} exists already; names are unique` });
    const group = await tx.approvalGroup.create({ data: { name } }).catch((e) => nameTaken(e, name));
    await audit(tx, { actorId: actor.id, action: "group.create", entityType: "group", entityId: group.id, details: { name }, ip });
    return group;
  });
}

export async function renameGroup(desk: Desk, actor: Actor, input: { id: string; name: string }, ip?: string) {
  requireAdmin(actor, "manage approval groups");
  const name = checkGroupName(input.name);
  return desk.db.$transaction(async (tx) => {
    const group = await tx.approvalGroup.findUnique({ where: { id: input.id } });
    if (!group) throw new NotFound("Approval group");
    const clash = await tx.approvalGroup.findFirst({ where: { name: { equals: name, mode: "insensitive" }, id: { not: group.id } } });
    if (clash) throw new FieldErrors({ name: `A group named ${clash.name} exists already; names are unique` });
    const renamed = await tx.approvalGroup.update({ where: { id: group.id }, data: { name } }).catch((e) => nameTaken(e, name));
    await audit(tx, { actorId: actor.id, action: "group.rename", entityType: "group", entityId: group.id, details: { before: group.name, after: name }, ip });
    return renamed;
  });
}

/**
 * Deletes a group no policy still needs: not the active version, not an open
 * proposal, and not an older version that payouts still waiting were created
 * under (they would wait for a group that no longer exists, and expire).
 */
export async function deleteGroup(desk: Desk, actor: Actor, input: { id: string }, ip?: string) {
  requireAdmin(actor, "manage approval groups");
  return desk.db.$transaction(async (tx) => {
    const group = await tx.approvalGroup.findUnique({ where: { id: input.id }, include: { members: { select: { userId: true } } } });
    if (!group) throw new NotFound("Approval group");
    const versions = await tx.approvalPolicyVersion.findMany({ select: { version: true, status: true, rules: true } });
    const users = versions.filter((v) => policyGroupIds(readPolicy(v.rules)).includes(group.id));
    for (const v of users) {
      if (v.status === "active" || v.status === "proposed") {
        throw new Conflict(`Version ${v.version} (${v.status}) of the approval policy asks for ${group.name}; change the policy before deleting the group`);
      }
      const waiting = await tx.payout.count({ where: { status: "pending_approval", policyVersion: v.version } });
      if (waiting > 0) {
        throw new Conflict(`${waiting} payout${waiting === 1 ? "" : "s"} waiting for approval under version ${v.version} still need${waiting === 1 ? "s" : ""} ${group.name}; delete it once ${waiting === 1 ? "it is" : "they are"} decided or expired`);
      }
    }
    await tx.approvalGroup.delete({ where: { id: group.id } });
    await audit(tx, {
      actorId: actor.id,
      action: "group.delete",
      entityType: "group",
      entityId: group.id,
      details: { name: group.name, members: group.members.map((m) => m.userId) },
      ip,
    });
    return { id: group.id };
  });
}

/**
 * Sets a user's approval groups (Settings → Users calls this). Admins only;
 * audited with the groups before and after. Membership counts only for users
 * with the approver or admin role (see the policy's levels).
 */
export async function setUserGroups(desk: Desk, actor: Actor, userId: string, groupIds: readonly string[], ip?: string) {
  requireAdmin(actor, "assign approval groups");
  const wanted = [...new Set(groupIds.map((id) => id.toLowerCase()))];
  return desk.db.$transaction(async (tx) => {
    const user = await tx.user.findUnique({ where: { id: userId }, include: { groups: { select: { groupId: true } } } });
    if (!user) throw new NotFound("User");
    const known = await tx.approvalGroup.findMany({ where: { id: { in: wanted } }, select: { id: true, name: true } });
    const missing = wanted.filter((id) => !known.some((g) => g.id === id));
    if (missing.length > 0) throw new FieldErrors({ groupIds: `${missing.length === 1 ? "A group" : `${missing.length} groups`} no longer exist; reload and choose again` });
    const before = user.groups.map((g) => g.groupId).sort();
    const after = [...wanted].sort();
    await tx.userGroup.deleteMany({ where: { userId, groupId: { notIn: wanted } } });
    await tx.userGroup.createMany({ data: wanted.map((groupId) => ({ userId, groupId })), skipDuplicates: true });
    if (JSON.stringify(before) !== JSON.stringify(after)) {
      const names = new Map((await tx.approvalGroup.findMany({ where: { id: { in: [...before, ...after] } }, select: { id: true, name: true } })).map((g) => [g.id, g.name]));
      await audit(tx, {
        actorId: actor.id,
        action: "user.groups",
        entityType: "user",
        entityId: userId,
        details: { before: before.map((id) => names.get(id) ?? id), after: after.map((id) => names.get(id) ?? id) },
        ip,
      });
    }
    return { userId, groupIds: after };
  });
}
