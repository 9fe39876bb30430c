// camt.053.001.08, the ISO 20022 BankToCustomerStatement, valid against the
// schema kept in ./standards (the test validates every fixture with xmllint).
// Written as a stream: the header and balances come from the summaries, and
// each entry is written as its row arrives.
//
// Choices the schema leaves to us (each also stated inside the file, in
// AddtlStmtInf, for whoever imports it):
//
// - One Stmt per section: per connection and currency. A payouts list (no
//   sections) gets one Stmt per connection and currency found in its rows,
//   worked out in a first pass (then each Stmt reads the rows again).
// - Entries (Ntry, status BOOK) are the money each payout moved, by the same
//   rules as the statement's figures (server/services/statements.ts: opening
//   − paid − fees + reversals + unexplained = closing). A payout paid in the
//   period (finalizedAt in it, succeeded, or reversed since) is one DBIT of
//   its amount plus the fee the provider reported (Chrgs, included, shows the
//   fee; a fee reported as 0 is a charge of 0; one not reported is said in
//   words). A reversed payout is also a CRDT of its amount (RvslInd true),
//   booked when it was taken back (reversedAt, else finalizedAt); one paid
//   before the period and reversed in it is that CRDT alone. A fee the
//   provider reported on a failed or cancelled payout is a DBIT of its own. A
//   payout still in flight, or final without moving money, has no entry.
//   The desk's unexplained movement, when there is one, is a last entry of its
//   own (BkTxCd proprietary UNEXPLAINED), so OPBD + credits − debits = CLBD holds.
// - Balances (Bal is required, at least one): OPBD and CLBD with the
//   provider's balances at the snapshots' times. When the provider reports no
//   balance (or the desk has no snapshot) the statement is the desk's own
//   movements: OPBD 0 and CLBD = the net of the entries, each with the
//   balance sub-type DESK MOVEMENTS ONLY, and AddtlStmtInf says the provider
//   reports no balance. Inventing a provider balance, or leaving balances out
//   (invalid), would be worse; importers that chain statements will see OPBD 0
//   each time, which is the truth: the desk does not know the balance.
// - References: EndToEndId is the payout id without its hyphens (a UUID is
//   36 characters, Max35Text allows 35; the 32 hex digits are the same id),
//   and UETR carries the id as written (a UUIDv4, the type the schema has for
//   it). The provider's reference is AcctSvcrRef (the reference of the
//   institution servicing the account) when it fits in 35 characters,
//   otherwise it is given whole in AddtlTxInf.
// - Currency: the schema's ActiveOrHistoricCurrencyCode is [A-Z]{3}. USDT
//   (PontisGlobe's settlement asset, not an ISO 4217 currency) cannot be
//   written as a code; it is written as XXX, ISO 4217's code for "no
//   currency", at USDT's 2 decimals, and the account's name and
//   AddtlStmtInf say the amounts are USDT. Writing USD would be a false claim.
// - Amounts have the currency's decimals (UGX 5000, ZMW 12.50, KWD 1.250).
//   The schema allows at most 18 digits; a larger amount stops the export
//   with an error naming it rather than writing an invalid file.
// - Times are ISO 8601 with the export zone's offset. The period [from, to)
//   is written FrDtTm from, ToDtTm one millisecond before to.
import { createHash } from "node:crypto";
import type { Writable } from "node:stream";
import { decimal, exponentOf } from "./amounts";
import { drained } from "./streams";
import { chunkCodePoints, cutCodePoints } from "./text";
import type { ExportInput, ExportMeta, ExportRow, ExportRows, ExportWriter, StatementSection, StatementSummary } from "./types";
import { ZonedClock } from "./zoned-time";

export const CAMT053_NAMESPACE = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08";
const ISSUER = "PAYOUT DESK";
const DESK_MOVEMENTS = "DESK MOVEMENTS ONLY";

