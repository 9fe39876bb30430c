"use client";
import { money } from "@/components/payouts/format";
import { StatusBadge } from "@/components/ui/status-badge";
import { formatInZone } from "@/server/domain/statement";
import type { StatementFigures } from "./types";

/** "− 1,234.00 ZMW", "+ 12.00 ZMW": the sign as its own glyph, so a column of amounts reads as arithmetic. */
function signed(sign: "+" | "−" | "±", amountMinor: bigint, currency: string): string {
  if (sign === "±") return amountMinor < 0n ? `− ${money(-amountMinor, currency)}` : `+ ${money(amountMinor, currency)}`;
  return `${sign} ${money(amountMinor, currency)}`;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString("en")} ${n === 1 ? one : many}`;
}

/**
 * One statement's figures, written as the sum finance checks:
 * opening − paid − fees + reversals + unexplained = closing, each line with
 * what it is made of, every time with its zone.
 */
export function StatementSummary({
  figures: f,
  timeZone,
  periodFrom,
  periodTo,
  providerLabel,
  testId,
}: {
  figures: StatementFigures;
  timeZone: string;
  periodFrom: Date;
  periodTo: Date;
  /** Who does not report balances, for the note; null for a total over several connections. */
  providerLabel: string | null;
  testId?: string;
}) {
  const c = f.currency;
  const reversedSince = f.settled.find((s) => s.status === "reversed")?.count ?? 0;
  return (
    <div className="space-y-5" data-testid={testId}>
      {!f.balanceReported && (
        <p className="rounded-md bg-sky-50 px-3 py-2 text-sm text-sky-900 ring-1 ring-inset ring-sky-200" data-testid="no-balances-note">
          {providerLabel
            ? `${providerLabel} does not report balances to the desk. This statement shows the desk's own movements only: there is no opening or closing balance, and nothing to compare them with.`
            : "Not every connection here reports balances, so balances are not totalled; each connection's own statement below shows what it reports."}
        </p>
      )}

      <dl className="divide-y divide-slate-100 text-sm" aria-label="Balance movement">
        <Row label="Opening balance" testId="opening" strong>
          {f.balanceReported ? (
            f.opening ? (
              <Amount value={money(f.opening.amountMinor, c)} note={`Balance read at ${formatInZone(new Date(f.opening.at), timeZone)}`} />
            ) : (
              <Amount value="Not known" note={`No balance was read at or before ${formatInZone(periodFrom, timeZone)}`} />
            )
          ) : (
            <Amount value="Not reported" note="The provider reports no balance" />
          )}
        </Row>
        <Row label="Paid" testId="paid">
          <Amount
            value={signed("−", f.paidMinor, c)}
            note={`${plural(f.paidCount, "payout")} paid in the period${reversedSince ? `, ${reversedSince.toLocaleString("en")} of them reversed since (see Reversals)` : ""}`}
          />
        </Row>
        <Row label="Fees" testId="fees">
          <Amount
            value={signed("−", f.feesMinor, c)}
            note={
              f.feesNotReported > 0
                ? `Fees the provider reported; ${plural(f.feesNotReported, "paid payout")} without a reported fee ${f.feesNotReported === 1 ? "is" : "are"} not counted (fee not reported, not 0)`
                : "Fees the provider reported on payouts settled in the period"
            }
          />
        </Row>
        <Row label="Reversals" testId="reversals">
          <Amount value={signed("+", f.reversalsMinor, c)} note={`${plural(f.reversalsCount, "paid payout")} taken back by the provider in the period`} />
        </Row>
        <div className="-mx-3 rounded-md bg-amber-50 px-3 ring-1 ring-inset ring-amber-200" data-testid="unexplained">
          <Row label="Movement the desk cannot explain">
            {f.unexplainedMinor !== null ? (
              <Amount
                value={signed("±", f.unexplainedMinor, c)}
                note="Closing − (opening − paid − fees + reversals): top-ups, charges or corrections the desk never saw"
              />
            ) : (
              <Amount value="Cannot be worked out" note={f.balanceReported ? "It needs both an opening and a closing balance" : "It needs the provider's balances"} />
            )}
          </Row>
        </div>
        <Row label="Closing balance" testId="closing" strong>
          {f.balanceReported ? (
            f.closing ? (
              <Amount value={money(f.closing.amountMinor, c)} note={`Balance read at ${formatInZone(new Date(f.closing.at), timeZone)}`} />
            ) : (
              <Amount value="Not known" note={`No balance was read at or before ${formatInZone(periodTo, timeZone)}`} />
            )
          ) : (
            <Amount value="Not reported" note="The provider reports no balance" />
          )}
        </Row>
      </dl>

      <div className="grid gap-5 md:grid-cols-2">
        <section aria-labelledby={`${testId ?? "s"}-settled`}>
          <h3 id={`${testId ?? "s"}-settled`} className="text-sm font-semibold text-slate-900">
            Settled in the period
          </h3>
          {f.settled.length === 0 ? (
            <p className="mt-2 text-sm text-slate-600" data-testid="nothing-settled">
              No payouts settled in this period
            </p>
          ) : (
            <table className="mt-2 w-full text-sm" data-testid="settled-table">
              <thead className="text-left text-xs text-slate-500">
                <tr>
                  <th className="py-1 font-medium">Status at the end</th>
                  <th className="py-1 text-right font-medium">Payouts</th>
                  <th className="py-1 text-right font-medium">Amount</th>
                </tr>
              </thead>
              <tbody className="divide-y divide-slate-100">
                {f.settled.map((s) => (
                  <tr key={s.status}>
                    <td className="py-1.5">
                      <StatusBadge status={s.status} />
                    </td>
                    <td className="tabular py-1.5 text-right">{s.count.toLocaleString("en")}</td>
                    <td className="tabular py-1.5 text-right">{money(s.amountMinor, c)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
        <section aria-labelledby={`${testId ?? "s"}-flight`}>
          <h3 id={`${testId ?? "s"}-flight`} className="text-sm font-semibold text-slate-900">
            In flight at the end
          </h3>
          <p className="mt-2 text-sm text-slate-700" data-testid="in-flight">
            {f.inFlightAtEnd.count === 0
              ? "None"
              : `${plural(f.inFlightAtEnd.count, "payout")}, ${money(f.inFlightAtEnd.amountMinor, c)}`}
          </p>
          <p className="text-xs text-slate-500">Approved or sent before {formatInZone(periodTo, timeZone)} and not final then: not yet in the figures above.</p>
        </section>
      </div>
    </div>
  );
}

function Row({ label, children, strong, testId }: { label: string; children: React.ReactNode; strong?: boolean; testId?: string }) {
  return (
    <div className="flex flex-wrap items-baseline justify-between gap-x-6 gap-y-1 py-2.5" data-testid={testId}>
      <dt className={strong ? "font-semibold text-slate-900" : "text-slate-700"}>{label}</dt>
      <dd className="text-right">{children}</dd>
    </div>
  );
}

function Amount({ value, note }: { value: string; note: string }) {
  return (
    <>
      <span className="tabular font-medium text-slate-900" data-testid="amount">
        {value}
      </span>
      <span className="block text-xs text-slate-500">{note}</span>
    </>
  );
}
