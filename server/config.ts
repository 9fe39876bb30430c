// Process configuration, read once from the environment. Secrets the
// embedded default needs (session secret, credential key) are generated on
// first start by scripts/start.ts and passed in through the environment, so
// nothing here writes files.

export interface DeskConfig {
  /** Public base URL of the desk, used for provider callback URLs. */
  appUrl: string;
  /** 32-byte key (base64) under which provider credentials are encrypted. */
  credentialsKey: string | undefined;
  databaseUrl: string | undefined;
  /** True when the desk runs on the embedded PGlite default. */
  embedded: boolean;
  /** Run the job workers inside the web process (default on). */
  inProcessWorkers: boolean;
  /** A payout in flight longer than this is flagged for attention. */
  stuckAfterMinutes: number;
}

export function readConfig(env: NodeJS.ProcessEnv = process.env): DeskConfig {
  const appUrl = (env.APP_URL ?? env.NEXTAUTH_URL ?? "http://127.0.0.1:3000").replace(/\/+$/, "");
  return {
    appUrl,
    credentialsKey: env.DESK_CREDENTIALS_KEY,
    databaseUrl: env.DATABASE_URL || undefined,
    embedded: !env.DATABASE_URL,
    inProcessWorkers: env.DESK_WORKERS !== "off",
    stuckAfterMinutes: positiveNumber(env.DESK_STUCK_AFTER_MINUTES, "DESK_STUCK_AFTER_MINUTES") ?? 30,
  };
}

function positiveNumber(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value === "") return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number of minutes, not "${value}"`);
  return n;
}

export const config = readConfig();