/** A currency as the schema can name it: ISO 4217 codes as they are, anything else (USDT) as XXX. */
export function camtCurrency(currency: string): string {
  return /^[A-Z]{3}$/.test(currency) ? currency : "XXX";
}

export const camt053Writer: ExportWriter = {
  format: "camt053",
  extension: "xml",
  contentType: "application/xml; charset=utf-8",
  write: writeCamt053,
};

async function writeCamt053(input: ExportInput, out: Writable): Promise<void> {
  const xml = new XmlOut(out);
  try {
    const clock = new ZonedClock(input.meta.timeZone);
    const sections = input.sections.length > 0 ? input.sections : await sectionsFromRows(input.rows, input.meta.periodFrom);
    const messageId = messageIdOf(input.meta);
    xml.raw(`<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="${CAMT053_NAMESPACE}">\n<BkToCstmrStmt>\n`);
    xml.open("GrpHdr");
    xml.leaf("MsgId", messageId);
    xml.leaf("CreDtTm", clock.isoSeconds(input.meta.generatedAt));
    xml.open("MsgRcpt");
    xml.text("Nm", input.meta.merchantName, 140);
    xml.close("MsgRcpt");
    xml.text(
      "AddtlInf",
      `${input.meta.kind === "statement" ? "Statement" : "Payouts list"} of ${input.meta.merchantName}, ${input.meta.connectionLabel}, ` +
        `generated by ${input.meta.generatedBy}. Times in ${input.meta.timeZone}.${input.meta.filters ? ` Filters: ${input.meta.filters}.` : ""}`,
      500,
    );
    xml.close("GrpHdr");
    if (sections.length === 0) {
      // The schema needs at least one Stmt; an empty list is an empty statement of no account.
      sections.push(emptySection(input.meta));
    }
    let index = 0;
    for (const section of sections) {
      index += 1;
      await writeStatement(xml, section, `${messageId}-${index}`, input.meta, clock, input.sections.length === 0);
    }
    xml.raw("</BkToCstmrStmt>\n</Document>\n");
    await xml.end();
  } catch (error) {
    out.destroy(error as Error);
    throw error;
  }
}

