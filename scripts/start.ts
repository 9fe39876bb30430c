// Starts the built desk: fills in the embedded default's generated secrets,
// then runs `next start` as a child, and makes sure that stopping this script
// stops the server: no process is left holding the port (or the embedded
// database's lock).
//
// Why more than forwarding a signal to the child:
// - `next start` runs the server in a process of its own (next-server), which
//   a signal to `next` alone does not reach. So the child gets a process
//   group of its own (detached) and every signal goes to the whole group.
// - The stop is only over when the whole group is gone: SIGTERM, then SIGKILL
//   after DESK_STOP_GRACE_SECONDS (default 15), or at once on a second signal.
// - `npm start` / `npm run demo` do not pass a SIGTERM on (npm 11 exits and
//   leaves its script running), and a SIGKILL passes nothing on. So this
//   script watches the processes that started it (npm, sh, tsx: see
//   startCommandAncestors) and stops the server when one of them is gone, and
//   a small watchdog process stops the server if this script itself is
//   killed with SIGKILL.
//
// DESK_START_CHILD (a JSON array: command and arguments) runs another command
// in place of `next`; scripts/start.test.ts uses it to run a stand-in server
// that behaves like `next start` without needing a build.
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
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
const standIn = readStandIn(env.DESK_START_CHILD);
if (!standIn && !dev && !existsSync(".next/BUILD_ID")) {
  console.error("The desk is not built yet: run `npm run build` first (or `npm run demo`, which builds and starts).");
  process.exit(2);
}
const graceMs = Math.max(0, Number(env.DESK_STOP_GRACE_SECONDS ?? "15") || 0) * 1000;

console.log(`Payout desk starting on ${env.NEXTAUTH_URL} (${env.DATABASE_URL ? "PostgreSQL" : `embedded database in ${env.DESK_DATA_DIR ?? "data"}`})`);
const [command, ...args] = standIn ?? [path.resolve("node_modules/.bin/next"), dev ? "dev" : "start", "-p", port, "-H", host];
// detached: the child leads a process group of its own, so one signal reaches next and every process it starts.
const child = spawn(command!, args, { env: env as NodeJS.ProcessEnv, stdio: "inherit", detached: true });
const group = child.pid!;
let childExit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
let stopping = false;

child.on("error", (error) => {
  console.error(`Could not start ${command}: ${error.message}`);
  process.exit(1);
});
child.on("exit", (code, signal) => {
  childExit = { code, signal };
  // The server stopped on its own: whatever it started goes too.
  if (!stopping) stop("SIGTERM", "the server process exited");
});

for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(signal, () => (stopping ? kill("SIGKILL") : stop(signal, `${signal} received`)));
}

startWatchdog();
const ancestors = startCommandAncestors();
const watchAncestors = setInterval(() => {
  const gone = ancestors.find((a) => !alive(a.pid));
  if (gone && !stopping) stop("SIGTERM", `the process that started the desk (${gone.name}) is gone`);
}, 1000);

/** Signals the whole group, and exits once nothing of it is left. */
function stop(signal: NodeJS.Signals, why: string): void {
  stopping = true;
  clearInterval(watchAncestors);
  if (groupAlive(group)) console.log(`Stopping the desk: ${why}`);
  kill(signal);
  const force = setTimeout(() => kill("SIGKILL"), graceMs);
  const poll = setInterval(() => {
    if (groupAlive(group)) return;
    clearInterval(poll);
    clearTimeout(force);
    const exit = childExit;
    process.exit(exit?.code ?? (exit?.signal && exit.signal !== signal ? 1 : 0));
  }, 100);
}

function kill(signal: NodeJS.Signals): void {
  try {
    process.kill(-group, signal);
  } catch {
    // Already gone.
  }
}

/**
 * Stops the server if this script dies without a chance to (SIGKILL, an out-
 * of-memory kill): a tiny process of its own, outside the server's group,
 * that checks every half second whether this script is still there.
 */
