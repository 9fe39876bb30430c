// The composition root of the running desk: one database, the workers (the
// payout dispatcher, which takes its work from the payout rows), and the
// first-start seeding. Opened lazily on first use (never
// at import: `next build` imports modules and must not open the embedded
// database), once per process.
import { getDb } from "@/server/db/client";
import { readConfig } from "@/server/config";
import { parseKey } from "@/server/security/secret-box";
import { applyLocalSecrets } from "@/server/security/local-secrets";
import { startWorkers } from "@/server/jobs/workers";
import type { Desk, JobScheduler } from "@/server/services/types";
import { DEMO_USERS, seedDemoUsers } from "@/server/services/users";
import { ensureSandboxConnections, registrationInfo, upsertConnection } from "@/server/services/connections";
import { configuredConnections } from "@/server/services/configured-connections";
import { supportedProviders } from "@/server/connectors/registry";

interface Runtime {
  desk: Desk;
  stop(): Promise<void>;
}

const globalKey = Symbol.for("payout-desk.runtime");
type Holder = { [globalKey]?: Promise<Runtime> };

export function getRuntime(): Promise<Runtime> {
  const holder = globalThis as Holder;
  holder[globalKey] ??= boot().catch((error) => {
    delete holder[globalKey];
    throw error;
  });
  return holder[globalKey];
}

/**
 * Boots the runtime at server start. A desk that cannot open its database
 * (the embedded one in use by another process, PostgreSQL unreachable) must
 * not stay up answering 500s: it exits with the reason.
 */
export async function bootOrExit(): Promise<void> {
  try {
    await getRuntime();
  } catch (error) {
    console.error(`\n[desk] cannot start: ${(error as Error).message}\n`);
    process.exit(1);
  }
}

export async function getDesk(): Promise<Desk> {
  return (await getRuntime()).desk;
}

async function boot(): Promise<Runtime> {
  applyLocalSecrets();
  const config = readConfig();
  const db = await getDb();
  // Wakes this process's dispatcher when there is one; a web process without
  // workers has nothing to wake (the worker processes poll the payout rows).
  const waker: JobScheduler & { target: JobScheduler | null } = {
    target: null,
    wake() {
      this.target?.wake();
    },
  };
  const desk: Desk = {
    db: db.prisma,
    config,
    credentialsKey: parseKey(process.env.DESK_CREDENTIALS_KEY),
    jobs: waker,
    connectorDeps: { timeoutMs: config.providerTimeoutSeconds * 1000 },
  };

  if (db.kind === "pglite" && (await seedDemoUsers(desk.db, desk.credentialsKey))) {
    console.log(
      [
        "",
        "  Demo sign-in (embedded database only; the TOTP key goes into an authenticator app, see README):",
        ...DEMO_USERS.map((u) => `    ${u.role.padEnd(9)} ${u.email.padEnd(22)} ${u.password.padEnd(20)}${u.totpKey ? ` TOTP key ${u.totpKey}` : ""}`),
        "",
      ].join("\n"),
    );
  }
  for (const input of configuredConnections()) {
    const connection = await upsertConnection(desk, input);
    const info = registrationInfo(desk, connection);
    console.log(`[desk] connection "${connection.name}" (${connection.provider}) from configuration; callback URL ${info.callbackUrl}`);
  }
  await ensureSandboxConnections(desk, supportedProviders());

  const workers = config.inProcessWorkers ? startWorkers(desk) : null;
  waker.target = workers?.dispatcher ?? null;
  return {
    desk,
    async stop() {
      await workers?.stop();
      await db.close();
    },
  };
}
