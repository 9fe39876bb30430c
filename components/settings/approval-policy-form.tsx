"use client";
// Proposing a new version of the approval policy: the rules in a form
// (tried top to bottom; the first that matches a payout applies), the
// default rule and the approval window. Starts from the active version. The
// server checks everything and names the rule and field of each problem; the
// errors show beside their fields. Proposing asks for step-up.
import { useId, useState, type FormEvent, type ReactNode } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc/client";
import { fieldErrorsOf, messageOf } from "@/components/trpc/errors";
import { useStepUp } from "@/components/auth/step-up";
import { Button } from "@/components/ui/button";
import { ErrorNote } from "@/components/ui/layout";
import { controlClass } from "@/components/ui/field";
import { toDecimalString } from "@/server/domain/money";
import { describeHours, type ApprovalPolicy, type ApproverKind, type PolicyLevel } from "@/server/domain/approval-policy";

interface LevelDraft {
  approvers: ApproverKind;
  groupId: string;
  count: string;
}

interface RuleDraft {
  /** Stable React key while rules move. */
  key: string;
  name: string;
  connectionId: string;
  currency: string;
  above: string;
  upTo: string;
  recipientCountry: string;
  levels: LevelDraft[];
  allowOverBalance: boolean;
}

interface Draft {
  rules: RuleDraft[];
  defaultLevels: LevelDraft[];
  defaultAllowOverBalance: boolean;
  approvalWindowHours: string;
  note: string;
}

let keys = 0;
const nextKey = () => `rule-${++keys}`;

function levelDraft(level: PolicyLevel): LevelDraft {
  return { approvers: level.approvers, groupId: level.groupId ?? "", count: String(level.count) };
}

function amountText(minor: string | null, currency: string | null): string {
  if (minor === null) return "";
  try {
    return currency ? toDecimalString(BigInt(minor), currency) : minor;
  } catch {
    return minor;
  }
}

export function draftOf(policy: ApprovalPolicy): Draft {
  return {
    rules: policy.rules.map((r) => ({
      key: nextKey(),
      name: r.name,
      connectionId: r.connectionId ?? "",
      currency: r.currency ?? "",
      above: amountText(r.aboveMinor, r.currency),
      upTo: amountText(r.upToMinor, r.currency),
      recipientCountry: r.recipientCountry ?? "",
      levels: r.levels.map(levelDraft),
      allowOverBalance: r.allowOverBalance,
    })),
    defaultLevels: policy.defaultRule.levels.map(levelDraft),
    defaultAllowOverBalance: policy.defaultRule.allowOverBalance,
    approvalWindowHours: String(policy.approvalWindowHours),
    note: "",
  };
}

/** A whole number typed in a field; 0 when it is not one, which the server refuses with the field's rule. */
function wholeNumber(text: string): number {
  const n = Number.parseInt(text.trim(), 10);
  return Number.isFinite(n) && /^\d+$/.test(text.trim()) ? n : 0;
}

function levelsInput(levels: LevelDraft[]) {
  return levels.map((l) => ({ approvers: l.approvers, groupId: l.approvers === "group" ? l.groupId || null : null, count: wholeNumber(l.count) }));
}

