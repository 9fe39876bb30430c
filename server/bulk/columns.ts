// The columns of a bulk file: exactly the single form's fields for a
// connection (amount, currency, the recipient's phone or account, name, the
// network or payment method where the connector has channels, description)
// plus the provider's own recipient fields (connector.recipientFields()),
// each with a line describing it. The template writes them; the reader maps a
// file's header onto them.
//
// Header names are matched without regard to case, spaces, underscores or
// hyphens ("Recipient phone" is recipient_phone), and the single form's
// labels are accepted too ("Account number", "Mobile network").
//
// Two more columns are understood in any file:
// - `connection` (optional): the connection's name as the desk shows it, so
//   one file can pay through several connections; a blank cell, or no such
//   column, means the connection chosen on the upload page.
// - `error`: the column the invalid-rows download adds; ignored, so the
//   fixed file uploads as it is.
//
// The description line: the template's second row describes each column, and
// every description starts with "Required" or "Optional". The reader skips
// the row right after the header when every filled cell of it starts with one
// of those words (no amount, phone or currency can), so a filled-in template
// uploads as it is, with or without that row.
import type { ChannelOption, RecipientField } from "@/server/connectors/types";
import { currencyExponent, isKnownCurrency } from "@/server/domain/money";
import { FileProblem } from "./encoding";

/** What the reader and the template need to know of one connection. */
export interface ConnectionShape {
  id: string;
  name: string;
  recipientKind: "msisdn" | "bank_account";
  channels: ChannelOption[];
  recipientFields: RecipientField[];
  /** The currencies an amount may be given in (payoutCurrencies, else the channels'); empty when the provider routes by itself. */
  currencies: string[];
}

/** The single form's fields a column fills. */
export type FormField = "amount" | "currency" | "recipientPhone" | "recipientAccount" | "recipientName" | "channel" | "description";

export type ColumnTarget = { kind: "field"; field: FormField } | { kind: "detail"; key: string } | { kind: "connection" } | { kind: "ignored" };

export interface ColumnSpec {
  /** The header as the template writes it. */
  name: string;
  target: ColumnTarget;
  /** The file must have this column (every row needs its value). */
  required: boolean;
  /** Starts with "Required" or "Optional"; the template's second row. */
  description: string;
  /** Header spellings it answers to, normalised (see normalizeHeader). */
  aliases: string[];
  /** Kept as text in the XLSX template, so Excel keeps leading zeros and every digit. */
  text: boolean;
}

export const CONNECTION_COLUMN: ColumnSpec = {
  name: "connection",
  target: { kind: "connection" },
  required: false,
  description: "Optional: the connection's name as the desk shows it, to pay rows of one file through several connections; blank means the connection chosen on the upload page",
  aliases: ["connection", "connectionname"],
  text: true,
};

export const ERROR_COLUMN: ColumnSpec = {
  name: "error",
  target: { kind: "ignored" },
  required: false,
  description: "Ignored: what was wrong with the row when the desk last checked it",
  aliases: ["error", "errors"],
  text: true,
};

/** Lower case, letters and digits only: "Recipient Phone", "recipient_phone" and "RECIPIENT-PHONE" are one column. */
export function normalizeHeader(header: string): string {
  return header.normalize("NFKC").toLowerCase().replace(/[^\p{L}\p{N}]+/gu, "");
}

/** "1 (ZMW)", "2 (USD, EUR)", "0 (UGX)": how many decimals each currency allows. */
function decimalsOf(currencies: string[]): string {
  const groups = new Map<number, string[]>();
  for (const c of currencies.filter(isKnownCurrency)) {
    const e = currencyExponent(c);
    groups.set(e, [...(groups.get(e) ?? []), c]);
  }
  return [...groups.entries()]
    .map(([e, list]) => (e === 0 ? `whole numbers in ${list.join(", ")}` : `at most ${e} decimal${e === 1 ? "" : "s"} in ${list.join(", ")}`))
    .join("; ");
}

function channelList(channels: ChannelOption[]): string {
  return channels.map((c) => `${c.code} (${c.label})`).join(", ");
}

