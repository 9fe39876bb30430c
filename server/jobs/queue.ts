// The job queue: pg-boss on the desk's own database. On PostgreSQL it has its
// own small pool; on the embedded PGlite it runs its SQL through the same
// PGlite instance as Prisma (PGlite serialises queries and waits for open
// transactions, so the two never interleave inside a transaction).
import PgBoss from "pg-boss";
import type { JobScheduler } from "@/server/services/types";

export const QUEUES = {
  submit: "payout-submit",
  status: "payout-status",
} as const;

export interface SqlRunner {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
  /** Several statements, no parameters (pg-boss installs its schema this way). */
  exec(script: string): Promise<unknown>;
}

export interface QueueOptions {
  connectionString?: string;
  sql?: SqlRunner;
}

export async function startBoss(options: QueueOptions): Promise<PgBoss> {
  const common = { schema: "pgboss", supervise: true, schedule: false, migrate: true } as const;
  const boss = options.connectionString
    ? new PgBoss({ ...common, connectionString: options.connectionString, max: 4 })
    : new PgBoss({ ...common, db: { executeSql: pgliteExecutor(options.sql!) } } as PgBoss.ConstructorOptions);
  boss.on("error", (error) => console.error("[jobs] queue error", error));
  await boss.start();
  // One job per payout per state: a second submit or status check for the same
  // payout is dropped while one is queued, and one more may wait while it runs.
  for (const name of Object.values(QUEUES)) {
    if (!(await boss.getQueue(name))) await boss.createQueue(name, { name, policy: "stately" });
  }
  return boss;
}

function pgliteExecutor(sql: SqlRunner) {
  return async (text: string, values?: unknown[]) => {
    if (values && values.length > 0) return sql.query(text, values);
    // pg's simple protocol runs several statements at once; PGlite's query()
    // takes one, so parameterless SQL goes through exec() and returns the last result.
    const results = (await sql.exec(text)) as Array<{ rows: unknown[] }> | { rows: unknown[] };
    if (Array.isArray(results)) return results.at(-1) ?? { rows: [] };
    return results;
  };
}

export class PgBossScheduler implements JobScheduler {
  constructor(private readonly boss: PgBoss) {}

  async submitPayout(payoutId: string): Promise<void> {
    await this.boss.send(QUEUES.submit, { payoutId }, { singletonKey: payoutId, retryLimit: 5, retryDelay: 5, retryBackoff: true });
  }

  async checkStatus(payoutId: string, opts: { delaySeconds?: number; attempt?: number } = {}): Promise<void> {
    await this.boss.send(
      QUEUES.status,
      { payoutId, attempt: opts.attempt ?? 0 },
      { singletonKey: payoutId, startAfter: opts.delaySeconds ?? 0, retryLimit: 5, retryDelay: 10, retryBackoff: true },
    );
  }
}