async function writeStatement(xml: XmlOut, section: StatementSection, id: string, meta: ExportMeta, clock: ZonedClock, derived: boolean) {
  const { summary } = section;
  const currency = summary.currency;
  const ccy = camtCurrency(currency);
  xml.open("Stmt");
  xml.leaf("Id", id);
  xml.leaf("CreDtTm", clock.isoSeconds(meta.generatedAt));
  xml.open("FrToDt");
  xml.leaf("FrDtTm", clock.iso(meta.periodFrom));
  xml.leaf("ToDtTm", clock.iso(new Date(meta.periodTo.getTime() - 1)));
  xml.close("FrToDt");

  xml.open("Acct");
  xml.open("Id");
  xml.open("Othr");
  if (derived) {
    xml.text("Id", section.connectionName, 34);
    xml.open("SchmeNm");
    xml.leaf("Prtry", "PAYOUT DESK CONNECTION NAME");
    xml.close("SchmeNm");
  } else {
    xml.leaf("Id", section.connectionId.replaceAll("-", "").slice(0, 34));
    xml.open("SchmeNm");
    xml.leaf("Prtry", "PAYOUT DESK CONNECTION ID");
    xml.close("SchmeNm");
  }
  xml.text("Issr", section.provider, 35);
  xml.close("Othr");
  xml.close("Id");
  xml.leaf("Ccy", ccy);
  xml.text("Nm", ccy === currency ? section.connectionName : `${section.connectionName} (amounts in ${currency})`, 70);
  xml.open("Ownr");
  xml.text("Nm", meta.merchantName, 140);
  xml.close("Ownr");
  xml.close("Acct");

  const reported = summary.balanceReported && summary.opening !== null && summary.closing !== null;
  if (reported) {
    balance(xml, "OPBD", summary.opening!.amountMinor, currency, clock.isoSeconds(summary.opening!.at), null);
    balance(xml, "CLBD", summary.closing!.amountMinor, currency, clock.isoSeconds(summary.closing!.at), null);
  } else {
    const net = -summary.paidMinor - summary.feesMinor + summary.reversalsMinor;
    balance(xml, "OPBD", 0n, currency, clock.isoSeconds(meta.periodFrom), DESK_MOVEMENTS);
    balance(xml, "CLBD", net, currency, clock.isoSeconds(new Date(meta.periodTo.getTime() - 1)), DESK_MOVEMENTS);
  }

  let entries = 0;
  for await (const row of section.rows()) {
    entries += writeEntries(xml, row, currency, meta.periodFrom, clock);
    await xml.flushIfFull();
  }
  if (reported && summary.unexplainedMinor !== null && summary.unexplainedMinor !== 0n) {
    unexplainedEntry(xml, summary.unexplainedMinor, currency, clock.isoSeconds(summary.closing!.at));
    entries += 1;
  }

  const notes: string[] = [];
  if (!summary.balanceReported) notes.push("The provider reports no balance: OPBD 0 and CLBD are the desk's own movements in the period (DESK MOVEMENTS ONLY), not provider balances.");
  else if (!reported) notes.push("No balance snapshot of the provider for the period's start or end: OPBD 0 and CLBD are the desk's own movements (DESK MOVEMENTS ONLY).");
  if (ccy !== currency) notes.push(`Amounts are ${currency}, not an ISO 4217 currency; Ccy XXX stands for it, at ${exponentOf(currency)} decimals.`);
  notes.push(`Period to ${clock.iso(meta.periodTo)} not included.`);
  if (summary.inFlightAtEnd.count > 0) {
    notes.push(`${summary.inFlightAtEnd.count} payout(s) of ${decimal(summary.inFlightAtEnd.amountMinor, currency)} still in flight at the end have no entry.`);
  }
  if (summary.feesNotReported > 0) notes.push(`${summary.feesNotReported} payout(s) with no fee reported by the provider.`);
  if (entries === 0) notes.push("No money moved in the period.");
  xml.text("AddtlStmtInf", notes.join(" "), 500);
  xml.close("Stmt");
  await xml.flushIfFull();
}

function balance(xml: XmlOut, code: "OPBD" | "CLBD", amountMinor: bigint, currency: string, at: string, subType: string | null) {
  xml.open("Bal");
  xml.open("Tp");
  xml.open("CdOrPrtry");
  xml.leaf("Cd", code);
  xml.close("CdOrPrtry");
  if (subType) {
    xml.open("SubTp");
    xml.leaf("Prtry", subType);
    xml.close("SubTp");
  }
  xml.close("Tp");
  xml.amount("Amt", amountMinor < 0n ? -amountMinor : amountMinor, currency);
  xml.leaf("CdtDbtInd", amountMinor < 0n ? "DBIT" : "CRDT");
  xml.open("Dt");
  xml.leaf("DtTm", at);
  xml.close("Dt");
  xml.close("Bal");
}

const PAID = "succeeded";
const TAKEN_BACK = "reversed";
const FINAL_WITHOUT_PAYMENT = new Set(["failed", "cancelled", "rejected"]);

/** Paid in the period: its final status came in it (a reversed payout's finalizedAt is when it was paid). */
function settledIn(row: ExportRow, periodFrom: Date): boolean {
  return row.finalizedAt !== null && row.finalizedAt >= periodFrom;
}

/** The fee in the statement's currency, or null (not reported, or in another currency: told in words). */
function feeIn(row: ExportRow, currency: string): bigint | null {
  return row.feeMinor !== null && (row.feeCurrency ?? row.currency) === currency ? row.feeMinor : null;
}