/** The columns a file for this connection has, in the template's order. */
export function templateColumns(c: ConnectionShape): ColumnSpec[] {
  const bank = c.recipientKind === "bank_account";
  const decimals = decimalsOf(c.currencies);
  const columns: ColumnSpec[] = [
    {
      name: "amount",
      target: { kind: "field", field: "amount" },
      required: true,
      description: `Required: the amount in major units, digits with a decimal point and no currency sign, e.g. 150.50${decimals ? ` (${decimals})` : ""}`,
      aliases: ["amount"],
      text: false,
    },
    {
      name: "currency",
      target: { kind: "field", field: "currency" },
      required: true,
      description:
        c.currencies.length === 0
          ? "Required: the ISO 4217 currency code, e.g. UGX"
          : c.currencies.length === 1
            ? `Required: ${c.currencies[0]}`
            : `Required: one of ${c.currencies.join(", ")}`,
      aliases: ["currency"],
      text: true,
    },
  ];
  if (bank) {
    columns.push(
      {
        name: "recipient_name",
        target: { kind: "field", field: "recipientName" },
        required: true,
        description: "Required: the account holder's name as the bank knows it",
        aliases: ["recipientname", "accountholder", "name"],
        text: true,
      },
      {
        name: "recipient_account",
        target: { kind: "field", field: "recipientAccount" },
        required: true,
        description: "Required: the account number, 4 to 34 letters or digits (spaces are ignored)",
        aliases: ["recipientaccount", "accountnumber", "account"],
        text: true,
      },
    );
  } else {
    columns.push(
      {
        name: "recipient_phone",
        target: { kind: "field", field: "recipientPhone" },
        required: true,
        description: "Required: the mobile number with its country code, e.g. 260763456789 (keep the column as Text so no digit is lost)",
        aliases: ["recipientphone", "phone", "phonenumber", "msisdn", "mobilenumber"],
        text: true,
      },
      {
        name: "recipient_name",
        target: { kind: "field", field: "recipientName" },
        required: false,
        description: "Optional: the recipient's name, shown on the desk only",
        aliases: ["recipientname", "name"],
        text: true,
      },
    );
  }
  if (c.channels.length > 0) {
    columns.push({
      name: "channel",
      target: { kind: "field", field: "channel" },
      // A bank payout must say how it is routed; a mobile one may leave the network to the number.
      required: bank,
      description: bank
        ? `Required: the payment method's code: ${channelList(c.channels)}`
        : `Optional: the mobile network's code, blank to pick it from the number: ${channelList(c.channels)}`,
      aliases: bank ? ["channel", "paymentmethod", "method"] : ["channel", "mobilenetwork", "network"],
      text: true,
    });
  }
  for (const f of c.recipientFields) {
    const requiredFor = (f.requiredFor ?? []).map((code) => c.channels.find((ch) => ch.code === code)?.label ?? code);
    const usedBy = f.channels && !f.required ? f.channels.map((code) => c.channels.find((ch) => ch.code === code)?.label ?? code) : [];
    const description = f.required
      ? `Required: ${f.label}${f.hint ? ` (${f.hint})` : ""}`
      : requiredFor.length > 0
        ? `Required for ${requiredFor.join(", ")}: ${f.label}${usedBy.length > requiredFor.length ? `; optional for ${usedBy.filter((u) => !requiredFor.includes(u)).join(", ")}` : ""}; leave blank for other payment methods`
        : `Optional: ${f.label}${f.hint ? ` (${f.hint})` : ""}`;
    columns.push({
      name: f.key,
      target: { kind: "detail", key: f.key },
      required: f.required,
      description,
      aliases: [...new Set([normalizeHeader(f.key), normalizeHeader(f.label)])],
      text: true,
    });
  }
  columns.push({
    name: "description",
    target: { kind: "field", field: "description" },
    required: true,
    description: "Required: what the payout is for (at most 200 characters; some networks show it to the recipient and allow fewer)",
    aliases: ["description"],
    text: true,
  });
  return columns;
}

