// npm run bench:pages [-- --rows 1000000 --loads 15 --keep]
//
// The pages as a person opens them (issue 10: "first row on screen within
// 1 s on localhost; first-load JS of /payouts at most 200 kB gzip"). Seeds
// --rows payouts on PostgreSQL (a scratch database on BENCH_DATABASE_URL or
// TEST_DATABASE_URL, dropped after) as bench:list does, starts the BUILT desk
// on it (`npm run build` first; workers off, so nothing but the page loads
// runs), signs a viewer in with Debian's Chromium and, for the payouts list
// and the overview, prints:
//   - first row on screen: from asking for the page to its first row (the
//     overview: its counters) visible, p50 and p95 over --loads loads, each
//     from a quiet browser (the previous page's lazy loading finished);
//   - the server's answer (time to its first byte) and the first contentful
//     paint, as Chromium reports them;
//   - whether the server's HTML already holds the rows (data rendered on the
//     server, not fetched after the page loads);
//   - first-load JS: the gzip size of the scripts the page's HTML names.
// Figures, not a test: it exits non-zero only when a page does not show its rows.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { gzipSync } from "node:zlib";
import { chromium, type Page } from "@playwright/test";
import { createDb } from "@/server/db/client";
import { createScratchPostgresDatabase } from "@/server/db/testing";
import { startTestDesk } from "@/server/testing/desk";
import { seedAtSize } from "@/server/testing/payout-list-seed";
import { numberArg } from "../lib/pipeline-kit";
import playwrightConfig from "../../playwright.config";

const PAGES = [
  { name: "/payouts (first row)", path: "/payouts", shown: '[data-testid="payout-row"]', inHtml: 'data-testid="payout-row"' },
  { name: "/ overview (counters)", path: "/", shown: '[data-testid="overview"]', inHtml: 'data-testid="overview"' },
];

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

async function waitForServer(url: string, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`The desk did not answer ${url} within ${timeoutMs / 1000} s`);
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
const ms = (n: number) => `${n.toFixed(0)} ms`.padStart(8);

/** The gzip size of the scripts the page's HTML names (what the browser must fetch before the page is interactive). */
async function firstLoadJs(page: Page, base: string, path: string): Promise<{ html: string; kb: number; scripts: number }> {
  const response = await page.request.get(`${base}${path}`);
  const html = await response.text();
  // Scripts marked noModule (Next's polyfills) are for old browsers only: a current one never fetches them.
  const tags = [...html.matchAll(/<script[^>]*\bsrc="([^"]+)"[^>]*>/g)].filter((m) => !/\bnomodule\b/i.test(m[0]));
  const sources = [...new Set(tags.map((m) => m[1]!))];
  let bytes = 0;
  for (const src of sources) bytes += gzipSync(await (await page.request.get(new URL(src, base).toString())).body()).length;
  return { html, kb: bytes / 1000, scripts: sources.length };
}

async function main() {
  const rows = Math.floor(numberArg("rows", 1_000_000));
  const loads = Math.floor(numberArg("loads", 15));
  if (!existsSync(".next/BUILD_ID")) throw new Error("bench:pages measures the built desk: run `npm run build` first");
  const admin = process.env.BENCH_DATABASE_URL || process.env.TEST_DATABASE_URL;
  if (!admin) throw new Error("bench:pages needs BENCH_DATABASE_URL or TEST_DATABASE_URL (an admin connection string to PostgreSQL)");
  process.env.TEST_DATABASE_URL = admin;

  const scratch = await createScratchPostgresDatabase();
  const db = await createDb({ databaseUrl: scratch.url, max: 4 });
  const keep = process.argv.includes("--keep");
  const t = await startTestDesk("postgres", {
    database: {
      ...db,
      dispose: async () => {
        await db.close();
        if (keep) console.log(`kept the database: ${scratch.url}`);
        else await scratch.drop();
      },
    },
  });
  let server: ReturnType<typeof spawn> | null = null;
  let ok = true;
  try {
    console.log(`== PostgreSQL, ${rows.toLocaleString("en-US")} payouts ==`);
    await seedAtSize(db, t, rows);

    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    server = spawn(process.execPath, ["node_modules/tsx/dist/cli.mjs", "scripts/start.ts"], {
      env: {
        ...process.env,
        PORT: String(port),
        HOST: "127.0.0.1",
        NEXTAUTH_URL: base,
        APP_URL: base,
        DATABASE_URL: scratch.url,
        NEXTAUTH_SECRET: randomBytes(32).toString("base64"),
        DESK_CREDENTIALS_KEY: t.desk.credentialsKey.toString("base64"),
        // Only the page loads run: no sending, status checks or balance reads beside them.
        DESK_WORKERS: "off",
      },
      stdio: ["ignore", "ignore", "inherit"],
    });
    await waitForServer(`${base}/login`, 120_000);

    // The e2e suite's Chromium (Debian's, with its flags): one place to change them.
    const browser = await chromium.launch(playwrightConfig.use?.launchOptions);
    try {
      const page = await (await browser.newContext({ viewport: { width: 1366, height: 900 } })).newPage();
      await page.goto(`${base}/login`);
      await page.getByLabel("Email").fill(t.users.viewer.email);
      await page.getByLabel("Password").fill("viewer-test-password");
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.getByTestId("signed-in-user").waitFor({ timeout: 60_000 });

      console.log(`\n${"page".padEnd(26)}  on screen p50     p95  server p50  FCP p50   rows in HTML   first-load JS (gzip)`);
      for (const p of PAGES) {
        const times: number[] = [];
        const paints: number[] = [];
        const answers: number[] = [];
        for (let i = 0; i < loads + 2; i++) {
          const started = performance.now();
          await page.goto(`${base}${p.path}`, { waitUntil: "commit" });
          await page.locator(p.shown).first().waitFor({ state: "visible", timeout: 30_000 });
          const took = performance.now() - started;
          const [fcp, answered] = await page.evaluate(() => [
            performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? null,
            (performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming | undefined)?.responseStart ?? null,
          ]);
          // Each load starts from a quiet browser: the page's lazy work (the
          // overview's charts chunk) is let finish before the next navigation,
          // or it would hold the renderer while the next page arrives.
          await page.waitForLoadState("networkidle");
          if (i < 2) continue; // the first loads compile and cache on both sides
          times.push(took);
          if (fcp !== null) paints.push(fcp);
          if (answered !== null) answers.push(answered);
        }
        times.sort((a, b) => a - b);
        paints.sort((a, b) => a - b);
        answers.sort((a, b) => a - b);
        const js = await firstLoadJs(page, base, p.path);
        const inHtml = js.html.includes(p.inHtml);
        if (!inHtml) ok = false;
        console.log(
          `${p.name.padEnd(26)}  ${ms(percentile(times, 0.5))}${ms(percentile(times, 0.95))}   ${answers.length ? ms(percentile(answers, 0.5)) : "       —"}  ${paints.length ? ms(percentile(paints, 0.5)) : "       —"}   ${inHtml ? "yes" : "NO "}            ${js.kb.toFixed(1)} kB in ${js.scripts} scripts`,
        );
      }
    } finally {
      await browser.close();
    }
    console.log(`\ntargets: first row on screen within 1 s on localhost; first-load JS of /payouts at most 200 kB gzip`);
  } finally {
    if (server && server.exitCode === null) {
      server.kill("SIGTERM");
      await new Promise((resolve) => server!.once("exit", resolve));
    }
    await t.close();
  }
  process.exit(ok ? 0 : 1);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
