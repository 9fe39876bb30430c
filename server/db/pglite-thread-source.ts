// The code of the embedded database's thread (see pglite-thread.ts). Plain
// JavaScript, evaluated as the worker: it needs no file of its own next to
// whatever bundle imports the desk's database module (Next.js's server
// bundles, tsx, vitest), and it loads PGlite from the path the desk's thread
// resolved, as the desk's own import does (PGlite is never bundled).
//
// Messages in: { id, op: "query", text, params, paramTypes?, name? },
// { id, op: "exec", text }, { id, op: "close" }.
// Messages out: { type: "ready", arrays } once open, { type: "failed", error }
// if it cannot open; then { id, ok: Uint8Array } (PGlite's answer, protocol
// messages, errors included) or { id, error } (a statement that could not even
// be prepared).
export const PGLITE_THREAD_SOURCE = String.raw`
"use strict";
const { parentPort, workerData } = require("node:worker_threads");

// PostgreSQL asks a relation file's size (lseek to its end) for the table and
// each of its indexes every time it plans a statement, and PGlite's Node file
// system answers each with an fstat: the largest single cost of this thread
// (some hundred a payout). Only this PGlite writes these files (the folder's
// lock file keeps every other process out) and every write, truncation and
// open passes through these functions, so the size each leaves is known. A
// size is remembered only once read from the file itself, grown by writes,
// and forgotten on anything else that could change it.
function rememberFileSizes(mod) {
  const FS = mod.FS;
  const NODEFS = mod.NODEFS;
  const ops = NODEFS.stream_ops;
  const sizes = new WeakMap();
  const forgetting = (original, nodeOf) =>
    function () {
      const node = nodeOf(arguments[0]);
      sizes.delete(node);
      try {
        return original.apply(this, arguments);
      } finally {
        sizes.delete(node);
      }
    };
  const { llseek, write } = ops;
  ops.llseek = function (stream, offset, whence) {
    if (whence !== 2 || !FS.isFile(stream.node.mode)) return llseek.apply(this, arguments);
    let size = sizes.get(stream.node);
    if (size === undefined) {
      size = llseek.call(this, stream, 0, 2);
      sizes.set(stream.node, size);
    }
    const position = size + offset;
    if (position < 0) throw new FS.ErrnoError(28);
    return position;
  };
  ops.write = function (stream, buffer, offset, length, position) {
    let written;
    try {
      written = write.apply(this, arguments);
    } catch (error) {
      sizes.delete(stream.node);
      throw error;
    }
    const known = sizes.get(stream.node);
    if (known !== undefined) {
      if (typeof position === "number" && position >= 0) sizes.set(stream.node, Math.max(known, position + written));
      else sizes.delete(stream.node);
    }
    return written;
  };
  ops.open = forgetting(ops.open, (stream) => stream.node);
  for (const name of ["setattr", "allocate", "mmap", "msync"]) if (ops[name]) ops[name] = forgetting(ops[name], (stream) => stream.node);
  for (const name of ["setattr"]) if (NODEFS.node_ops[name]) NODEFS.node_ops[name] = forgetting(NODEFS.node_ops[name], (node) => node);
}

(async () => {
  let db;
  let S;
  try {
    const pglite = require(workerData.pglitePath);
    const extensions = {};
    for (const { name, path } of workerData.extensions) extensions[name] = require(path)[name];
    S = pglite.protocol.serialize;
    db = await pglite.PGlite.create(workerData.dataDir, { extensions });
    rememberFileSizes(db.mod);
  } catch (error) {
    parentPort.postMessage({ type: "failed", error: { message: String((error && error.message) || error) } });
    return;
  }

  const step = (message) => db.execProtocolStream(message, { syncToFs: false });
  const raw = (parts) => {
    const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      bytes.set(p, at);
      at += p.length;
    }
    return db.execProtocolRaw(bytes, { syncToFs: false });
  };
  const parameterTypes = (described) => (described.find((m) => m.name === "parameterDescription") || { dataTypeIDs: [] }).dataTypeIDs;

  // Statements the desk names (its hot paths: server/db/raw.ts) are prepared
  // once, as on PostgreSQL, and from then on only bound and executed; their
  // plans are cached as PostgreSQL caches any prepared statement's. Others
  // (Prisma's, and statements shaped by a person's filters) are parsed and
  // planned for their values on every call, as PGlite's own query does.
  const prepared = new Map();
  async function statementFor(text, paramTypes, name) {
    if (name) {
      const known = prepared.get(name);
      if (known) return known;
      await step(S.parse({ name, text, types: paramTypes }));
      const made = { name, typeIds: parameterTypes(await step(S.describe({ type: "S", name }))) };
      prepared.set(name, made);
      return made;
    }
    await step(S.parse({ text, types: paramTypes }));
    return { name: "", typeIds: parameterTypes(await step(S.describe({ type: "S" }))) };
  }

  async function runQuery(text, params, paramTypes, name) {
    let statement;
    try {
      statement = await statementFor(text, paramTypes, name);
    } catch (error) {
      await step(S.sync());
      throw error;
    }
    const values = (params || []).map((value, i) => {
      if (value === null || value === undefined) return null;
      const serialize = db.serializers[statement.typeIds[i]];
      return serialize ? serialize(value) : value.toString();
    });
    // Bind, describe, execute and sync in one call into the database; the answer goes back as PGlite wrote it.
    const answer = await raw([S.bind({ statement: statement.name, values }), S.describe({ type: "P" }), S.execute({}), S.sync()]);
    if (!db.isInTransaction()) await db.syncToFs();
    return answer;
  }

  async function runExec(text) {
    const answer = await raw([S.query(text), S.sync()]);
    if (!db.isInTransaction()) await db.syncToFs();
    return answer;
  }

  // Keeping cached plans true to the data. PostgreSQL's autovacuum analyses a
  // table that changed by a tenth, which also makes prepared statements plan
  // again; PGlite has no autovacuum, so without this a plan chosen while a
  // table was small (a sequential scan of a few pages) would stay as it grew
  // to millions of rows. Between statements, never inside a transaction: any
  // table whose file grew by a fifth (and 8 pages) since it was last analysed
  // is analysed now.
  const ANALYZE_EVERY_MS = workerData.analyzeEveryMs || 5000;
  let analyzedAt = Date.now();
  async function analyzeGrown() {
    analyzedAt = Date.now();
    const answer = await db.query(
      "SELECT format('%I.%I', n.nspname, c.relname) AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace " +
        "WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%' " +
        "AND pg_relation_size(c.oid) / current_setting('block_size')::int > greatest(c.relpages, 0) * 1.2 + 8",
    );
    for (const row of answer.rows) await db.exec("ANALYZE " + row.name);
  }

  let queue = Promise.resolve();
  const later = (work) => {
    queue = queue.then(work, work);
  };
  parentPort.on("message", (m) => {
    later(async () => {
      if (m.op === "close") {
        await db.close();
        parentPort.postMessage({ id: m.id, ok: new Uint8Array(0) });
        parentPort.close();
        return;
      }
      try {
        const answer = m.op === "query" ? await runQuery(m.text, m.params, m.paramTypes, m.name) : await runExec(m.text);
        parentPort.postMessage({ id: m.id, ok: answer }, [answer.buffer]);
      } catch (error) {
        const fields = error && typeof error === "object" && error.name === "error" ? { ...error } : undefined;
        parentPort.postMessage({ id: m.id, error: { message: String((error && error.message) || error), fields } });
      }
      // PostgreSQL's own word on whether a transaction is open, whoever opened it.
      if (Date.now() - analyzedAt >= ANALYZE_EVERY_MS && !db.isInTransaction()) {
        await analyzeGrown().catch((error) => console.error("[db] analysing grown tables failed:", error && error.message));
      }
    });
  });

  const arrays = (
    await db.query(
      "SELECT b.oid, b.typarray FROM pg_catalog.pg_type a LEFT JOIN pg_catalog.pg_type b ON b.oid = a.typelem " +
        "WHERE a.typcategory = 'A' GROUP BY b.oid, b.typarray ORDER BY b.oid",
    )
  ).rows;
  parentPort.postMessage({ type: "ready", arrays });
})();
`;
