// Credential sign-in with throttling that cannot be turned against the
// account's owner. Failures are counted per (account, client address) pair:
// after a few, that pair must wait before its next try, the wait doubling with
// each further failure. Someone guessing at the approver's password from their
// own machine slows only themselves; the approver signing in from theirs is
// never refused because of it. A ceiling per client address stops one client
// spraying many accounts. Attempts live in the database so the limits hold
// across processes and restarts.
import type { Db, Tx } from "./types";
import { dummyVerify, verifyPassword } from "@/server/auth/password";
import { isRole } from "@/server/auth/roles";
import { audit } from "./audit";
import { TooManyAttempts } from "./errors";

export const SIGN_IN_LIMITS = {
  /** Failures a pair may have before its attempts are spaced out. */
  freeFailures: 3,
  /** The first wait; each further failure doubles it. */
  firstDelaySeconds: 1,
  /** The longest wait between two attempts of one pair. */
  maxDelaySeconds: 15 * 60,
  /**
   * How long a pair's failures count (a success from the pair clears them).
   * Long enough that at the longest wait the count never falls back under the
   * cap: 24 h at one try per 15 min is 96 tries, far above the ~13 that reach it.
   */
  pairMemoryHours: 24,
  /** Failures one client address may have across all accounts in the window below. */
  perIpFailures: 30,
  perIpWindowMinutes: 15,
};

export interface SignedInUser {
  id: string;
  email: string;
  name: string;
  role: "viewer" | "maker" | "approver" | "admin";
}

export interface SignInOptions {
  /** The clock (tests move it instead of sleeping). */
  now?: () => Date;
}

/** A sign-in refused before the password was looked at; says how long to wait. */
export class SignInThrottled extends TooManyAttempts {
  constructor(
    readonly retryAfterSeconds: number,
    readonly scope: "account-and-address" | "address",
  ) {
    super(
      scope === "address"
        ? `Too many failed sign-in attempts from your network address (at most ${SIGN_IN_LIMITS.perIpFailures} in ${SIGN_IN_LIMITS.perIpWindowMinutes} minutes). Wait ${waitInWords(retryAfterSeconds)} and try again.`
        : `Too many failed sign-in attempts for this account from your network address. Wait ${waitInWords(retryAfterSeconds)} and try again; each further wrong password doubles the wait, up to ${waitInWords(SIGN_IN_LIMITS.maxDelaySeconds)}.`,
    );
    this.name = "SignInThrottled";
  }
}

/** The wait a pair owes after `failures` failures in a row (0 while under the free allowance). */
export function pairDelaySeconds(failures: number): number {
  const over = failures - SIGN_IN_LIMITS.freeFailures;
  if (over < 0) return 0;
  // Exponent capped before Math.pow so a huge count cannot overflow to Infinity.
  return Math.min(SIGN_IN_LIMITS.firstDelaySeconds * 2 ** Math.min(over, 30), SIGN_IN_LIMITS.maxDelaySeconds);
}

/** "1 second", "45 seconds", "1 minute", "15 minutes": rounded up, so waiting that long is always enough. */
export function waitInWords(seconds: number): string {
  const whole = Math.max(1, Math.ceil(seconds));
  if (whole < 60) return whole === 1 ? "1 second" : `${whole} seconds`;
  const minutes = Math.ceil(whole / 60);
  return minutes === 1 ? "1 minute" : `${minutes} minutes`;
}

/** Returns the user, null for wrong credentials, or throws SignInThrottled (a TooManyAttempts). */
export async function signIn(db: Db, emailInput: string, password: string, ip: string, options: SignInOptions = {}): Promise<SignedInUser | null> {
  const now = options.now?.() ?? new Date();
  const email = emailInput.trim().toLowerCase();

  // Check the limits and record this attempt (as failed until the password
  // proves right) in one step under a lock per client address, so parallel
  // requests from one client cannot all slip through the same open slot.
  // The password hash is checked after the lock is released.
  const attemptId = await db.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(${SIGN_IN_LOCK_CLASS}::int4, hashtext(${ip}))`;
    await enforceLimits(tx, email, ip, now);
    const attempt = await tx.signInAttempt.create({ data: { email, ip, success: false, at: now }, select: { id: true } });
    return attempt.id;
  });

  const user = await db.user.findUnique({ where: { email } });
  const ok = user && !user.disabled ? await verifyPassword(user.passwordHash, password) : await dummyVerify(password).then(() => false);
  if (!ok || !user || !isRole(user.role)) {
    // Audited too. No actor: nobody proved who they are; the account tried (when it exists) is the object.
    await audit(db, {
      action: "user.sign_in_failed",
      entityType: "user",
      entityId: user?.id ?? null,
      details: { email: email.slice(0, 254), reason: !user ? "unknown email" : user.disabled ? "account disabled" : "wrong password" },
      ip,
    });
    return null;
  }
  await db.signInAttempt.update({ where: { id: attemptId }, data: { success: true } });
  await audit(db, { actorId: user.id, action: "user.sign_in", entityType: "user", entityId: user.id, ip });
  return { id: user.id, email: user.email, name: user.name, role: user.role };
}

// Two-key advisory locks live apart from the one-key ones (the migration lock);
// the first key names this use ("sign" in ASCII).
const SIGN_IN_LOCK_CLASS = 0x7369676e;

async function enforceLimits(tx: Tx, email: string, ip: string, now: Date): Promise<void> {
  // "After the last success" by row id, not time: a failure in the same
  // millisecond as the success must still count.
  const lastSuccess = await tx.signInAttempt.findFirst({
    where: { email, ip, success: true },
    orderBy: { id: "desc" },
    select: { id: true },
  });
  const memoryStart = new Date(now.getTime() - SIGN_IN_LIMITS.pairMemoryHours * 3_600_000);
  const pairFailures = { email, ip, success: false, at: { gt: memoryStart }, ...(lastSuccess ? { id: { gt: lastSuccess.id } } : {}) };
  const failures = await tx.signInAttempt.count({ where: pairFailures });
  const delay = pairDelaySeconds(failures);
  if (delay > 0) {
    const last = await tx.signInAttempt.findFirst({ where: pairFailures, orderBy: { id: "desc" }, select: { at: true } });
    const waitMs = last!.at.getTime() + delay * 1000 - now.getTime();
    if (waitMs > 0) throw new SignInThrottled(waitMs / 1000, "account-and-address");
  }

  const windowMs = SIGN_IN_LIMITS.perIpWindowMinutes * 60_000;
  // The oldest failure among the address's latest `perIpFailures`: when it
  // leaves the window, the address is under the ceiling again.
  const oldestCounted = await tx.signInAttempt.findFirst({
    where: { ip, success: false, at: { gt: new Date(now.getTime() - windowMs) } },
    orderBy: { at: "desc" },
    skip: SIGN_IN_LIMITS.perIpFailures - 1,
    select: { at: true },
  });
  if (oldestCounted) {
    const waitMs = oldestCounted.at.getTime() + windowMs - now.getTime();
    if (waitMs > 0) throw new SignInThrottled(waitMs / 1000, "address");
  }
}
