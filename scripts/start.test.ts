// The start script stops everything it started. It is run for real (tsx, and
// `npm start` as an operator types it), with a stand-in for `next start`
// (DESK_START_CHILD) because a real one needs a build: like next, the stand-in
// is a process that serves the port from a child process of its own and
// exits on SIGTERM without passing it on, which is how the server used to
// outlive a stopped script. Each test then stops the script the way an
// operator or the system would and checks that the port is free and that no
// process of the tree is left. Linux only (the tree is read from /proc).
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, connect } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { waitFor } from "@/server/testing/wait";

const ROOT = path.resolve(__dirname, "..");
const LINUX = existsSync("/proc/self/stat");
const dir = mkdtempSync(path.join(tmpdir(), "desk-start-"));
const STAND_IN = path.join(dir, "stand-in-next.cjs");
writeFileSync(
  STAND_IN,
  `// Stands in for \`next start\`: "next" runs the server ("next-server") as its own child, and leaves on SIGTERM without telling it.
const { spawn } = require("node:child_process");
if (process.argv[2] === "server") {
  // A stubborn server ignores SIGTERM and SIGINT: only SIGKILL stops it.
  if (process.env.STAND_IN_STUBBORN === "1") for (const s of ["SIGTERM", "SIGINT"]) process.on(s, () => {});
  require("node:http").createServer((req, res) => res.end("stand-in")).listen(Number(process.env.PORT), "127.0.0.1");
} else {
  spawn(process.execPath, [__filename, "server"], { stdio: "inherit" });
  process.on("SIGTERM", () => process.exit(0));
  process.on("SIGINT", () => process.exit(0));
  setInterval(() => {}, 1000);
}
`,
);

interface Started {
  outer: ChildProcess;
  port: number;
  exited: Promise<number | null>;
  output: () => string;
}

const started: Started[] = [];
let known: number[] = [];

afterEach(() => {
  // Whatever a failed test left behind: by pid, only processes this file started.
  for (const pid of known) if (alive(pid)) process.kill(pid, "SIGKILL");
  known = [];
  started.length = 0;
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: "127.0.0.1" });
    socket.once("connect", () => (socket.destroy(), resolve(true)));
    socket.once("error", () => resolve(false));
  });
}

/** Whether the port can be listened on again (nothing holds it). */
async function portFree(port: number): Promise<boolean> {
  const server = createServer();
  const ok = await new Promise<boolean>((resolve) => {
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => resolve(true));
  });
  if (ok) await new Promise((resolve) => server.close(resolve));
  return ok;
}

function stat(pid: number | string): { state: string; ppid: number; cmdline: string } | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ");
    return { state: fields[0]!, ppid: Number(fields[1]), cmdline };
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  const s = stat(pid);
  return s !== null && s.state !== "Z";
}

/** Every living process below `root`. */
function descendants(root: number): Array<{ pid: number; cmdline: string }> {
  const all = readdirSync("/proc")
    .filter((e) => /^\d+$/.test(e))
    .map((e) => ({ pid: Number(e), ...stat(e) }))
    .filter((p): p is { pid: number; state: string; ppid: number; cmdline: string } => p.ppid !== undefined && p.state !== "Z");
  const found: Array<{ pid: number; cmdline: string }> = [];
  const queue = [root];
  while (queue.length) {
    const parent = queue.shift()!;
    for (const p of all) if (p.ppid === parent) (found.push({ pid: p.pid, cmdline: p.cmdline }), queue.push(p.pid));
  }
  return found;
}

async function start(how: "tsx" | "npm", env: Record<string, string> = {}): Promise<Started> {
  const port = await freePort();
  const [command, args] = how === "npm" ? ["npm", ["start", "--silent"]] : [path.join(ROOT, "node_modules/.bin/tsx"), ["scripts/start.ts"]];
  let output = "";
  const outer = spawn(command, args, {
    cwd: ROOT,
    // Its own process group, as a job started from a shell is.
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      DATABASE_URL: "",
      NEXTAUTH_SECRET: "start-test-secret",
      DESK_CREDENTIALS_KEY: "start-test-key",
      DESK_DATA_DIR: dir,
      PORT: String(port),
      DESK_START_CHILD: JSON.stringify([process.execPath, STAND_IN]),
      ...env,
    },
  });
  outer.stdout!.on("data", (d) => (output += d));
  outer.stderr!.on("data", (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => outer.once("exit", (code) => resolve(code)));
  const run = { outer, port, exited, output: () => output };
  started.push(run);
  await waitFor(() => portAnswers(port), 60_000, 50).catch((error: Error) => {
    throw new Error(`${error.message}; the script said: ${output}`);
  });
  known = [outer.pid!, ...descendants(outer.pid!).map((p) => p.pid)];
  return run;
}

