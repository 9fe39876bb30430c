// tRPC foundation. There is no bare `procedure` export: every procedure is
// built with `procedure(roles)`, so a procedure that does not declare who may
// call it does not compile (and a test walks the router to check the meta).
import { initTRPC, TRPCError } from "@trpc/server";
import superjson from "superjson";
import { ZodError } from "zod";
import type { Role } from "@/server/auth/roles";
import type { Actor, Desk } from "@/server/services/types";
import { Conflict, FieldErrors, Forbidden, NotFound, TooManyAttempts } from "@/server/services/errors";
import { MoneyError } from "@/server/domain/money";
import { TransitionError } from "@/server/domain/payout-state";
import { StepUpRequired } from "@/server/auth/step-up";
import { capForLog, inputSize, inspectInput, RESERVED_KEYS } from "./input-guard";

export interface Context {
  desk: Desk;
  actor: Actor | null;
  ip: string;
  /** The signed-in browser's UserSession id (the second factor's step-up is per session); null when anonymous. */
  sessionId?: string | null;
}

export interface Meta {
  /** Who may call this procedure; "public" only for sign-in-adjacent reads. */
  roles: readonly Role[] | "public";
  /** Top-level input fields that are searches: characters that cannot be stored are dropped there, not refused. */
  searchFields?: readonly string[];
}

const t = initTRPC
  .context<Context>()
  .meta<Meta>()
  .create({
    transformer: superjson,
    errorFormatter({ shape, error }) {
      const fieldErrors = fieldErrorsOf(error);
      // zod's own message is its issues as JSON (with regexes); say "field: rule" like the services do.
      const message = error.cause instanceof ZodError && fieldErrors ? describeFields(fieldErrors) : shape.message;
      // A step-up answer carries a flag the client acts on (useStepUp asks for a code and retries), and why.
      const stepUp = error.cause instanceof StepUpRequired ? { stepUpRequired: true as const, stepUpReason: error.cause.reason } : {};
      // A plain object again for the wire; its keys are safe (see fieldErrorsOf).
      return { ...shape, message, data: { ...shape.data, fieldErrors: fieldErrors && { ...fieldErrors }, ...stepUp, stack: undefined } };
    },
  });

/**
 * The per-field messages of a refused input (form fields → message), or null.
 * Built without a prototype and with reserved names renamed: a field called
 * `constructor` or `__proto__` must neither hide behind Object.prototype nor
 * break superjson, which refuses to serialise such keys.
 */
export function fieldErrorsOf(error: TRPCError): Record<string, string> | null {
  const cause = error.cause;
  const entries: Array<[string, string]> = [];
  if (cause instanceof FieldErrors) entries.push(...Object.entries(cause.fields));
  else if (cause instanceof ZodError) for (const issue of cause.issues) entries.push([issue.path.map(String).join(".") || "input", issue.message]);
  else return null;
  const fields: Record<string, string> = Object.create(null);
  for (const [field, message] of entries) {
    const key = RESERVED_KEYS.has(field) ? `input.${field}` : field;
    if (!Object.hasOwn(fields, key)) fields[key] = message;
  }
  return fields;
}

function describeFields(fields: Record<string, string>): string {
  return capForLog(
    Object.entries(fields)
      .map(([field, message]) => `${field}: ${message}`)
      .join("; "),
    1000,
  );
}

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;

/** Turns the services' errors into tRPC codes with the message intact, and logs refusals in bounded size. */
const translateErrors = t.middleware(async ({ next, path, type, getRawInput }) => {
  const result = await next();
  if (!result.ok) {
    const cause = result.error.cause;
    const code =
      cause instanceof FieldErrors || cause instanceof MoneyError
        ? "BAD_REQUEST"
        : cause instanceof NotFound
          ? "NOT_FOUND"
          : cause instanceof Forbidden || cause instanceof StepUpRequired
            ? "FORBIDDEN"
            : cause instanceof Conflict || cause instanceof TransitionError
              ? "CONFLICT"
              : cause instanceof TooManyAttempts
                ? "TOO_MANY_REQUESTS"
                : null;
    if (code === "BAD_REQUEST" || (!code && result.error.code === "BAD_REQUEST")) {
      await logRefusal(path, result.error, getRawInput);
    }
    if (code) throw new TRPCError({ code, message: cause!.message, cause });
    if (result.error.code === "INTERNAL_SERVER_ERROR") {
      const error = result.error.cause ?? result.error;
      // Bounded: a Prisma error quotes the values it was given, which can be a megabyte of input.
      console.error(capForLog(`[trpc] unexpected error in ${path}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`, 4096));
      // Only a read is known to have changed nothing; a mutation may have stored
      // something or called a provider before it failed.
      const message =
        type === "query"
          ? "Something went wrong on our side; this only read data, so nothing was changed"
          : "Something went wrong on our side before this finished; part of it may have been done. Reload to see the current state before trying again";
      throw new TRPCError({ code: "INTERNAL_SERVER_ERROR", message, cause: result.error });
    }
  }
  return result;
});

/** One line per refused input: the procedure, the input's size and the rules it broke, never more than about 2 KB. */
async function logRefusal(path: string, error: TRPCError, getRawInput: () => Promise<unknown>) {
  let size: number | null = null;
  try {
    size = inputSize(await getRawInput());
  } catch {
    // The body itself could not be read (malformed JSON): the error says so.
  }
  const fields = fieldErrorsOf(error);
  const why = fields ? describeFields(fields) : error.message;
  console.warn(capForLog(`[trpc] refused ${path} (input ${size === null ? "of unknown size" : `${size.toLocaleString("en")} characters`}): ${why}`, 2048));
}

/** Refuses what no schema should ever see (see input-guard.ts), naming the field. */
const guardInput = t.middleware(async ({ next, getRawInput, meta }) => {
  const verdict = inspectInput(await getRawInput(), meta?.searchFields);
  if (!verdict.ok) throw new FieldErrors(verdict.fields);
  return "cleaned" in verdict ? next({ getRawInput: async () => verdict.cleaned }) : next();
});

export interface ProcedureOptions {
  /** See Meta.searchFields. */
  searchFields?: readonly string[];
}

/** A procedure open to the given roles (or "public"). */
export function procedure(roles: "public", options?: ProcedureOptions): ReturnType<typeof publicBase>;
export function procedure(roles: readonly Role[], options?: ProcedureOptions): ReturnType<typeof authedBase>;
export function procedure(roles: readonly Role[] | "public", options: ProcedureOptions = {}) {
  return roles === "public" ? publicBase(options) : authedBase(roles, options);
}

function publicBase(options: ProcedureOptions) {
  return t.procedure.meta({ roles: "public", ...options }).use(translateErrors).use(guardInput);
}

// The role check comes before the input is looked at: who may call decides first.
function authedBase(roles: readonly Role[], options: ProcedureOptions) {
  return t.procedure
    .meta({ roles, ...options })
    .use(translateErrors)
    .use(({ ctx, next }) => {
      if (!ctx.actor) throw new TRPCError({ code: "UNAUTHORIZED", message: "Sign in to continue" });
      if (!roles.includes(ctx.actor.role)) {
        throw new TRPCError({ code: "FORBIDDEN", message: `This needs the ${roles.join(" or ")} role; you are ${ctx.actor.role}` });
      }
      return next({ ctx: { ...ctx, actor: ctx.actor } });
    })
    .use(guardInput);
}