export function ProposalForm({
  active,
  activeVersion,
  connections,
  groups,
  onClose,
}: {
  active: ApprovalPolicy;
  activeVersion: number;
  connections: Array<{ id: string; name: string }>;
  groups: Array<{ id: string; name: string; members: unknown[] }>;
  onClose: () => void;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const stepUp = useStepUp();
  const [draft, setDraft] = useState<Draft>(() => draftOf(active));
  const propose = useMutation(trpc.approvalPolicy.propose.mutationOptions({ onSuccess: () => queryClient.invalidateQueries({ queryKey: trpc.approvalPolicy.pathKey() }) }));
  const errors = fieldErrorsOf(propose.error);
  const otherErrors = Object.entries(errors).filter(([k]) => !/^(rules\.\d+\.|defaultRule\.|approvalWindowHours$|note$)/.test(k));

  const setRule = (index: number, patch: Partial<RuleDraft>) =>
    setDraft((d) => ({ ...d, rules: d.rules.map((r, i) => (i === index ? { ...r, ...patch } : r)) }));
  const moveRule = (index: number, by: -1 | 1) =>
    setDraft((d) => {
      const rules = [...d.rules];
      const [rule] = rules.splice(index, 1);
      rules.splice(index + by, 0, rule!);
      return { ...d, rules };
    });

  async function submit(e: FormEvent) {
    e.preventDefault();
    try {
      await stepUp.run(() =>
        propose.mutateAsync({
          rules: draft.rules.map((r) => ({
            name: r.name,
            connectionId: r.connectionId || null,
            currency: r.currency.trim() || null,
            above: r.above.trim() || null,
            upTo: r.upTo.trim() || null,
            recipientCountry: r.recipientCountry.trim() || null,
            levels: levelsInput(r.levels),
            allowOverBalance: r.allowOverBalance,
          })),
          defaultRule: { levels: levelsInput(draft.defaultLevels), allowOverBalance: draft.defaultAllowOverBalance },
          approvalWindowHours: wholeNumber(draft.approvalWindowHours),
          note: draft.note.trim() || null,
        }),
      );
      onClose();
    } catch {
      // Field errors show beside their fields, others below.
    }
  }

  return (
    <form onSubmit={submit} className="space-y-5" noValidate aria-labelledby="propose-heading" data-testid="policy-form">
      {stepUp.dialog}
      <div>
        <h3 id="propose-heading" className="text-sm font-semibold text-slate-900">
          Propose a change to version {activeVersion}
        </h3>
        <p className="text-xs text-slate-600">
          Rules are tried from the top; the first that matches a payout applies, else the default rule. Amounts: &ldquo;above&rdquo; excludes the amount,
          &ldquo;up to&rdquo; includes it. A different admin must approve the proposal before it applies, and only to payouts created after that.
        </p>
      </div>

      <ol className="space-y-4">
        {draft.rules.map((rule, i) => (
          <li key={rule.key} className="space-y-3 rounded-md border border-slate-200 p-4" aria-label={`Rule ${i + 1}`}>
            <div className="flex flex-wrap items-center justify-between gap-2">
              <p className="text-sm font-semibold text-slate-900">Rule {i + 1}</p>
              <div className="flex gap-1">
                <Button type="button" variant="ghost" onClick={() => moveRule(i, -1)} disabled={i === 0} aria-label={`Move rule ${i + 1} up`}>
                  ↑
                </Button>
                <Button type="button" variant="ghost" onClick={() => moveRule(i, 1)} disabled={i === draft.rules.length - 1} aria-label={`Move rule ${i + 1} down`}>
                  ↓
                </Button>
                <Button type="button" variant="ghost" onClick={() => setDraft((d) => ({ ...d, rules: d.rules.filter((_, j) => j !== i) }))}>
                  Remove
                </Button>
              </div>
            </div>
            <div className="grid gap-3 sm:grid-cols-2 lg:grid-cols-3">
              <TextField label="Name" value={rule.name} onChange={(v) => setRule(i, { name: v })} error={errors[`rules.${i}.name`]} placeholder="Large USD" />
              <Labelled label="Connection" error={errors[`rules.${i}.connectionId`]}>
                {(props) => (
                  <select {...props} value={rule.connectionId} onChange={(e) => setRule(i, { connectionId: e.target.value })}>
                    <option value="">Any connection</option>
                    {connections.map((c) => (
                      <option key={c.id} value={c.id}>
                        {c.name}
                      </option>
                    ))}
                  </select>
                )}
              </Labelled>
              <TextField label="Currency" value={rule.currency} onChange={(v) => setRule(i, { currency: v.toUpperCase() })} error={errors[`rules.${i}.currency`]} placeholder="Any (or e.g. USD)" />
              <TextField label="Amount above" value={rule.above} onChange={(v) => setRule(i, { above: v })} error={errors[`rules.${i}.above`]} placeholder="No lower bound" inputMode="decimal" />
              <TextField label="Amount up to" value={rule.upTo} onChange={(v) => setRule(i, { upTo: v })} error={errors[`rules.${i}.upTo`]} placeholder="No upper bound" inputMode="decimal" />
              <TextField
                label="Recipient country"
                value={rule.recipientCountry}
                onChange={(v) => setRule(i, { recipientCountry: v.toUpperCase() })}
                error={errors[`rules.${i}.recipientCountry`]}
                placeholder="Any (or e.g. ZM)"
              />
            </div>
            <LevelsEditor
              levels={rule.levels}
              groups={groups}
              errors={errors}
              errorKey={`rules.${i}.levels`}
              onChange={(levels) => setRule(i, { levels })}
            />
            <OverBalance checked={rule.allowOverBalance} onChange={(v) => setRule(i, { allowOverBalance: v })} />
          </li>
        ))}
      </ol>
      {errors.rules && <p className="text-sm text-rose-700">{errors.rules}</p>}
      <Button
        type="button"
        variant="secondary"
        onClick={() =>
          setDraft((d) => ({
            ...d,
            rules: [...d.rules, { key: nextKey(), name: "", connectionId: "", currency: "", above: "", upTo: "", recipientCountry: "", levels: [{ approvers: "approver", groupId: "", count: "1" }], allowOverBalance: true }],
          }))
        }
      >
        Add a rule
      </Button>

      <div className="space-y-3 rounded-md border border-slate-200 bg-slate-50 p-4">
        <p className="text-sm font-semibold text-slate-900">Default rule (payouts no rule matches)</p>
        <LevelsEditor levels={draft.defaultLevels} groups={groups} errors={errors} errorKey="defaultRule.levels" onChange={(levels) => setDraft((d) => ({ ...d, defaultLevels: levels }))} />
        <OverBalance checked={draft.defaultAllowOverBalance} onChange={(v) => setDraft((d) => ({ ...d, defaultAllowOverBalance: v }))} />
      </div>

      <div className="grid gap-3 sm:grid-cols-2">
        <TextField
          label="Approval window (hours)"
          value={draft.approvalWindowHours}
          onChange={(v) => setDraft((d) => ({ ...d, approvalWindowHours: v }))}
          error={errors.approvalWindowHours}
          inputMode="numeric"
          hint={`A payout not fully approved this long after it was created expires. ${/^\d+$/.test(draft.approvalWindowHours) && Number(draft.approvalWindowHours) > 0 ? `Now: ${describeHours(Number(draft.approvalWindowHours))}.` : ""}`}
        />
        <TextField label="Note for the approving admin (optional)" value={draft.note} onChange={(v) => setDraft((d) => ({ ...d, note: v }))} error={errors.note} />
      </div>

      {propose.error && (otherErrors.length > 0 || Object.keys(errors).length === 0) && (
        <ErrorNote>{otherErrors.length > 0 ? otherErrors.map(([, m]) => m).join(" ") : messageOf(propose.error)}</ErrorNote>
      )}
      {propose.error && Object.keys(errors).length > 0 && otherErrors.length === 0 && (
        <p className="text-sm text-rose-700" role="alert">
          The proposal was not made: {Object.keys(errors).length} field{Object.keys(errors).length === 1 ? "" : "s"} above need{Object.keys(errors).length === 1 ? "s" : ""} a change.
        </p>
      )}
      <div className="flex flex-wrap gap-2">
        <Button type="submit" busy={propose.isPending}>
          Propose version {activeVersion + 1}…
        </Button>
        <Button type="button" variant="ghost" onClick={onClose}>
          Cancel
        </Button>
      </div>
    </form>
  );
}

function LevelsEditor({
  levels,
  groups,
  errors,
  errorKey,
  onChange,
}: {
  levels: LevelDraft[];
  groups: Array<{ id: string; name: string; members: unknown[] }>;
  errors: Record<string, string>;
  errorKey: string;
  onChange: (levels: LevelDraft[]) => void;
}) {
  const set = (j: number, patch: Partial<LevelDraft>) => onChange(levels.map((l, k) => (k === j ? { ...l, ...patch } : l)));
  return (
    <fieldset className="space-y-2">
      <legend className="text-xs font-semibold uppercase tracking-wide text-slate-500">Levels, in order</legend>
      {levels.map((level, j) => (
        <div key={j} className="flex flex-wrap items-end gap-2">
          <span className="pb-2 text-sm text-slate-700">Level {j + 1}:</span>
          <div className="w-24">
            <TextField label="People" value={level.count} onChange={(v) => set(j, { count: v })} error={errors[`${errorKey}.${j}.count`]} inputMode="numeric" />
          </div>
          <div className="w-44">
            <Labelled label="From" error={errors[`${errorKey}.${j}.approvers`]}>
              {(props) => (
                <select {...props} value={level.approvers} onChange={(e) => set(j, { approvers: e.target.value as ApproverKind })}>
                  <option value="approver">any approver</option>
                  <option value="admin">any admin</option>
                  <option value="group">a group</option>
                </select>
              )}
            </Labelled>
          </div>
          {level.approvers === "group" && (
            <div className="w-56">
              <Labelled label="Group" error={errors[`${errorKey}.${j}.groupId`]}>
                {(props) => (
                  <select {...props} value={level.groupId} onChange={(e) => set(j, { groupId: e.target.value })}>
                    <option value="">Choose a group</option>
                    {groups.map((g) => (
                      <option key={g.id} value={g.id}>
                        {g.name} ({g.members.length} member{g.members.length === 1 ? "" : "s"})
                      </option>
                    ))}
                  </select>
                )}
              </Labelled>
            </div>
          )}
          <Button type="button" variant="ghost" onClick={() => onChange(levels.filter((_, k) => k !== j))} disabled={levels.length === 1} aria-label={`Remove level ${j + 1}`}>
            Remove
          </Button>
        </div>
      ))}
      {errors[errorKey] && <p className="text-sm text-rose-700">{errors[errorKey]}</p>}
      <Button type="button" variant="secondary" onClick={() => onChange([...levels, { approvers: "admin", groupId: "", count: "1" }])}>
        Add a level
      </Button>
    </fieldset>
  );
}

function OverBalance({ checked, onChange }: { checked: boolean; onChange: (v: boolean) => void }) {
  const id = useId();
  return (
    <label htmlFor={id} className="flex items-start gap-2 text-sm text-slate-800">
      <input id={id} type="checkbox" className="mt-0.5 h-4 w-4 rounded border-slate-300 text-indigo-600 focus:ring-indigo-600" checked={checked} onChange={(e) => onChange(e.target.checked)} />
      <span>
        May be approved past the connection&apos;s available balance, with an acknowledgement <span className="text-slate-500">(untick to forbid it)</span>
      </span>
    </label>
  );
}

function Labelled({ label, error, hint, children }: { label: string; error?: string; hint?: string; children: (props: { id: string; className: string; "aria-invalid": boolean; "aria-describedby"?: string }) => ReactNode }) {
  const id = useId();
  const describedBy = error ? `${id}-error` : hint ? `${id}-hint` : undefined;
  return (
    <div>
      <label htmlFor={id} className="block text-xs font-medium text-slate-700">
        {label}
      </label>
      <div className="mt-1">{children({ id, className: error ? controlClass.replace("ring-slate-300", "ring-rose-400") : controlClass, "aria-invalid": Boolean(error), "aria-describedby": describedBy })}</div>
      {error ? (
        <p id={`${id}-error`} className="mt-1 text-xs text-rose-700 wrap-anywhere">
          {error}
        </p>
      ) : hint ? (
        <p id={`${id}-hint`} className="mt-1 text-xs text-slate-500">
          {hint}
        </p>
      ) : null}
    </div>
  );
}

function TextField({
  label,
  value,
  onChange,
  error,
  placeholder,
  inputMode,
  hint,
}: {
  label: string;
  value: string;
  onChange: (v: string) => void;
  error?: string;
  placeholder?: string;
  inputMode?: "decimal" | "numeric";
  hint?: string;
}) {
  return (
    <Labelled label={label} error={error} hint={hint}>
      {(props) => <input {...props} value={value} onChange={(e) => onChange(e.target.value)} placeholder={placeholder} inputMode={inputMode} autoComplete="off" spellCheck={false} />}
    </Labelled>
  );
}