/** Writes the entries of one payout (0, 1 or 2) and says how many. */
function writeEntries(xml: XmlOut, row: ExportRow, currency: string, periodFrom: Date, clock: ZonedClock): number {
  if (row.currency !== currency) {
    throw new Error(`payout ${row.payoutId} is in ${row.currency}, in a statement of ${currency}: a section's rows must share its currency`);
  }
  if (!row.finalizedAt) return 0;
  const fee = feeIn(row, currency);
  const paidHere = settledIn(row, periodFrom);
  let count = 0;
  if ((row.status === PAID || row.status === TAKEN_BACK) && paidHere) {
    entry(xml, row, clock, { kind: "payout", direction: "DBIT", amountMinor: row.amountMinor + (fee ?? 0n), fee, at: row.finalizedAt });
    count += 1;
  }
  if (row.status === TAKEN_BACK) {
    entry(xml, row, clock, { kind: "reversal", direction: "CRDT", amountMinor: row.amountMinor, fee: null, at: row.reversedAt ?? row.finalizedAt });
    count += 1;
  }
  if (FINAL_WITHOUT_PAYMENT.has(row.status) && paidHere && fee !== null && fee > 0n) {
    entry(xml, row, clock, { kind: "fee", direction: "DBIT", amountMinor: fee, fee, at: row.finalizedAt });
    count += 1;
  }
  return count;
}

interface EntryPlan {
  kind: "payout" | "reversal" | "fee";
  direction: "DBIT" | "CRDT";
  amountMinor: bigint;
  /** The fee included in the amount (payout), or the fee itself (fee entry); null when not reported. */
  fee: bigint | null;
  /** When it was booked. */
  at: Date;
}

