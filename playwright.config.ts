import { defineConfig } from "@playwright/test";

// The e2e suite runs the built desk on the embedded database, in a fresh data
// folder each run, with Debian's chromium (Playwright's own browser download
// is not reachable here).
const port = Number(process.env.E2E_PORT ?? 3107);
const baseURL = `http://127.0.0.1:${port}`;
const dataDir = "test-results/e2e-data";

export default defineConfig({
  testDir: "e2e",
  // Two-factor sign-in accepts each code once per 30-second step, so a spec that
  // signs the same demo user in twice (or steps up) may wait for the next step.
  timeout: 180_000,
  expect: { timeout: 20_000 },
  workers: 1,
  retries: 0,
  reporter: process.env.CI ? [["list"]] : [["list"]],
  use: {
    baseURL,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
      ],
    },
  },
  webServer: {
    command: `rm -rf ${dataDir} && node_modules/.bin/tsx scripts/start.ts`,
    url: `${baseURL}/login`,
    timeout: 120_000,
    reuseExistingServer: false,
    stdout: "pipe",
    stderr: "pipe",
    env: {
      PORT: String(port),
      HOST: "127.0.0.1",
      NEXTAUTH_URL: baseURL,
      APP_URL: baseURL,
      DESK_DATA_DIR: dataDir,
      DATABASE_URL: "",
      NEXTAUTH_SECRET: "",
      DESK_CREDENTIALS_KEY: "",
    },
  },
});
