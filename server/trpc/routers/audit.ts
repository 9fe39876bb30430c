// The audit trail: read by the roles CONTROLS.readAudit names (viewer as the
// auditor's read-only role, approver, admin; see server/auth/controls.ts).
// Nothing here writes: the trail is appended to only by the services'
// mutations. The export is a streamed route (app/api/audit/export).
import { z } from "zod";
import { AUDIT_READER_ROLES } from "@/server/auth/controls";
import { auditFilterOptions, listAuditEntries, verifyAuditChain } from "@/server/services/audit-log";
import { procedure, router } from "../init";
import { text, uuid } from "../schemas";

/** An entry number as text (ids are bigints); the service refuses what is not one, naming the field. */
const entryNumber = text(20);

const filters = {
  actor: z.union([uuid("Must be a user id, or system"), z.literal("system")], { error: "Must be a user id, or system" }).nullish(),
  action: text(100).nullish(),
  entityType: text(64).nullish(),
  entityId: text(200).nullish(),
  fromDay: text(10).nullish(),
  toDay: text(10).nullish(),
  timeZone: text(64).nullish(),
  upto: text(20).nullish(),
};

export const auditRouter = router({
  list: procedure(AUDIT_READER_ROLES, { searchFields: ["action", "entityId"] })
    .input(z.object({ ...filters, cursor: entryNumber.nullish(), limit: z.number({ error: "Must be a number" }).int("Must be a whole number").min(1, "At least 1").max(200, "At most 200").nullish() }))
    .query(({ ctx, input }) => {
      const { cursor, limit, ...rest } = input;
      return listAuditEntries(ctx.desk, ctx.actor, rest, { cursor, limit: limit ?? undefined });
    }),
  filterOptions: procedure(AUDIT_READER_ROLES).query(({ ctx }) => auditFilterOptions(ctx.desk, ctx.actor)),
  /** One slice of a verification; the page calls again from nextFrom with the first slice's range.last as `to`. */
  verify: procedure(AUDIT_READER_ROLES)
    .input(z.object({ from: entryNumber.nullish(), to: entryNumber.nullish() }))
    .query(({ ctx, input }) => verifyAuditChain(ctx.desk, ctx.actor, input)),
});
