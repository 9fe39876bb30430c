// The embedded database on a thread of its own. PGlite is PostgreSQL compiled
// to WebAssembly: every statement runs synchronously on the thread that owns
// it. In the desk's process that thread also serves the pages, the API, the
// built-in emulators and the workers, so on the embedded default they and the
// database took turns on one core while the machine's other core idled (the
// pipeline bench: PGlite's WebAssembly and its file calls were about 60% of
// the process's CPU). Here PGlite runs on a worker thread of the same process
// (the same folder, the same single process holding it), and this side
// speaks to it in whole statements.
//
// The same guarantees as PGlite's own interface, which this one stands in
// for (Prisma's adapter and the raw executor use it unchanged): one
// connection, so a transaction has the database to itself until it ends
// (statements from outside wait here, in order, and are never sent into it);
// a statement outside a transaction commits on its own; results are read here
// with PGlite's own protocol parser and type parsers; errors are PGlite's
// DatabaseError, with the statement. Statements outside a transaction are
// sent without waiting for the previous answer, so the database thread has
// the next one at hand.
import { createRequire } from "node:module";
import path from "node:path";
import { Worker } from "node:worker_threads";
import { messages, parse, protocol, types, type PGlite, type QueryOptions, type Results, type Transaction } from "@electric-sql/pglite";
import { PGLITE_EXTENSION_MODULES } from "./pglite-extensions";
import { PGLITE_THREAD_SOURCE } from "./pglite-thread-source";

/** The part of PGlite's interface the desk uses: Prisma's adapter, the raw executor, the folder's opener. */
export type PGliteLike = Pick<PGlite, "query" | "exec" | "transaction" | "close" | "closed">;

type BackendMessage = Parameters<typeof parse.parseResults>[0][number];
type Parsers = Parameters<typeof parse.parseResults>[1];

interface ErrorReply {
  message: string;
  /** A DatabaseError's fields (code, detail, constraint…), when it was one. */
  fields?: Record<string, unknown>;
}

export interface ThreadOptions {
  /** How often (at most) the thread looks for tables grown enough to analyse again; default 5 s. */
  analyzeEveryMs?: number;
}

/** Opens the PGlite folder on its own thread; rejects with PGlite's reason if it cannot. */
export async function openPgliteThread(dataDir: string, options: ThreadOptions = {}): Promise<ThreadPGlite> {
  const worker = new Worker(PGLITE_THREAD_SOURCE, {
    eval: true,
    workerData: {
      dataDir,
      pglitePath: resolvePackage("@electric-sql/pglite"),
      extensions: Object.entries(PGLITE_EXTENSION_MODULES).map(([name, specifier]) => ({ name, path: resolvePackage(specifier) })),
      analyzeEveryMs: options.analyzeEveryMs,
    },
  });
  const arrays = await new Promise<Array<{ oid: number; typarray: number }>>((resolve, reject) => {
    const exited = (code: number) => reject(new Error(`The embedded database's thread stopped while opening (exit ${code})`));
    worker.once("error", reject);
    worker.once("exit", exited);
    worker.once("message", (m: { type: string; arrays?: Array<{ oid: number; typarray: number }>; error?: { message: string } }) => {
      worker.off("error", reject);
      worker.off("exit", exited);
      if (m.type === "ready") return resolve(m.arrays ?? []);
      void worker.terminate();
      reject(new Error(m.error?.message ?? "The embedded database did not open"));
    });
  });
  return new ThreadPGlite(worker, arrays);
}

/** PGlite's CommonJS entry points, found from this module (or, where a bundle hides it, the working folder). */
function resolvePackage(specifier: string): string {
  try {
    return createRequire(import.meta.url).resolve(specifier);
  } catch {
    return createRequire(path.join(process.cwd(), "package.json")).resolve(specifier);
  }
}

export class ThreadPGlite implements PGliteLike {
  private readonly calls = new Map<number, { resolve: (answer: Uint8Array) => void; reject: (error: unknown) => void }>();
  private nextId = 1;
  private readonly parsers: Parsers = {};
  private isClosed = false;
  private stopped: Error | null = null;
  private transactionOpen = false;
  private readonly waiting: Array<() => void> = [];

  constructor(
    private readonly worker: Worker,
    arrays: Array<{ oid: number; typarray: number }>,
  ) {
    // Array types' parsers, as PGlite builds them once open.
    for (const { oid, typarray } of arrays) {
      if (typarray) this.parsers[typarray] = (value: string) => types.arrayParser(value, (v: string) => types.parseType(v, oid, this.parsers), typarray);
    }
    worker.on("message", (m: { id: number; ok?: Uint8Array; error?: ErrorReply }) => {
      const call = this.calls.get(m.id);
      if (!call) return;
      this.calls.delete(m.id);
      if (m.error) call.reject(rebuildError(m.error));
      else call.resolve(m.ok ?? new Uint8Array(0));
    });
    const gone = (reason: Error) => {
      this.stopped ??= reason;
      for (const call of this.calls.values()) call.reject(this.stopped);
      this.calls.clear();
    };
    worker.on("error", (error) => gone(error instanceof Error ? error : new Error(String(error))));
    worker.on("exit", (code) => gone(new Error(`The embedded database's thread stopped (exit ${code})`)));
  }

