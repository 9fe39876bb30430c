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
}

export function readConfig(env: NodeJS.ProcessEnv = process.env): DeskConfig {
  const appUrl = (env.APP_URL ?? env.NEXTAUTH_URL ?? "http://127.0.0.1:3000").replace(/\/+$/, "");
  return {
    appUrl,
    credentialsKey: env.DESK_CREDENTIALS_KEY,
    databaseUrl: env.DATABASE_URL || undefined,
    embedded: !env.DATABASE_URL,
    inProcessWorkers: env.DESK_WORKERS !== "off",
  };
}

export const config = readConfig();
