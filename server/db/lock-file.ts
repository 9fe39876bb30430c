// A pid lock file. PGlite lets a second process open the same data folder
// without any error and then silently loses that process's writes, so the
// embedded database guards its folder with one of these.
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from "node:fs";
import path from "node:path";

export class LockedError extends Error {
  constructor(
    message: string,
    readonly pid: number,
  ) {
    super(message);
    this.name = "LockedError";
  }
}

export interface LockOptions {
  /** Builds the error shown when a live process holds the lock. */
  describeHolder: (pid: number) => string;
}

/** Takes the lock or throws LockedError; returns the release function (also run on process exit). */
export function acquireLockFile(lockPath: string, options: LockOptions): () => void {
  mkdirSync(path.dirname(lockPath), { recursive: true });
  // Two rounds: the second runs after a stale lock was moved aside.
  for (let round = 0; round < 2; round++) {
    if (tryCreate(lockPath)) return releaser(lockPath);
    let holder = readPid(lockPath);
    if (holder === 0) {
      // Maybe created a moment ago and not yet written: look once more before calling it stale.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
      holder = readPid(lockPath);
    }
    if (holder === undefined) continue; // vanished (released) in between: try again
    if (holder === process.pid) {
      throw new LockedError(`${options.describeHolder(holder)} (this process already has it open)`, holder);
    }
    if (isAlive(holder)) throw new LockedError(options.describeHolder(holder), holder);
    takeOverStale(lockPath, holder);
  }
  throw new Error(`Could not take the lock ${lockPath}: another process keeps replacing it.`);
}

function tryCreate(lockPath: string): boolean {
  let fd: number;
  try {
    fd = openSync(lockPath, "wx"); // O_CREAT | O_EXCL: only one creator wins
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  }
  try {
    writeSync(fd, `${process.pid}\n`);
  } finally {
    closeSync(fd);
  }
  return true;
}

function readPid(lockPath: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(lockPath, "utf8").trim(), 10);
    // 0 = empty or garbled: a writer that died mid-write (stale), or one still writing.
    return Number.isFinite(pid) && pid > 0 ? pid : 0;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

export function isAlive(pid: number): boolean {
  if (pid <= 0) return false;
  try {
    process.kill(pid, 0); // signal 0: existence check only
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to another user, so it is alive.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function takeOverStale(lockPath: string, stalePid: number): void {
  // Rename is atomic: of two processes taking over the same stale lock, one
  // moves it and the other gets ENOENT and retries the exclusive create.
  const aside = `${lockPath}.stale-${process.pid}`;
  try {
    renameSync(lockPath, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
    throw error;
  }
  // If a live holder replaced the stale file just before our rename, put it back.
  const moved = readPid(aside);
  if (moved !== stalePid && moved !== undefined && isAlive(moved) && !existsSync(lockPath)) {
    renameSync(aside, lockPath);
    return;
  }
  unlinkSync(aside);
}

function releaser(lockPath: string): () => void {
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    process.off("exit", release);
    // Only remove the file if it is still ours (never another process's lock).
    if (readPid(lockPath) === process.pid) unlinkSync(lockPath);
  };
  // Crashes and signals skip this; the next opener then finds a dead pid and takes over.
  process.on("exit", release);
  return release;
}
