// npm run test:faults [-- --payouts 200 --kills 10 --window 600 --storm 40]
//
// The crash drill, as an operator would run it: PostgreSQL; this process
// plays the web side (the built-in emulators, which keep their state for the
// whole drill, and the callback route) and separate worker processes
// (`scripts/workers.ts`, as deployed) do the sending; the five emulators
// inject faults (500, garbage, timeout, slow, dropped after accepting) on
// sends and status queries for the first `--storm` seconds (a fault no request
// meets within 3 s lapses, as a provider's blip does) while a worker is killed
// with SIGKILL at random moments and started again; after the storm the desk
// must bring every payout to its final status within the window. Prints, and fails on: payouts held twice at a
// provider, wrong final statuses, payouts not final within the window, and
// an approval-to-send time over two minutes.
import { PROVIDER_CASES } from "@/server/testing/provider-cases";
import { sandboxEmulator } from "@/server/services/sandbox-hosting";
import type { ProviderKind } from "@/server/connectors/types";
import {
  approveAll,
  createPayouts,
  duplicatesAtProviders,
  numberArg,
  openDesk,
  postgresAdminUrl,
  sleep,
  spawnWorker,
  waitAllFinal,
  describeNotFinal,
  waitForWorkers,
  wrongFinalStatuses,
  type Desk,
  type PlannedPayout,
  type WorkerProcess,
} from "../lib/pipeline-kit";

const payouts = numberArg("payouts", 200);
const killsWanted = numberArg("kills", 10);
const windowSeconds = numberArg("window", 600);
const stormSeconds = numberArg("storm", 40);
const workerCount = 2;
const MAX_APPROVAL_TO_SEND_SECONDS = 120;

if (!postgresAdminUrl()) {
  console.log("test:faults skipped: it needs PostgreSQL (set TEST_DATABASE_URL, as .ci/run does).");
  process.exit(0);
}

/** Four in five succeed, one in five fails by the provider's sandbox rules, spread over the five emulators. */
function plan(n: number): PlannedPayout[] {
  return Array.from({ length: n }, (_, i) => {
    const c = PROVIDER_CASES[i % PROVIDER_CASES.length]!;
    const fails = i % 5 === 4;
    const { failureCode: _code, ...failure } = c.failure;
    const fields = fails ? failure : c.success;
    return { provider: c.provider, fields: { ...fields, description: `Drill ${i}` }, expected: fails ? "failed" : "succeeded" };
  });
}

/** The payout-creating call and the status query of each emulator, by its own name. */
const OPERATIONS: Record<ProviderKind, [string, string]> = {
  pawapay: ["payout", "status"],
  muda: ["payout", "status"],
  paytota: ["initiate", "status"],
  praxis: ["payout", "status"],
  pontis: ["send", "status"],
};
const MODES = ["500", "garbage", "timeout", "slow", "drop-after-accept"] as const;

function pick<T>(items: readonly T[]): T {
  return items[Math.floor(Math.random() * items.length)]!;
}

const desk: Desk = await openDesk("postgres");
const workers: Array<WorkerProcess | null> = [];
const log = (line: string) => (/\[desk\] cannot start|Error:/.test(line) ? console.log(`  [worker] ${line}`) : undefined);
let stopping = false;
let kills = 0;
let faults = 0;

try {
  const planned = plan(payouts);
  const ids = await createPayouts(desk, planned);
  for (let i = 0; i < workerCount; i++) workers.push(spawnWorker(desk, { DESK_PROVIDER_TIMEOUT_SECONDS: "5" }, log));
  await waitForWorkers(desk, workerCount);
  console.log(`test:faults — ${payouts} payouts over the five emulators, ${workerCount} worker processes, faults for ${stormSeconds} s, ${killsWanted} kills`);

  // Faults: several times a second during the storm, one emulator breaks its next answer or two.
  const stormEnds = Date.now() + stormSeconds * 1000;
  const injector = (async () => {
    while (!stopping && Date.now() < stormEnds) {
      const provider = pick(Object.keys(OPERATIONS) as ProviderKind[]);
      const emulator = (await sandboxEmulator(provider, desk.t.desk)) as unknown as { injectFault(fault: object): Promise<void> | void };
      const mode = pick(MODES);
      // A fault no request meets within 3 s lapses: an outage is a blip. Faults that never lapsed,
      // injected for the whole window, piled up on a quiet operation until the last payout's every
      // status check met one and its next check fell after the window.
      await emulator.injectFault({ mode, count: 1 + Math.floor(Math.random() * 2), operation: pick(OPERATIONS[provider]), delayMs: 2_000, lapsesAt: Date.now() + 3_000 });
      faults++;
      await sleep(250 + Math.random() * 500);
    }
  })();

  // Kills: a worker process dies with SIGKILL at a random moment and a new one starts.
  const killer = (async () => {
    await sleep(500);
    while (!stopping && kills < killsWanted) {
      await sleep(1500 + Math.random() * 3500);
      const slot = Math.floor(Math.random() * workers.length);
      const victim = workers[slot];
      if (!victim) continue;
      victim.child.kill("SIGKILL");
      await victim.exited;
      kills++;
      workers[slot] = spawnWorker(desk, { DESK_PROVIDER_TIMEOUT_SECONDS: "5" }, log);
    }
  })();

  await approveAll(desk, ids);
  const deadline = Date.now() + windowSeconds * 1000;
  // Keep killing until the wanted number is reached, even if the payouts settle first.
  await killer;
  const notFinal = await waitAllFinal(desk, ids, deadline);
  if (notFinal > 0) await describeNotFinal(desk, ids, workers.filter((w): w is NonNullable<typeof w> => w !== null));
  stopping = true;
  await injector;

  const duplicates = await duplicatesAtProviders(desk, ids);
  const wrong = await wrongFinalStatuses(desk, ids, planned);
  const [slowest] = await desk.t.desk.db.$queryRaw<Array<{ seconds: number | null }>>`
    SELECT max(extract(epoch FROM (COALESCE("submittedAt", now()) - "approvedAt")))::float AS seconds
    FROM "Payout" WHERE id::text = ANY(${ids}::text[])`;
  const longest = Number(slowest?.seconds ?? 0);
  const byStatus = await desk.t.desk.db.payout.groupBy({ by: ["status"], where: { id: { in: ids } }, _count: true });

  console.log(`  worker kills (SIGKILL): ${kills}    faults injected: ${faults}`);
  console.log(`  final statuses: ${byStatus.map((s) => `${s.status} ${s._count}`).join(", ")}`);
  console.log(`  duplicates at the emulators: ${duplicates}`);
  console.log(`  wrong final statuses: ${wrong.length}${wrong.length ? ` (${wrong.slice(0, 5).map((w) => `${w.id} ${w.actual}≠${w.expected}`).join("; ")})` : ""}`);
  console.log(`  not final after the window (${windowSeconds} s): ${notFinal}`);
  console.log(`  longest approval-to-send: ${longest.toFixed(1)} s (limit ${MAX_APPROVAL_TO_SEND_SECONDS} s)`);
  const failed = duplicates > 0 || wrong.length > 0 || notFinal > 0 || longest > MAX_APPROVAL_TO_SEND_SECONDS || kills < killsWanted;
  console.log(failed ? "test:faults FAILED" : "test:faults passed");
  process.exitCode = failed ? 1 : 0;
} finally {
  stopping = true;
  for (const w of workers) w?.child.kill("SIGKILL");
  await Promise.all(workers.map((w) => w?.exited));
  await desk.close();
}
process.exit(process.exitCode ?? 0);
