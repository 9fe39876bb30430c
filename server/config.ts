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
  /** An approved payout not sent within this (and a status check this late) is flagged and looked at again. */
  sendWithinSeconds: number;
  /** Payouts of one connection a worker process acts on at once (a connection's own setting wins). */
  sendConcurrency: number;
  /** How long a provider call may take before its outcome counts as unknown. */
  providerTimeoutSeconds: number;
}

export function readConfig(env: NodeJS.ProcessEnv = process.env): DeskConfig {
  const appUrl = (env.APP_URL ?? env.NEXTAUTH_URL ?? "http://127.0.0.1:3000").replace(/\/+$/, "");
  return {
    appUrl,
    credentialsKey: env.DESK_CREDENTIALS_KEY,
    databaseUrl: env.DATABASE_URL || undefined,
    embedded: !env.DATABASE_URL,
    inProcessWorkers: env.DESK_WORKERS !== "off",
    stuckAfterMinutes: positiveNumber(env.DESK_STUCK_AFTER_MINUTES, "DESK_STUCK_AFTER_MINUTES", "minutes") ?? 30,
    sendWithinSeconds: positiveNumber(env.DESK_SEND_WITHIN_SECONDS, "DESK_SEND_WITHIN_SECONDS", "seconds") ?? 120,
    sendConcurrency: wholeNumber(env.DESK_SEND_CONCURRENCY, "DESK_SEND_CONCURRENCY", 1, 64) ?? DEFAULT_SEND_CONCURRENCY,
    providerTimeoutSeconds: positiveNumber(env.DESK_PROVIDER_TIMEOUT_SECONDS, "DESK_PROVIDER_TIMEOUT_SECONDS", "seconds") ?? 15,
  };
}

/** Payouts of one connection in progress at once per worker process, unless the connection says otherwise. */
export const DEFAULT_SEND_CONCURRENCY = 8;

function positiveNumber(value: string | undefined, name: string, unit: string): number | undefined {
  if (value === undefined || value === "") return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number of ${unit}, not "${value}"`);
  return n;
}

function wholeNumber(value: string | undefined, name: string, min: number, max: number): number | undefined {
  if (value === undefined || value === "") return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${name} must be a whole number from ${min} to ${max}, not "${value}"`);
  return n;
}

export const config = readConfig();
