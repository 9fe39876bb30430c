// Settings → Approval policy. Everyone signed in may read the policy (an
// approver should know why a payout waits for them; an auditor reads it);
// only admins propose, decide and manage groups, and a different admin from
// the proposer must approve (enforced in the service). Proposing and
// approving ask for a fresh second factor (step-up).
import { z } from "zod";
import { ANY_ROLE } from "@/server/auth/roles";
import { requireRecentSecondFactor } from "@/server/auth/step-up";
import {
  approvePolicy,
  createGroup,
  deleteGroup,
  policyOverview,
  proposePolicy,
  rejectPolicy,
  renameGroup,
  withdrawPolicy,
} from "@/server/services/approval-policy";
import { MAX_LEVELS, MAX_RULES } from "@/server/domain/approval-policy";
import { procedure, router } from "../init";
import { text, uuid } from "../schemas";

// Loose on purpose: the service checks every value and names the rule and
// field of each problem (rules.2.levels.0.groupId); here only the shape.
const level = z.object({
  approvers: text(20),
  groupId: uuid("Must be a group id").nullish(),
  count: z.number({ error: "Must be a number" }).int("Must be a whole number").min(0, "Must not be negative").max(1000, "1,000 at most"),
});

const levels = z.array(level).max(MAX_LEVELS * 2, `${MAX_LEVELS} levels at most`);

const rule = z.object({
  name: text(200),
  connectionId: uuid("Must be a connection id").nullish(),
  currency: text(8).nullish(),
  above: text(40).nullish(),
  upTo: text(40).nullish(),
  recipientCountry: text(8).nullish(),
  levels,
  allowOverBalance: z.boolean({ error: "Must be true or false" }),
});

const version = z.number({ error: "Must be a version number" }).int("Must be a whole number").min(1, "Versions start at 1").max(2_147_483_647, "No such version");

export const approvalPolicyRouter = router({
  overview: procedure(ANY_ROLE).query(({ ctx }) => policyOverview(ctx.desk, ctx.actor)),
  propose: procedure(["admin"])
    .input(
      z.object({
        rules: z.array(rule).max(MAX_RULES * 2, `${MAX_RULES} rules at most`),
        defaultRule: z.object({ levels, allowOverBalance: z.boolean({ error: "Must be true or false" }) }),
        approvalWindowHours: z.number({ error: "Must be a number" }).int("Must be whole hours").min(0, "Must not be negative").max(100_000, "100,000 at most"),
        note: text(500).nullish(),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      await requireRecentSecondFactor({ desk: ctx.desk, actor: ctx.actor, sessionId: ctx.sessionId });
      return proposePolicy(ctx.desk, ctx.actor, input, ctx.ip);
    }),
  approve: procedure(["admin"])
    .input(z.object({ version, note: text(500).nullish() }))
    .mutation(async ({ ctx, input }) => {
      await requireRecentSecondFactor({ desk: ctx.desk, actor: ctx.actor, sessionId: ctx.sessionId });
      return approvePolicy(ctx.desk, ctx.actor, input, ctx.ip);
    }),
  reject: procedure(["admin"])
    .input(z.object({ version, note: text(500) }))
    .mutation(({ ctx, input }) => rejectPolicy(ctx.desk, ctx.actor, input, ctx.ip)),
  withdraw: procedure(["admin"])
    .input(z.object({ version }))
    .mutation(({ ctx, input }) => withdrawPolicy(ctx.desk, ctx.actor, input, ctx.ip)),
  createGroup: procedure(["admin"])
    .input(z.object({ name: text(200) }))
    .mutation(({ ctx, input }) => createGroup(ctx.desk, ctx.actor, input, ctx.ip)),
  renameGroup: procedure(["admin"])
    .input(z.object({ id: uuid("Must be a group id"), name: text(200) }))
    .mutation(({ ctx, input }) => renameGroup(ctx.desk, ctx.actor, input, ctx.ip)),
  deleteGroup: procedure(["admin"])
    .input(z.object({ id: uuid("Must be a group id") }))
    .mutation(({ ctx, input }) => deleteGroup(ctx.desk, ctx.actor, input, ctx.ip)),
});
