import type { PrismaClient, Prisma } from "@/server/db/generated/client";
import type { ConnectorDeps } from "@/server/connectors/types";
import type { DeskConfig } from "@/server/config";
import type { Role } from "@/server/auth/roles";

export type Db = PrismaClient;
export type Tx = Prisma.TransactionClient;

/** The signed-in person acting, as loaded fresh from the database. */
export interface Actor {
  id: string;
  email: string;
  name: string;
  role: Role;
}

/**
 * Work the services hand to the background queue; implemented in server/jobs.
 * Never call these inside a database transaction: on the embedded PGlite the
 * queue shares the one connection and would wait for that transaction to end.
 * Enqueue after commit; the sweeper covers a crash in between.
 */
export interface JobScheduler {
  /** Asks a worker to send an approved payout to its provider. */
  submitPayout(payoutId: string): Promise<void>;
  /** Asks a worker to query the provider for a payout's status after a delay. */
  checkStatus(payoutId: string, opts?: { delaySeconds?: number; attempt?: number }): Promise<void>;
}

/** Everything a use case needs, built once per process (or per test). */
export interface Desk {
  db: Db;
  config: DeskConfig;
  /** Key for the AES-256-GCM envelopes of stored secrets. */
  credentialsKey: Buffer;
  jobs: JobScheduler;
  /** Passed to every connector (tests inject fetch or timeouts). */
  connectorDeps?: Pick<ConnectorDeps, "fetch" | "timeoutMs" | "now">;
  /** Seconds a payout may sit in `submitting` before it is declared unknown. */
  submittingStaleSeconds?: number;
}