/** A file's header, mapped: each position's column (null for an empty header cell). */
export interface ResolvedHeader {
  columns: Array<ColumnSpec | null>;
  /** Each column's header as the file wrote it, by position. */
  headers: string[];
  hasConnectionColumn: boolean;
}

/** "C" for the third column, "AA" for the 27th: how a spreadsheet names it. */
export function columnLetter(position: number): string {
  let n = position + 1;
  let out = "";
  while (n > 0) {
    const r = (n - 1) % 26;
    out = String.fromCharCode(65 + r) + out;
    n = Math.floor((n - 1) / 26);
  }
  return out;
}

/**
 * Maps the header onto the columns of the chosen connection, or, when the
 * file has a connection column, of every connection. Unknown, repeated and
 * missing columns refuse the file, each named: a value in a column the desk
 * does not read would otherwise be silently dropped from a payment.
 */
export function resolveHeader(headers: string[], chosen: ConnectionShape | null, all: ConnectionShape[]): ResolvedHeader {
  const normalized = headers.map(normalizeHeader);
  const hasConnectionColumn = normalized.some((h) => CONNECTION_COLUMN.aliases.includes(h));
  const problems: string[] = [];
  if (!hasConnectionColumn && !chosen) {
    throw new FileProblem(["Choose the connection these payouts go through on the upload page, or add a connection column naming each row's connection"]);
  }
  const sets = hasConnectionColumn ? all : [chosen!];
  const candidates = new Map<string, ColumnSpec>();
  for (const spec of [CONNECTION_COLUMN, ERROR_COLUMN, ...sets.flatMap(templateColumns)]) {
    for (const alias of spec.aliases) if (!candidates.has(alias)) candidates.set(alias, spec);
  }
  const columns: Array<ColumnSpec | null> = [];
  const seen = new Map<string, number>();
  normalized.forEach((h, i) => {
    const where = `column ${columnLetter(i)}`;
    if (h === "") {
      columns.push(null);
      return;
    }
    const spec = candidates.get(h);
    if (!spec) {
      columns.push(null);
      const elsewhere = all.filter((c) => templateColumns(c).some((s) => s.aliases.includes(h))).map((c) => c.name);
      problems.push(
        elsewhere.length > 0
          ? `Column "${headers[i]!.trim()}" (${where}) is for ${elsewhere.join(" or ")}, not ${chosen?.name ?? "this connection"}: remove it, or add a connection column so each row names its connection`
          : `Unknown column "${clip(headers[i]!.trim())}" (${where}): rename it to one of ${[...new Set([...sets.flatMap(templateColumns), CONNECTION_COLUMN].map((s) => s.name))].join(", ")}, or remove it`,
      );
      return;
    }
    const first = seen.get(spec.name);
    if (first !== undefined) problems.push(`Columns ${columnLetter(first)} and ${columnLetter(i)} are both ${spec.name}: keep one`);
    else seen.set(spec.name, i);
    columns.push(spec);
  });
  const present = new Set(columns.filter((c): c is ColumnSpec => c !== null).map((c) => c.name));
  if (hasConnectionColumn) {
    // Each row's connection decides the rest, and its checks name what a row lacks.
    for (const name of ["amount", "currency", "description"]) if (!present.has(name)) problems.push(missing(name, null));
    if (!present.has("recipient_phone") && !present.has("recipient_account")) {
      problems.push("Missing column recipient_phone (mobile money) or recipient_account (bank): each row must say whom to pay");
    }
  } else {
    for (const spec of templateColumns(chosen!)) if (spec.required && !present.has(spec.name)) problems.push(missing(spec.name, spec));
  }
  if (problems.length > 0) throw new FileProblem(problems);
  return { columns, headers, hasConnectionColumn };
}

function missing(name: string, spec: ColumnSpec | null): string {
  return spec ? `Missing column ${name}: ${spec.description.replace(/^Required: /, "")}` : `Missing column ${name}`;
}

function clip(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

/** True for the template's description line (see the top of this file). */
export function isDescriptionRow(cells: readonly string[]): boolean {
  const filled = cells.map((c) => c.trim()).filter((c) => c !== "");
  return filled.length > 0 && filled.every((c) => /^(required|optional|ignored)\b/i.test(c));
}