function entry(xml: XmlOut, row: ExportRow, clock: ZonedClock, plan: EntryPlan) {
  const currency = row.currency;
  const compactId = row.payoutId.replaceAll("-", "");
  const reference = row.providerReference && Array.from(row.providerReference).length <= 35 ? row.providerReference : null;
  const converted = row.destinationMinor !== null && row.destinationCurrency !== null && row.destinationCurrency !== currency;
  xml.open("Ntry");
  xml.leaf("NtryRef", plan.kind === "payout" ? compactId : `${compactId}-${plan.kind === "fee" ? "F" : "R"}`);
  xml.amount("Amt", plan.amountMinor, currency);
  xml.leaf("CdtDbtInd", plan.direction);
  if (plan.kind === "reversal") xml.leaf("RvslInd", "true");
  xml.open("Sts");
  xml.leaf("Cd", "BOOK");
  xml.close("Sts");
  xml.open("BookgDt");
  xml.leaf("DtTm", clock.isoSeconds(plan.at));
  xml.close("BookgDt");
  xml.open("ValDt");
  xml.leaf("Dt", clock.date(plan.at));
  xml.close("ValDt");
  if (reference) xml.text("AcctSvcrRef", reference, 35);
  bankTransactionCode(
    xml,
    plan.kind === "fee" ? ["MDOP", "CHRG"] : plan.kind === "reversal" ? ["ICDT", "RRTN"] : ["ICDT", converted ? "XBCT" : "DMCT"],
    plan.kind === "fee" ? "FEE" : plan.kind === "reversal" ? "REVERSAL" : "PAYOUT",
  );
  if (plan.kind !== "fee") {
    xml.open("AmtDtls");
    xml.open("InstdAmt");
    xml.amount("Amt", row.amountMinor, currency);
    xml.close("InstdAmt");
    xml.close("AmtDtls");
  }
  if (plan.kind === "payout" && plan.fee !== null) {
    xml.open("Chrgs");
    xml.amount("TtlChrgsAndTaxAmt", plan.fee, currency);
    xml.open("Rcrd");
    xml.amount("Amt", plan.fee, currency);
    xml.leaf("CdtDbtInd", "DBIT");
    xml.leaf("ChrgInclInd", "true");
    xml.close("Rcrd");
    xml.close("Chrgs");
  }

  xml.open("NtryDtls");
  xml.open("TxDtls");
  xml.open("Refs");
  if (reference) xml.text("AcctSvcrRef", reference, 35);
  xml.leaf("EndToEndId", compactId);
  if (/^[a-f0-9]{8}-[a-f0-9]{4}-4[a-f0-9]{3}-[89ab][a-f0-9]{3}-[a-f0-9]{12}$/.test(row.payoutId)) xml.leaf("UETR", row.payoutId);
  xml.close("Refs");
  xml.amount("Amt", plan.kind === "fee" ? plan.amountMinor : row.amountMinor, currency);
  xml.leaf("CdtDbtInd", plan.direction);
  const rate = converted ? baseOneRate(row.fxRate) : null;
  if (plan.kind !== "fee" && converted) {
    xml.open("AmtDtls");
    xml.open("CntrValAmt");
    xml.amount("Amt", row.destinationMinor!, row.destinationCurrency!);
    if (rate) {
      xml.open("CcyXchg");
      xml.leaf("SrcCcy", camtCurrency(currency));
      xml.leaf("TrgtCcy", camtCurrency(row.destinationCurrency!));
      xml.leaf("XchgRate", rate);
      xml.close("CcyXchg");
    }
    xml.close("CntrValAmt");
    xml.close("AmtDtls");
  }
  const name = row.recipientName?.trim() ? row.recipientName : null;
  const account = row.recipientPhone ?? row.recipientAccount;
  const accountFits = account !== null && account.trim() !== "" && Array.from(account).length <= 34;
  if (name || accountFits) {
    xml.open("RltdPties");
    if (name) {
      xml.open("Cdtr");
      xml.open("Pty");
      xml.text("Nm", name, 140);
      xml.close("Pty");
      xml.close("Cdtr");
    }
    if (accountFits) {
      xml.open("CdtrAcct");
      xml.open("Id");
      xml.open("Othr");
      xml.text("Id", account!, 34);
      xml.open("SchmeNm");
      xml.leaf("Prtry", row.recipientPhone ? "MSISDN" : "ACCOUNT");
      xml.close("SchmeNm");
      xml.close("Othr");
      xml.close("Id");
      xml.close("CdtrAcct");
    }
    xml.close("RltdPties");
  }
  const remittance = chunkCodePoints(row.description, 140).filter((chunk) => chunk.length > 0);
  if (remittance.length > 0) {
    xml.open("RmtInf");
    for (const chunk of remittance) xml.text("Ustrd", chunk, 140);
    xml.close("RmtInf");
  }
  const info: string[] = [`Payout ${row.payoutId}, ${row.status} at the provider ${row.provider} (${row.connectionName}).`];
  if (plan.kind === "fee") info.push(`Fee the provider charged on this ${row.status} payout.`);
  if (row.feeMinor === null) info.push("Fee: not reported by the provider.");
  else if ((row.feeCurrency ?? currency) !== currency) info.push(`Fee: ${decimal(row.feeMinor, row.feeCurrency!)} ${row.feeCurrency} (another currency, not in this entry).`);
  if (row.providerReference && !reference) info.push(`Provider reference: ${row.providerReference}.`);
  if (converted && !rate && row.fxRate) info.push(`Rate: ${row.fxRate}.`);
  if (account && !accountFits && account.trim() !== "") info.push(`Recipient account: ${account}.`);
  if (row.failureCode || row.failureMessage) info.push(`Failure: ${[row.failureCode, row.failureMessage].filter(Boolean).join(" ")}.`);
  xml.text("AddtlTxInf", info.join(" "), 500);
  xml.close("TxDtls");
  xml.close("NtryDtls");
  xml.close("Ntry");
}

