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
 * Wakes the workers. The work itself is recorded on the payout row (its due
 * time, see payout-work.ts), in the same transaction as the change that makes
 * it due, so a lost wake-up delays nothing more than the workers' next poll.
 */
export interface JobScheduler {
  /** Payouts became due (approved, or a status check is wanted now). Never throws. */
  wake(): void;
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
}
