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

export interface Context {
  desk: Desk;
  actor: Actor | null;
  ip: string;
}

export interface Meta {
  /** Who may call this procedure; "public" only for sign-in-adjacent reads. */
  roles: readonly Role[] | "public";
}

const t = initTRPC
  .context<Context>()
  .meta<Meta>()
  .create({
    transformer: superjson,
    errorFormatter({ shape, error }) {
      return { ...shape, data: { ...shape.data, fieldErrors: fieldErrorsOf(error), stack: undefined } };
    },
  });

/** The per-field messages of a refused input (form fields → message), or null. */
export function fieldErrorsOf(error: TRPCError): Record<string, string> | null {
  const cause = error.cause;
  if (cause instanceof FieldErrors) return cause.fields;
  if (cause instanceof ZodError) {
    const fields: Record<string, string> = {};
    for (const issue of cause.issues) fields[issue.path.join(".") || "input"] ??= issue.message;
    return fields;
  }
  return null;
}

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;

/** Turns the services' errors into tRPC codes with the message intact. */
const translateErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok) {
    const cause = result.error.cause;
    const code =
      cause instanceof FieldErrors || cause instanceof MoneyError
        ? "BAD_REQUEST"
        : cause instanceof NotFound
          ? "NOT_FOUND"
          : cause instanceof Forbidden
            ? "FORBIDDEN"
            : cause instanceof Conflict || cause instanceof TransitionError
              ? "CONFLICT"
              : cause instanceof TooManyAttempts
                ? "TOO_MANY_REQUESTS"
                : null;
    if (code) throw new TRPCError({ code, message: cause!.message, cause });
    if (result.error.code === "INTERNAL_SERVER_ERROR") {
      console.error("[trpc] unexpected error", result.error.cause ?? result.error);
      throw new TRPCError({ code: "INTERNAL_SERVER_ERROR", message: "Something went wrong on our side; nothing was changed by this request", cause: result.error });
    }
  }
  return result;
});

/** A procedure open to the given roles (or "public"). */
export function procedure(roles: "public"): ReturnType<typeof publicBase>;
export function procedure(roles: readonly Role[]): ReturnType<typeof authedBase>;
export function procedure(roles: readonly Role[] | "public") {
  return roles === "public" ? publicBase() : authedBase(roles);
}

function publicBase() {
  return t.procedure.meta({ roles: "public" }).use(translateErrors);
}

function authedBase(roles: readonly Role[]) {
  return t.procedure.meta({ roles }).use(translateErrors).use(({ ctx, next }) => {
    if (!ctx.actor) throw new TRPCError({ code: "UNAUTHORIZED", message: "Sign in to continue" });
    if (!roles.includes(ctx.actor.role)) {
      throw new TRPCError({ code: "FORBIDDEN", message: `This needs the ${roles.join(" or ")} role; you are ${ctx.actor.role}` });
    }
    return next({ ctx: { ...ctx, actor: ctx.actor } });
  });
}
