// Starts the built desk: fills in the embedded default's generated secrets,
// then runs `next start` as a child and forwards signals, so a stopped script
// never leaves a server (or the embedded database lock) behind.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { applyLocalSecrets } from "../server/security/local-secrets";

const env: Record<string, string | undefined> = { ...process.env, NEXT_TELEMETRY_DISABLED: "1" };
const port = env.PORT ?? "3000";
const host = env.HOST ?? "127.0.0.1";
env.NEXTAUTH_URL ??= `http://${host === "0.0.0.0" ? "localhost" : host}:${port}`;
env.APP_URL ??= env.NEXTAUTH_URL;

if (env.DATABASE_URL) {
  for (const name of ["NEXTAUTH_SECRET", "DESK_CREDENTIALS_KEY"]) {
    if (!env[name]) {
      console.error(`${name} must be set when DATABASE_URL is set (see README, "Running on PostgreSQL").`);
      process.exit(2);
    }
  }
} else {
  applyLocalSecrets(env as NodeJS.ProcessEnv);
}

const dev = process.argv.includes("--dev");
if (!dev && !existsSync(".next/BUILD_ID")) {
  console.error("The desk is not built yet: run `npm run build` first (or `npm run demo`, which builds and starts).");
  process.exit(2);
}

console.log(`Payout desk starting on ${env.NEXTAUTH_URL} (${env.DATABASE_URL ? "PostgreSQL" : `embedded database in ${env.DESK_DATA_DIR ?? "data"}`})`);
const child = spawn(path.resolve("node_modules/.bin/next"), [dev ? "dev" : "start", "-p", port, "-H", host], { env: env as NodeJS.ProcessEnv, stdio: "inherit" });
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
