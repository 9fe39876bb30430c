import { router } from "./init";
import { payoutsRouter } from "./routers/payouts";
import { approvalsRouter } from "./routers/approvals";
import { approvalPolicyRouter } from "./routers/approval-policy";
import { connectionsRouter } from "./routers/connections";
import { overviewRouter } from "./routers/overview";
import { meRouter } from "./routers/me";
import { balancesRouter } from "./routers/balances";
import { outcomesRouter } from "./routers/outcomes";
import { reconciliationRouter } from "./routers/reconciliation";
import { statementsRouter } from "./routers/statements";
import { settingsRouter } from "./routers/settings";
import { auditRouter } from "./routers/audit";
import { usersRouter } from "./routers/users";
import { authRouter } from "./routers/auth";
import { batchesRouter } from "./routers/batches";

export const appRouter = router({
  me: meRouter,
  overview: overviewRouter,
  payouts: payoutsRouter,
  approvals: approvalsRouter,
  approvalPolicy: approvalPolicyRouter,
  connections: connectionsRouter,
  balances: balancesRouter,
  outcomes: outcomesRouter,
  reconciliation: reconciliationRouter,
  statements: statementsRouter,
  settings: settingsRouter,
  audit: auditRouter,
  users: usersRouter,
  auth: authRouter,
  batches: batchesRouter,
});

export type AppRouter = typeof appRouter;
