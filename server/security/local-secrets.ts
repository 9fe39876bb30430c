// The embedded default generates its own secrets on first start and keeps
// them beside its data (git-ignored), so `npm run demo` needs no setup and
// sessions and sealed credentials survive restarts. Against PostgreSQL the
// operator must provide them: a generated key there would be lost silently.
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

export interface LocalSecrets {
  nextauthSecret: string;
  credentialsKey: string;
}

export function dataDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(/*turbopackIgnore: true*/ env.DESK_DATA_DIR ?? "data");
}

export function loadOrCreateLocalSecrets(dir = dataDir()): LocalSecrets {
  const file = path.join(dir, "secrets.json");
  if (existsSync(file)) return JSON.parse(readFileSync(file, "utf8")) as LocalSecrets;
  mkdirSync(dir, { recursive: true });
  const secrets = { nextauthSecret: randomBytes(32).toString("base64url"), credentialsKey: randomBytes(32).toString("base64") };
  writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600, flag: "wx" });
  return secrets;
}

/** Fills NEXTAUTH_SECRET and DESK_CREDENTIALS_KEY from the data folder when they are not set. */
export function applyLocalSecrets(env: NodeJS.ProcessEnv = process.env): void {
  if (env.DATABASE_URL) return;
  if (env.NEXTAUTH_SECRET && env.DESK_CREDENTIALS_KEY) return;
  const secrets = loadOrCreateLocalSecrets(dataDir(env));
  env.NEXTAUTH_SECRET ||= secrets.nextauthSecret;
  env.DESK_CREDENTIALS_KEY ||= secrets.credentialsKey;
}
