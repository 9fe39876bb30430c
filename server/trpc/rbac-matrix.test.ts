// Every procedure against every role and anonymous, compared with the roles
// it declares: the declared roles get past the role check, every other role
// is refused FORBIDDEN, anonymous UNAUTHORIZED. The procedures are walked
// from the router at run time, so a new router is in the matrix the day it
// is added. Each call carries a valid input (built from the procedure's own
// schema), so the role check, not the input, is what decides.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TRPCError } from "@trpc/server";
import { ROLES, type Role } from "@/server/auth/roles";
import { testDatabases } from "@/server/db/testing";
import { startTestDesk, type TestDesk } from "@/server/testing/desk";
import { callProcedure, listProcedures, validInput, type Fixtures } from "@/server/testing/procedures";

type Who = Role | "anonymous";
type Verdict = "passes" | "FORBIDDEN" | "UNAUTHORIZED";

const WHO: readonly Who[] = [...ROLES, "anonymous"];

/** What the declared roles say a caller should get. */
function expected(roles: readonly Role[] | "public", who: Who): Verdict {
  if (roles === "public") return "passes";
  if (who === "anonymous") return "UNAUTHORIZED";
  return roles.includes(who) ? "passes" : "FORBIDDEN";
}

/** What the call got: refused by the role check, or past it (whatever the service then said). */
async function verdictOf(call: Promise<unknown>): Promise<Verdict> {
  try {
    await call;
    return "passes";
  } catch (error) {
    if (!(error instanceof TRPCError)) throw error;
    if (error.code === "UNAUTHORIZED") return "UNAUTHORIZED";
    // A service may refuse FORBIDDEN for its own reasons (an approver's own payout); the role check words it thus.
    if (error.code === "FORBIDDEN" && /^This needs the .* role; you are /.test(error.message)) return "FORBIDDEN";
    return "passes";
  }
}

describe.each(testDatabases())("RBAC matrix on %s", (kind) => {
  let t: TestDesk;
  let fixtures: Fixtures;

  beforeAll(async () => {
    t = await startTestDesk(kind);
    const payout = { id: await t.pawapayPayout({ amount: "15", description: "Rbac matrix payout", approve: false }) };
    // A connection of its own, so pausing or editing it leaves the sandbox ones alone.
    const connection = await t.caller("admin").connections.create({
      provider: "pawapay",
      name: "RBAC fixture",
      environment: "sandbox",
      baseUrl: "sandbox://pawapay",
      credentials: { apiToken: "rbac-fixture-token" },
    });
    fixtures = { connectionId: connection.id, payoutId: payout.id };
  });
  afterAll(async () => {
    await t?.close();
  });

  it("walks a router with procedures of every kind of role", () => {
    const procedures = listProcedures();
    expect(procedures.length).toBeGreaterThan(15);
    for (const role of ROLES) expect(procedures.some((p) => p.roles !== "public" && p.roles.includes(role)), role).toBe(true);
  });

  it("gives every role exactly what each procedure declares", async () => {
    const actual: Record<string, Record<Who, Verdict>> = {};
    const wanted: Record<string, Record<Who, Verdict>> = {};
    const unbuildable: string[] = [];
    for (const procedure of listProcedures()) {
      const input = validInput(procedure.path, procedure.schema, fixtures);
      if (!input.ok) {
        unbuildable.push(procedure.path);
        continue;
      }
      actual[procedure.path] = {} as Record<Who, Verdict>;
      wanted[procedure.path] = {} as Record<Who, Verdict>;
      // Refused callers first: an allowed mutation may change what the fixtures are.
      const order = [...WHO].sort((a, b) => Number(expected(procedure.roles, a) === "passes") - Number(expected(procedure.roles, b) === "passes"));
      for (const who of order) {
        const caller = t.caller(who === "anonymous" ? null : who);
        actual[procedure.path]![who] = await verdictOf(callProcedure(caller, procedure.path, input.value));
        wanted[procedure.path]![who] = expected(procedure.roles, who);
      }
    }
    console.log(
      `RBAC matrix (${kind}): ${Object.keys(actual).length} procedures × ${WHO.length} callers\n` +
        Object.entries(actual)
          .map(([path, row]) => `  ${path.padEnd(26)} ${WHO.map((w) => `${w}:${row[w] === "passes" ? "ok" : row[w]}`).join("  ")}`)
          .join("\n"),
    );
    // A procedure whose valid input cannot be built from its schema would escape the matrix: say which.
    expect(unbuildable).toEqual([]);
    expect(actual).toEqual(wanted);
  });

  it("refuses a role before reading the input: a wrong role with a broken input is still FORBIDDEN", async () => {
    for (const procedure of listProcedures()) {
      if (procedure.roles === "public" || !procedure.schema) continue;
      const outsider = ROLES.find((r) => !(procedure.roles as readonly Role[]).includes(r));
      if (outsider) expect(await verdictOf(callProcedure(t.caller(outsider), procedure.path, { id: 42, "\u0000": "x" })), procedure.path).toBe("FORBIDDEN");
      expect(await verdictOf(callProcedure(t.caller(null), procedure.path, "not an input")), procedure.path).toBe("UNAUTHORIZED");
    }
  });
});