  get closed(): boolean {
    return this.isClosed;
  }

  query<T>(text: string, params?: unknown[], options?: QueryOptions): Promise<Results<T>> {
    return this.afterTransaction(() => this.runQuery<T>(text, params, options));
  }

  /**
   * A statement prepared once under `name` and then only executed, its plan
   * cached as PostgreSQL caches a prepared statement's (server/db/raw.ts
   * names the hot paths' statements). One name, one text.
   */
  queryNamed<T>(name: string, text: string, params?: unknown[]): Promise<Results<T>> {
    return this.afterTransaction(() => this.runQuery<T>(text, params, undefined, name));
  }

  exec(text: string, options?: QueryOptions): Promise<Results[]> {
    return this.afterTransaction(() => this.runExec(text, options));
  }

  transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
    return this.afterTransaction(() => this.runTransaction(fn));
  }

  private async runTransaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
    this.transactionOpen = true;
    try {
      await this.runExec("BEGIN");
      let ended = false;
      const open = () => {
        if (ended) throw new Error("Transaction is closed");
      };
      const tx = {
        query: async <R>(text: string, params?: unknown[], options?: QueryOptions) => (open(), this.runQuery<R>(text, params, options)),
        exec: async (text: string, options?: QueryOptions) => (open(), this.runExec(text, options)),
        rollback: async () => {
          open();
          ended = true;
          await this.runExec("ROLLBACK");
        },
        get closed() {
          return ended;
        },
      } as unknown as Transaction;
      try {
        const result = await fn(tx);
        if (!ended) {
          ended = true;
          const [committed] = await this.runExec("COMMIT");
          // A failed statement inside leaves the transaction aborted: COMMIT then rolls back.
          if (committed?.command === "ROLLBACK") throw new Error("The transaction was aborted by an earlier error and rolled back");
        }
        return result;
      } catch (error) {
        if (!ended) {
          ended = true;
          await this.runExec("ROLLBACK").catch(() => {});
        }
        throw error;
      }
    } finally {
      this.transactionOpen = false;
      for (const wake of this.waiting.splice(0)) wake();
    }
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    await this.afterTransaction(async () => {
      if (!this.stopped) await this.send({ op: "close" }).catch(() => {});
    });
    this.stopped ??= new Error("The embedded database is closed");
    await this.worker.terminate().catch(() => {});
  }

  /**
   * Runs `start` once no transaction holds the database, in the same turn
   * as it finds none (no await in between), so a transaction cannot open
   * between that look and the statement `start` sends.
   */
  private async afterTransaction<T>(start: () => Promise<T>): Promise<T> {
    while (this.transactionOpen) await new Promise<void>((resolve) => this.waiting.push(resolve));
    return start();
  }

  private send(message: Record<string, unknown>): Promise<Uint8Array> {
    if (this.stopped) return Promise.reject(this.stopped);
    const id = this.nextId++;
    return new Promise<Uint8Array>((resolve, reject) => {
      this.calls.set(id, { resolve, reject });
      this.worker.postMessage({ ...message, id });
    });
  }

  private async runQuery<T>(text: string, params: unknown[] | undefined, options?: QueryOptions, name?: string): Promise<Results<T>> {
    const answer = await this.send({ op: "query", text, params: params ?? [], paramTypes: options?.paramTypes, name }).catch((error: unknown) => {
      throw withStatement(error, text, params);
    });
    return this.read(answer, options, text, params)[0] as Results<T>;
  }

  private async runExec(text: string, options?: QueryOptions): Promise<Results[]> {
    const answer = await this.send({ op: "exec", text }).catch((error: unknown) => {
      throw withStatement(error, text, undefined);
    });
    return this.read(answer, options, text, undefined);
  }

  /** Reads PGlite's answer as its own query does; an error in it is thrown with the statement. */
  private read(answer: Uint8Array, options: QueryOptions | undefined, text: string, params: unknown[] | undefined): Results[] {
    const list: BackendMessage[] = [];
    new protocol.Parser().parse(answer, (message) => list.push(message));
    const failed = list.find((message) => message instanceof messages.DatabaseError);
    if (failed) throw withStatement(failed, text, params);
    return parse.parseResults(list, this.parsers, options);
  }
}

/** PGlite's DatabaseError again (Prisma's adapter maps by its class: a unique violation becomes P2002). */
function rebuildError(reply: ErrorReply): Error {
  if (!reply.fields) return new Error(reply.message);
  const error = new messages.DatabaseError(reply.message, 0, "error");
  Object.assign(error, reply.fields);
  error.message = reply.message;
  return error;
}

function withStatement(error: unknown, query: string, params: unknown[] | undefined): unknown {
  if (error instanceof messages.DatabaseError) Object.assign(error, { query, params });
  return error;
}
