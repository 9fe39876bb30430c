// Input shapes the routers share, so every id and every length limit is
// refused the same way: with the field's rule and, for text, the length given.
import { z } from "zod";

/**
 * A database id. Every id column is a PostgreSQL uuid: anything else must be
 * refused here, since the cast failing in the database is a 500.
 */
export function uuid(what: string) {
  return z.uuid({ error: `${what} (a UUID such as 3f2b8c1e-…)` });
}

/** Text of at most `max` characters; the refusal says how long it was. */
export function text(max: number) {
  return z.string({ error: "Must be text" }).max(max, {
    error: (issue) => `${max.toLocaleString("en")} characters at most; this has ${lengthOf(issue.input)}`,
  });
}

function lengthOf(input: unknown): string {
  return typeof input === "string" ? input.length.toLocaleString("en") : "more";
}