function unexplainedEntry(xml: XmlOut, amountMinor: bigint, currency: string, at: string) {
  xml.open("Ntry");
  xml.leaf("NtryRef", "UNEXPLAINED");
  xml.amount("Amt", amountMinor < 0n ? -amountMinor : amountMinor, currency);
  xml.leaf("CdtDbtInd", amountMinor < 0n ? "DBIT" : "CRDT");
  xml.open("Sts");
  xml.leaf("Cd", "BOOK");
  xml.close("Sts");
  xml.open("BookgDt");
  xml.leaf("DtTm", at);
  xml.close("BookgDt");
  bankTransactionCode(xml, amountMinor < 0n ? ["MDOP", "OTHR"] : ["MCOP", "OTHR"], "UNEXPLAINED");
  xml.text(
    "AddtlNtryInf",
    "Movement the desk cannot explain: closing − (opening − paid − fees + reversals). Top-ups and charges the desk never saw.",
    500,
  );
  xml.close("Ntry");
}

function bankTransactionCode(xml: XmlOut, [family, subFamily]: [string, string], proprietary: string) {
  xml.open("BkTxCd");
  xml.open("Domn");
  xml.leaf("Cd", "PMNT");
  xml.open("Fmly");
  xml.leaf("Cd", family);
  xml.leaf("SubFmlyCd", subFamily);
  xml.close("Fmly");
  xml.close("Domn");
  xml.open("Prtry");
  xml.leaf("Cd", proprietary);
  xml.leaf("Issr", ISSUER);
  xml.close("Prtry");
  xml.close("BkTxCd");
}

/** The provider's rate as the schema's BaseOneRate (at most 11 digits, 10 decimals), or null if it is not one. */
function baseOneRate(rate: string | null): string | null {
  if (!rate) return null;
  const match = /^(\d+)(?:\.(\d+))?$/.exec(rate.trim());
  if (!match) return null;
  const whole = match[1]!.replace(/^0+(?=\d)/, "");
  const fraction = (match[2] ?? "").replace(/0+$/, "");
  const digits = (whole === "0" ? "" : whole).length + fraction.length;
  if (fraction.length > 10 || digits > 11) return null;
  return fraction ? `${whole}.${fraction}` : whole;
}

function messageIdOf(meta: ExportMeta): string {
  const stamp = meta.generatedAt.toISOString().replace(/[-:T]/g, "").slice(0, 14);
  const digest = createHash("sha256")
    .update(JSON.stringify([meta.kind, meta.merchantName, meta.connectionLabel, meta.currency, meta.periodFrom, meta.periodTo, meta.filters ?? ""]))
    .digest("hex")
    .slice(0, 12);
  return `PD-${stamp}-${digest}`;
}

function emptySection(meta: ExportMeta): StatementSection {
  const currency = meta.currency ?? "XXX";
  return {
    connectionId: "00000000-0000-4000-8000-000000000000",
    connectionName: meta.connectionLabel,
    provider: "none",
    summary: movementSummary(currency),
    rows: () => (async function* () {})(),
  };
}

function movementSummary(currency: string): StatementSummary {
  return {
    currency,
    balanceReported: false,
    opening: null,
    closing: null,
    settled: [],
    paidMinor: 0n,
    feesMinor: 0n,
    feesNotReported: 0,
    reversalsMinor: 0n,
    inFlightAtEnd: { count: 0, amountMinor: 0n },
    unexplainedMinor: null,
  };
}

/**
 * A payouts list has no sections: one pass finds its connections and
 * currencies and sums their movements by the statement's rules; each
 * statement then reads the rows again, keeping its own.
 */
