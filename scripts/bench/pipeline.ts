// npm run bench:pipeline [-- --payouts 1000 --workers 2 --db both|pglite|postgres --providers pawapay|all] [--approve-first]
//
// Payouts per second from approval to all final, against the built-in
// emulators over real HTTP: on the embedded PGlite (one process, workers in
// it, as `npm start` runs) and on PostgreSQL with separate worker processes
// (`npm run workers`, as deployed at scale). Also counted at the emulators:
// payouts held twice (must be 0), and status checks made of payouts already final.
//
// Also printed: the CPU a payout cost in each process over the timed window
// (from /proc: this process, the workers, the PostgreSQL server), to see where
// it goes; on a shared machine it varies from run to run as throughput does.
//
// --approve-first: all payouts are approved before the workers start, and the
// time runs from the first send: sending and settling alone, without approvals
// competing for the same cores.
import { PROVIDER_CASES } from "@/server/testing/provider-cases";
import {
  approveAll,
  cpuPerPayout,
  cpuSnapshot,
  createPayouts,
  type Desk,
  describeNotFinal,
  duplicatesAtProviders,
  noSenders,
  numberArg,
  openDesk,
  type PlannedPayout,
  postgresAdminUrl,
  startSenders,
  stopSenders,
  stringArg,
  waitAllFinal,
} from "../lib/pipeline-kit";

const payouts = numberArg("payouts", 1000);
const workerCount = numberArg("workers", 2);
const which = stringArg("db", postgresAdminUrl() ? "both" : "pglite");
const providers = stringArg("providers", "pawapay");
const approveFirst = process.argv.includes("--approve-first");

function plan(n: number): PlannedPayout[] {
  const cases = providers === "all" ? PROVIDER_CASES : PROVIDER_CASES.filter((c) => c.provider === providers);
  if (cases.length === 0) throw new Error(`--providers: pawapay, muda, paytota, praxis, pontis or all, not "${providers}"`);
  return Array.from({ length: n }, (_, i) => {
    const c = cases[i % cases.length]!;
    return { provider: c.provider, fields: { ...c.success, description: `Bench ${i}` }, expected: "succeeded" };
  });
}

interface Figures {
  db: string;
  payouts: number;
  approveSeconds: number;
  finalSeconds: number;
  perSecond: number;
  notFinal: number;
  duplicates: number;
  statusChecksOfFinal: number;
  statusChecks: number;
  cpu: string;
}

async function run(kind: "pglite" | "postgres"): Promise<Figures> {
  const desk: Desk = await openDesk(kind);
  const senders = noSenders();
  try {
    desk.t.desk.connectorDeps = { timeoutMs: 15_000 };
    const planned = plan(payouts);
    process.stdout.write(`[${kind}] creating ${payouts} payouts… `);
    const ids = await createPayouts(desk, planned);
    console.log("done");
    let t0: number;
    let cpuFrom;
    if (approveFirst) {
      const approving = Date.now();
      await approveAll(desk, ids);
      console.log(`[${kind}] approved ${payouts} in ${((Date.now() - approving) / 1000).toFixed(1)} s (no sending meanwhile)`);
      t0 = Date.now();
      await startSenders(desk, workerCount, senders);
      cpuFrom = cpuSnapshot();
    } else {
      await startSenders(desk, workerCount, senders);
      cpuFrom = cpuSnapshot();
      t0 = Date.now();
      await approveAll(desk, ids);
    }
    const approved = Date.now();
    let shown = 0;
    const notFinal = await waitAllFinal(desk, ids, t0 + 600_000, (final) => {
      if (final - shown >= payouts / 10) {
        shown = final;
        process.stdout.write(`\r[${kind}] ${final} / ${payouts} final`);
      }
    });
    const done = Date.now();
    const cpu = cpuPerPayout(cpuFrom, cpuSnapshot(), payouts, kind === "pglite");
    if (notFinal > 0) await describeNotFinal(desk, ids, senders.workers);
    if (approveFirst) {
      // From the first send, not from the workers' start (loading a process takes seconds).
      const [first] = await desk.t.desk.db.$queryRaw<Array<{ at: Date }>>`SELECT min("submittedAt") AS at FROM "Payout" WHERE id::text = ANY(${ids}::text[])`;
      t0 = first!.at.getTime();
    }
    console.log("");
    const [checks] = await desk.t.desk.db.$queryRaw<Array<{ total: number; late: number }>>`
      SELECT count(*)::int AS total, count(*) FILTER (WHERE c."at" > p."finalizedAt")::int AS late
      FROM "ProviderCall" c JOIN "Payout" p ON p.id = c."payoutId"
      WHERE c.operation ILIKE '%status%'`;
    return {
      db: (kind === "pglite" ? "PGlite (one process)" : `PostgreSQL (${workerCount} worker processes)`) + (approveFirst ? ", sending only" : ""),
      payouts,
      approveSeconds: (approved - t0) / 1000,
      finalSeconds: (done - t0) / 1000,
      perSecond: (payouts - notFinal) / ((done - t0) / 1000),
      notFinal,
      duplicates: await duplicatesAtProviders(desk, ids),
      statusChecksOfFinal: Number(checks?.late ?? 0),
      statusChecks: Number(checks?.total ?? 0),
      cpu,
    };
  } finally {
    await stopSenders(senders);
    await desk.close();
  }
}

const results: Figures[] = [];
for (const kind of which === "both" ? (["pglite", "postgres"] as const) : [which as "pglite" | "postgres"]) {
  results.push(await run(kind));
}
console.log(
  `\nbench:pipeline — ${payouts} payouts to ${providers === "all" ? "the five emulators" : `the ${providers} emulator`}, ${approveFirst ? "workers' start" : "approval"} to all final (target ≥ 100/s, 0 duplicates)`,
);
for (const r of results) {
  console.log(
    `  ${r.db.padEnd(32)} ${r.perSecond.toFixed(1).padStart(7)} payouts/s   all final in ${r.finalSeconds.toFixed(1)} s${approveFirst ? "" : ` (approvals took ${r.approveSeconds.toFixed(1)} s)`}` +
      `   not final: ${r.notFinal}   duplicates at the emulators: ${r.duplicates}   status checks: ${r.statusChecks} (of payouts already final: ${r.statusChecksOfFinal})` +
      `\n  ${"".padEnd(32)} ${r.cpu}`,
  );
}
process.exit(results.some((r) => r.duplicates > 0 || r.notFinal > 0) ? 1 : 0);