function startWatchdog(): void {
  // Plain JavaScript for `node -e`; "alive" of the group skips zombies, as groupAlive does.
  const code = `
    const fs = require("node:fs");
    const [supervisor, group, graceMs] = process.argv.slice(1).map(Number);
    const alive = (pid) => { try { process.kill(pid, 0); return true; } catch (e) { return e.code === "EPERM"; } };
    const groupAlive = () => {
      if (!fs.existsSync("/proc/self/stat")) return alive(-group);
      for (const entry of fs.readdirSync("/proc")) {
        if (!/^\\d+$/.test(entry)) continue;
        let stat;
        try { stat = fs.readFileSync("/proc/" + entry + "/stat", "utf8"); } catch { continue; }
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        if (Number(fields[2]) === group && fields[0] !== "Z") return true;
      }
      return false;
    };
    const signal = (s) => { try { process.kill(-group, s); } catch {} };
    const timer = setInterval(() => {
      if (!groupAlive()) process.exit(0);
      if (alive(supervisor)) return;
      clearInterval(timer);
      signal("SIGTERM");
      const started = Date.now();
      setInterval(() => {
        if (!groupAlive()) process.exit(0);
        if (Date.now() - started >= graceMs) { signal("SIGKILL"); process.exit(0); }
      }, 100);
    }, 500);`;
  const watchdog = spawn(process.execPath, ["-e", code, String(process.pid), String(group), String(graceMs)], { detached: true, stdio: "ignore" });
  watchdog.unref();
}

/**
 * The processes that make up the command that started this script, which an
 * operator stops as one: the direct parent always (tsx, or whatever ran this
 * file), then up the tree as long as it is npm or a shell or node running
 * this script. A process above them (the operator's shell, a service
 * manager, a test runner) is not watched: it may well end while the desk
 * should keep running (`nohup npm start &`). Linux only (/proc); elsewhere
 * the direct parent alone.
 */
function startCommandAncestors(): Array<{ pid: number; name: string }> {
  const found: Array<{ pid: number; name: string }> = [];
  let pid = process.ppid;
  for (let depth = 0; depth < 6 && pid > 1; depth++) {
    const cmdline = readCmdline(pid);
    if (depth > 0 && !(cmdline !== null && partOfStartCommand(cmdline))) break;
    found.push({ pid, name: cmdline ? cmdline.slice(0, 60) : `pid ${pid}` });
    const parent = parentOf(pid);
    if (parent === null) break;
    pid = parent;
  }
  return found;
}

function partOfStartCommand(cmdline: string): boolean {
  return /(^|[\s/])npm(-cli\.js)?(\s|$)/.test(cmdline) || /scripts\/start\.ts\b/.test(cmdline);
}

function readCmdline(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim();
  } catch {
    return null;
  }
}

/** /proc/<pid>/stat after the command name: state, ppid, pgrp, … */
function statFields(pid: number | string): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return null;
  }
}

function parentOf(pid: number): number | null {
  const fields = statFields(pid);
  return fields ? Number(fields[1]) : null;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
  // A zombie (exited, not yet reaped by whoever adopted it) holds no port and does nothing.
  return statFields(pid)?.[0] !== "Z";
}

/** Whether any process of the group still runs (zombies do not count: nothing may ever reap them here). */
function groupAlive(pgid: number): boolean {
  if (existsSync("/proc/self/stat")) {
    for (const entry of readdirSync("/proc")) {
      if (!/^\d+$/.test(entry)) continue;
      const fields = statFields(entry);
      if (fields && Number(fields[2]) === pgid && fields[0] !== "Z") return true;
    }
    return false;
  }
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function readStandIn(value: string | undefined): string[] | null {
  if (!value) return null;
  const parsed = JSON.parse(value) as unknown;
  if (!Array.isArray(parsed) || parsed.length === 0 || !parsed.every((p) => typeof p === "string")) {
    console.error('DESK_START_CHILD must be a JSON array of strings: ["command", "arg", …]');
    process.exit(2);
  }
  return parsed as string[];
}