async function sectionsFromRows(rows: () => ExportRows, periodFrom: Date): Promise<StatementSection[]> {
  const found = new Map<string, { connectionName: string; provider: string; summary: StatementSummary }>();
  for await (const row of rows()) {
    const key = JSON.stringify([row.connectionName, row.currency]);
    let section = found.get(key);
    if (!section) {
      section = { connectionName: row.connectionName, provider: row.provider, summary: movementSummary(row.currency) };
      found.set(key, section);
    }
    const s = section.summary;
    if (!row.finalizedAt) {
      s.inFlightAtEnd.count += 1;
      s.inFlightAtEnd.amountMinor += row.amountMinor;
      continue;
    }
    // The statement's rules, as writeEntries applies them.
    if (row.status === TAKEN_BACK) s.reversalsMinor += row.amountMinor;
    if (!settledIn(row, periodFrom)) continue;
    if (row.status === PAID || row.status === TAKEN_BACK) s.paidMinor += row.amountMinor;
    if (row.feeMinor === null) s.feesNotReported += 1;
    else s.feesMinor += feeIn(row, row.currency) ?? 0n;
  }
  return [...found.values()].map((section, i) => ({
    connectionId: `00000000-0000-4000-8000-${String(i + 1).padStart(12, "0")}`,
    connectionName: section.connectionName,
    provider: section.provider,
    summary: section.summary,
    rows: () => onlyOf(rows(), section.connectionName, section.summary.currency),
  }));
}

async function* onlyOf(rows: ExportRows, connectionName: string, currency: string): ExportRows {
  for await (const row of rows) if (row.connectionName === connectionName && row.currency === currency) yield row;
}

// Characters XML 1.0 cannot carry (controls other than tab, LF, CR; lone surrogates; U+FFFE/FFFF).
const NOT_XML = /[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/gu;
const ESCAPE = /[&<>"\r]/g;
const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\r": "&#13;" };

function escapeXml(text: string): string {
  return text.replace(NOT_XML, "\ufffd").replace(ESCAPE, (c) => ESCAPES[c]!);
}

/** Element text written to `out` in chunks, waiting whenever `out` is backed up. */
class XmlOut {
  private buffer: string[] = [];
  private size = 0;
  private depth = 1;

  constructor(private readonly out: Writable) {}

  raw(text: string) {
    this.buffer.push(text);
    this.size += text.length;
  }

  open(name: string) {
    this.raw(`${"  ".repeat(this.depth)}<${name}>\n`);
    this.depth += 1;
  }

  close(name: string) {
    this.depth -= 1;
    this.raw(`${"  ".repeat(this.depth)}</${name}>\n`);
  }

  /** A value the writer made (codes, ids, dates): escaped, never cut. */
  leaf(name: string, value: string) {
    this.raw(`${"  ".repeat(this.depth)}<${name}>${escapeXml(value)}</${name}>\n`);
  }

  /** Text from people or providers, cut to the schema's MaxNNText; omitted when empty (the schema wants at least 1 character). */
  text(name: string, value: string, max: number) {
    const clean = value.replace(NOT_XML, "\ufffd");
    if (clean.length === 0) return;
    this.leaf(name, cutCodePoints(clean, max));
  }

  amount(name: string, amountMinor: bigint, currency: string) {
    const value = decimal(amountMinor, currency);
    if (value.replace(/\D/g, "").replace(/^0+(?=\d)/, "").length > 18) {
      throw new Error(`${value} ${currency} has more than the 18 digits camt.053 allows for an amount`);
    }
    this.raw(`${"  ".repeat(this.depth)}<${name} Ccy="${camtCurrency(currency)}">${value}</${name}>\n`);
  }

  /** Hands what is buffered to `out` once there is enough of it, and waits if `out` is backed up. */
  async flushIfFull() {
    if (this.size >= 64 * 1024) await this.flush();
  }

  private async flush() {
    if (this.buffer.length === 0) return;
    const chunk = this.buffer.join("");
    this.buffer = [];
    this.size = 0;
    if (!this.out.write(chunk)) await drained(this.out);
  }

  async end() {
    await this.flush();
    await new Promise<void>((resolve, reject) => {
      this.out.once("error", reject);
      this.out.end(() => resolve());
    });
  }
}
