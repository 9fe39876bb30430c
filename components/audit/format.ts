// Words and shapes for showing audit entries.

/** The browser's own zone: the page shows days and times in it, and says so. */
export function browserTimeZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch {
    return "UTC";
  }
}

/** The object types the desk writes, in the finance team's words (others are shown as stored). */
export const ENTITY_LABELS: Record<string, string> = {
  payout: "Payout",
  payouts: "Payouts list",
  batch: "Payout file (bulk)",
  connection: "Connection",
  balances: "Balances",
  user: "User",
  settings: "Settings",
  policy: "Approval policy",
  group: "Approval group",
  statement: "Statement",
  reconciliation_run: "Reconciliation run",
  reconciliation_item: "Reconciliation difference",
  audit: "Audit trail",
};

export function entityLabel(type: string): string {
  return ENTITY_LABELS[type] ?? type;
}

/** A hash shortened for a table; the whole one is in the title and the exports. */
export function shortHash(hash: string | null): string {
  return hash ? `${hash.slice(0, 10)}…` : "none";
}

export interface Change {
  field: string;
  before: unknown;
  after: unknown;
}

/**
 * The fields a before/after entry changed, when its details have that shape
 * (details.before and details.after, objects or single values); else null.
 */
export function changesOf(details: unknown): Change[] | null {
  if (!details || typeof details !== "object" || Array.isArray(details)) return null;
  const d = details as Record<string, unknown>;
  const isRecord = (v: unknown): v is Record<string, unknown> => Boolean(v) && typeof v === "object" && !Array.isArray(v);
  // Settings write { changes: { field: { from, to } } }; the rest { before, after }.
  if (isRecord(d.changes) && Object.values(d.changes).every((c) => isRecord(c) && ("from" in c || "to" in c))) {
    return Object.entries(d.changes).map(([field, c]) => ({ field, before: (c as Record<string, unknown>).from, after: (c as Record<string, unknown>).to }));
  }
  if (!("before" in d) || !("after" in d)) return null;
  if (!isRecord(d.before) && !isRecord(d.after)) return [{ field: "value", before: d.before, after: d.after }];
  const before = isRecord(d.before) ? d.before : {};
  const after = isRecord(d.after) ? d.after : {};
  const fields = [...new Set([...Object.keys(before), ...Object.keys(after)])];
  return fields.map((field) => ({ field, before: before[field], after: after[field] }));
}

/** A JSON value on one line, as short as it can be said. */
export function shown(value: unknown): string {
  if (value === undefined) return "—";
  if (value === null) return "none";
  if (typeof value === "string") return value;
  return JSON.stringify(value);
}