/** The tree after it was told to stop: all gone, port free. */
async function expectAllGone(run: Started, tree: number[]): Promise<void> {
  await waitFor(() => tree.every((pid) => !alive(pid)), 60_000, 50).catch(() => {
    const left = tree.filter(alive).map((pid) => `${pid} ${stat(pid)?.cmdline}`);
    throw new Error(`Still running: ${left.join("; ")}; the script said: ${run.output()}`);
  });
  expect(await portFree(run.port)).toBe(true);
}

// Spawning npm and tsx is slow on a busy machine: the limit is generous, the assertions are about what is left running.
describe.skipIf(!LINUX)("stopping the desk's start script", { timeout: 120_000 }, () => {
  it("SIGTERM to `tsx scripts/start.ts` stops the server and everything it started", async () => {
    const run = await start("tsx");
    const tree = [run.outer.pid!, ...descendants(run.outer.pid!).map((p) => p.pid)];
    // The stand-in's server child and the watchdog are in the tree: there is something to leave behind.
    expect(tree.length).toBeGreaterThanOrEqual(5);
    process.kill(run.outer.pid!, "SIGTERM");
    expect(await run.exited).toBe(0);
    await expectAllGone(run, tree);
    expect(run.output()).toContain("Stopping the desk");
  });

  it("SIGTERM to `npm start` (which npm does not pass on) stops the server too", async () => {
    const run = await start("npm");
    const tree = [run.outer.pid!, ...descendants(run.outer.pid!).map((p) => p.pid)];
    expect(tree.some((pid) => stat(pid)?.cmdline.includes("stand-in-next.cjs server"))).toBe(true);
    process.kill(run.outer.pid!, "SIGTERM");
    await run.exited;
    await expectAllGone(run, tree);
  });

  it("a server that ignores SIGTERM is killed after DESK_STOP_GRACE_SECONDS", async () => {
    const run = await start("tsx", { STAND_IN_STUBBORN: "1", DESK_STOP_GRACE_SECONDS: "1" });
    const tree = [run.outer.pid!, ...descendants(run.outer.pid!).map((p) => p.pid)];
    process.kill(run.outer.pid!, "SIGTERM");
    await run.exited;
    await expectAllGone(run, tree);
  });

  it("a second signal kills at once, however long the grace", async () => {
    const run = await start("tsx", { STAND_IN_STUBBORN: "1", DESK_STOP_GRACE_SECONDS: "3600" });
    const tree = [run.outer.pid!, ...descendants(run.outer.pid!).map((p) => p.pid)];
    process.kill(run.outer.pid!, "SIGTERM");
    await waitFor(() => run.output().includes("Stopping the desk"), 30_000, 50);
    expect(await portAnswers(run.port)).toBe(true); // the stubborn server is still there…
    process.kill(run.outer.pid!, "SIGTERM");
    await expectAllGone(run, tree); // …until the second signal
  });

  it("SIGKILL of the outer process: the script sees it gone and stops the server", async () => {
    const run = await start("tsx");
    const tree = [run.outer.pid!, ...descendants(run.outer.pid!).map((p) => p.pid)];
    process.kill(run.outer.pid!, "SIGKILL");
    await expectAllGone(run, tree);
  });

  it("SIGKILL of the script itself: its watchdog stops the server", async () => {
    const run = await start("tsx");
    const below = descendants(run.outer.pid!);
    const tree = [run.outer.pid!, ...below.map((p) => p.pid)];
    // The script is the stand-in's parent.
    const standIn = below.find((p) => p.cmdline.includes("stand-in-next.cjs") && !p.cmdline.includes(" server"))!;
    const script = stat(standIn.pid)!.ppid;
    expect(stat(script)!.cmdline).toContain("scripts/start.ts");
    process.kill(script, "SIGKILL");
    await expectAllGone(run, tree);
  });
});
