"use client";
// What a person deciding on a payout needs in front of them, as the server
// judged it (server/services/approvals.ts): the policy version and rule, the
// levels and who has approved at each, when the approval window ends, the
// connection's money in the payout's currency, and likely duplicates. Shared
// by the queue, the payout page and the batch review.
import Link from "next/link";
import { money, when } from "@/components/payouts/format";
import { duration, useNow } from "@/components/outcomes/format";
import { StatusBadge } from "@/components/ui/status-badge";
import type { AckState, ApprovalCard } from "./types";

/** "Policy v2 · Medium ZMW: 1 approver, then 1 admin". */
export function PolicyLine({ card }: { card: ApprovalCard }) {
  return (
    <p className="text-xs text-slate-600 wrap-anywhere" data-testid="policy-line">
      <span className="font-medium text-slate-800">Policy v{card.policyVersion}</span> · {card.rule.name}: {card.rule.levels}
    </p>
  );
}

/** The standing in words, and each level with the people counted at it. */
export function LevelProgress({ card, compact = false }: { card: ApprovalCard; compact?: boolean }) {
  const { standing } = card;
  return (
    <div className="space-y-1" data-testid="approval-standing">
      <p className={`text-sm font-medium ${standing.complete ? "text-emerald-800" : "text-amber-900"}`}>{standing.summary}</p>
      {!compact && (
        <ol className="space-y-1 text-xs text-slate-700">
          {standing.levels.map((level) => (
            <li key={level.level} className="flex flex-wrap items-center gap-x-2">
              <span
                aria-hidden
                className={`inline-block h-2 w-2 rounded-full ${level.complete ? "bg-emerald-500" : level.level === standing.currentLevel ? "bg-amber-500" : "bg-slate-300"}`}
              />
              <span className="font-medium">Level {level.level}</span>
              <span>
                {level.required} of {level.who}:
              </span>
              <span className="wrap-anywhere">
                {level.approverIds.length > 0 ? level.approverIds.map((id) => card.approverNames[id] ?? "someone").join(", ") : "nobody yet"}
                {level.complete ? " (done)" : level.level === standing.currentLevel ? " (waiting)" : " (after the level above)"}
              </span>
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}

/** When the approval window ends, marked when it is within a day. */
export function ExpiryNote({ card }: { card: ApprovalCard }) {
  const now = useNow(60_000);
  if (!card.expiresAt || card.payout.status !== "pending_approval") return null;
  const left = new Date(card.expiresAt).getTime() - now.getTime();
  return (
    <p className={`text-xs ${card.expiresSoon ? "font-medium text-rose-800" : "text-slate-600"}`} data-testid="expiry">
      {left <= 0 ? "Approval window ended " : card.expiresSoon ? "Expires in " : "Expires "}
      {left <= 0 ? `${when(card.expiresAt)}; it expires at the next sweep` : card.expiresSoon ? `${duration(now, new Date(card.expiresAt))} (${when(card.expiresAt)})` : when(card.expiresAt)}
    </p>
  );
}

export function ExpiresSoonBadge({ card }: { card: ApprovalCard }) {
  if (!card.expiresSoon || card.payout.status !== "pending_approval") return null;
  return <span className="inline-flex items-center rounded-md bg-rose-50 px-2 py-0.5 text-xs font-medium text-rose-800 ring-1 ring-inset ring-rose-600/20">Expires soon</span>;
}

/** The connection's money in the payout's currency: the latest read and its age, what is committed, what is left after this payout. */
export function LiquidityFacts({ card }: { card: ApprovalCard }) {
  const now = useNow(60_000);
  const l = card.liquidity;
  const m = (v: bigint) => money(v, l.currency);
  if (l.balanceMinor === null || l.availableMinor === null) {
    return (
      <p className="text-xs text-slate-600" data-testid="liquidity">
        {l.connectionName}&apos;s {l.currency} balance is not known (never read, or the provider reports none): check it with the provider before approving large amounts.
        {l.reservedMinor + l.inFlightMinor > 0n && ` The desk has ${m(l.reservedMinor)} approved and not sent, ${m(l.inFlightMinor)} in flight.`}
      </p>
    );
  }
  const over = l.remainingMinor !== null && l.remainingMinor < 0n;
  return (
    <dl className="grid grid-cols-2 gap-x-3 gap-y-0.5 text-xs sm:grid-cols-4" data-testid="liquidity">
      <div>
        <dt className="text-slate-500">Balance on {l.connectionName}</dt>
        <dd className="tabular text-slate-800">{m(l.balanceMinor)}</dd>
        {l.snapshotAt && <dd className="text-slate-500">read {duration(l.snapshotAt, now)} ago</dd>}
      </div>
      <div>
        <dt className="text-slate-500">Reserved · in flight</dt>
        <dd className="tabular text-slate-800">
          {m(l.reservedMinor)} · {m(l.inFlightMinor)}
        </dd>
      </div>
      <div>
        <dt className="text-slate-500">Available</dt>
        <dd className="tabular text-slate-800">{m(l.availableMinor)}</dd>
      </div>
      <div>
        <dt className="text-slate-500">After this payout</dt>
        <dd className={`tabular font-medium ${over ? "text-rose-700" : "text-emerald-800"}`} data-over={over || undefined}>
          {l.remainingMinor !== null ? m(l.remainingMinor) : "—"}
        </dd>
      </div>
    </dl>
  );
}

/** Payouts to the same recipient, amount and currency close in time, each linked. */
export function DuplicateWarning({ card }: { card: ApprovalCard }) {
  if (card.duplicates.length === 0) return null;
  return (
    <div className="rounded-md bg-amber-50 px-3 py-2 text-xs text-amber-900 ring-1 ring-inset ring-amber-200" data-testid="duplicate-warning">
      <p className="font-medium">Likely duplicate: the same recipient, amount and currency</p>
      <ul className="mt-1 space-y-0.5">
        {card.duplicates.map((d) => (
          <li key={d.id} className="flex flex-wrap items-center gap-x-2">
            <Link href={`/payouts/${d.id}`} className="font-mono text-indigo-700 underline hover:no-underline">
              {d.id.slice(0, 8)}
            </Link>
            <span>
              {new Date(d.createdAt) < new Date(card.payout.createdAt) ? "made earlier" : "made later"}, {when(d.createdAt)} by {d.createdByName} on {d.connectionName}
            </span>
            <StatusBadge status={d.status} />
          </li>
        ))}
      </ul>
    </div>
  );
}

/**
 * The acknowledgements this card asks for, as checkboxes. A rule that
 * forbids approving past the balance has no checkbox: the card says so and
 * approving is not offered.
 */
export function AcknowledgementChecks({
  card,
  value,
  onChange,
  errors = {},
  idPrefix,
}: {
  card: ApprovalCard;
  value: AckState;
  onChange: (next: AckState) => void;
  errors?: { overBalance?: string; duplicates?: string };
  idPrefix: string;
}) {
  if (!card.needs.overBalance && card.needs.duplicates.length === 0) return null;
  const l = card.liquidity;
  const allDuplicates = card.needs.duplicates.every((id) => value.duplicates.includes(id));
  return (
    <fieldset className="space-y-2 rounded-md border border-amber-200 bg-amber-50/50 p-3" data-testid="acknowledgements">
      <legend className="px-1 text-xs font-semibold text-amber-900">Acknowledge before approving</legend>
      {card.needs.overBalance && (
        <div>
          <label className="flex items-start gap-2 text-sm text-slate-800" htmlFor={`${idPrefix}-over`}>
            <input
              id={`${idPrefix}-over`}
              type="checkbox"
              className="mt-0.5 h-4 w-4 rounded border-slate-300 text-indigo-600 focus:ring-indigo-600"
              checked={value.overBalance}
              onChange={(e) => onChange({ ...value, overBalance: e.target.checked })}
              aria-invalid={Boolean(errors.overBalance)}
              aria-describedby={errors.overBalance ? `${idPrefix}-over-error` : undefined}
              name="acknowledge.overBalance"
            />
            <span>
              Approve past the available balance: {l.remainingMinor !== null ? money(l.remainingMinor, l.currency) : "—"} would remain on {l.connectionName}
            </span>
          </label>
          {errors.overBalance && (
            <p id={`${idPrefix}-over-error`} className="ml-6 text-xs text-rose-700 wrap-anywhere">
              {errors.overBalance}
            </p>
          )}
        </div>
      )}
      {card.needs.duplicates.length > 0 && (
        <div>
          <label className="flex items-start gap-2 text-sm text-slate-800" htmlFor={`${idPrefix}-dup`}>
            <input
              id={`${idPrefix}-dup`}
              type="checkbox"
              className="mt-0.5 h-4 w-4 rounded border-slate-300 text-indigo-600 focus:ring-indigo-600"
              checked={allDuplicates}
              onChange={(e) => onChange({ ...value, duplicates: e.target.checked ? [...card.needs.duplicates] : [] })}
              aria-invalid={Boolean(errors.duplicates)}
              aria-describedby={errors.duplicates ? `${idPrefix}-dup-error` : undefined}
              name="acknowledge.duplicates"
            />
            <span>
              I checked {card.needs.duplicates.length === 1 ? "the payout" : `the ${card.needs.duplicates.length} payouts`} above: this is not a duplicate
            </span>
          </label>
          {errors.duplicates && (
            <p id={`${idPrefix}-dup-error`} className="ml-6 text-xs text-rose-700 wrap-anywhere">
              {errors.duplicates}
            </p>
          )}
        </div>
      )}
    </fieldset>
  );
}
