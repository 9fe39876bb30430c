import { describe, expect, it } from "vitest";
import {
  approvalEligibility,
  approvalStanding,
  checkPolicyInput,
  DEFAULT_APPROVAL_POLICY,
  matchRule,
  overBalance,
  policyDiff,
  readPolicy,
  rejectionRefusal,
  type ApprovalPolicy,
  type CountedApproval,
  type PolicyCheckContext,
  type PolicyInput,
  type PolicyLevel,
  type PolicyPerson,
} from "./approval-policy";

const TREASURY = "6f1c2b8e-0000-4000-8000-000000000001";
const PAWAPAY = "0c9d7a10-0000-4000-8000-0000000000aa";
const groupName = (id: string) => (id === TREASURY ? "treasury" : undefined);

const approverLevel: PolicyLevel = { approvers: "approver", groupId: null, count: 1 };
const adminLevel: PolicyLevel = { approvers: "admin", groupId: null, count: 1 };
const treasuryTwo: PolicyLevel = { approvers: "group", groupId: TREASURY, count: 2 };

/** The example: any 1 approver up to 1,000 USD; 1 approver then 1 admin above it; 2 of treasury above 50,000 USD. */
const POLICY: ApprovalPolicy = {
  rules: [
    { name: "Large USD", connectionId: null, currency: "USD", aboveMinor: "5000000", upToMinor: null, recipientCountry: null, levels: [treasuryTwo], allowOverBalance: false },
    { name: "Medium USD", connectionId: null, currency: "USD", aboveMinor: "100000", upToMinor: null, recipientCountry: null, levels: [approverLevel, adminLevel], allowOverBalance: true },
    { name: "Small USD", connectionId: null, currency: "USD", aboveMinor: null, upToMinor: "100000", recipientCountry: null, levels: [approverLevel], allowOverBalance: true },
    { name: "Zambia on pawaPay", connectionId: PAWAPAY, currency: null, aboveMinor: null, upToMinor: null, recipientCountry: "ZM", levels: [adminLevel], allowOverBalance: true },
  ],
  defaultRule: { levels: [approverLevel], allowOverBalance: true },
  approvalWindowHours: 168,
};

const usd = (amountMinor: bigint) => ({ connectionId: "c1", currency: "USD", amountMinor, recipientCountry: null });

const maker = "maker";
const person = (id: string, role: string, groupIds: string[] = []): PolicyPerson => ({ id, role, groupIds });

function eligibility(levels: PolicyLevel[], approvals: CountedApproval[], who: PolicyPerson, status = "pending_approval") {
  return approvalEligibility({ levels, approvals, deciderIds: approvals.map((a) => a.approverId), makerId: maker, status, person: who, groupName });
}

describe("matching a payout to a rule", () => {
  it("tries rules top to bottom with 'above' exclusive and 'up to' inclusive", () => {
    expect(matchRule(POLICY, usd(100000n)).name).toBe("Small USD"); // exactly 1,000.00: up to
    expect(matchRule(POLICY, usd(100001n)).name).toBe("Medium USD"); // a cent above
    expect(matchRule(POLICY, usd(5000000n)).name).toBe("Medium USD"); // exactly 50,000.00 is not above it
    expect(matchRule(POLICY, usd(5000001n)).name).toBe("Large USD");
  });
  it("matches on connection and recipient country, and falls back to the default rule", () => {
    const zm = { connectionId: PAWAPAY.toUpperCase(), currency: "ZMW", amountMinor: 1500n, recipientCountry: "zm" };
    expect(matchRule(POLICY, zm)).toMatchObject({ index: 3, name: "Zambia on pawaPay" });
    expect(matchRule(POLICY, { ...zm, recipientCountry: "UG" })).toMatchObject({ index: null, name: "Default rule", levels: [approverLevel] });
    expect(matchRule(POLICY, { ...zm, connectionId: "another" }).index).toBeNull();
  });
});

describe("where a payout stands", () => {
  it("says which level waits for whom, as the approvals queue shows it", () => {
    expect(approvalStanding([treasuryTwo, adminLevel], [], maker, groupName).summary).toBe("Level 1 of 2: 0 of 2 approvals; waiting for treasury");
    expect(approvalStanding([treasuryTwo, adminLevel], [{ approverId: "t1", level: 1 }], maker, groupName).summary).toBe(
      "Level 1 of 2: 1 of 2 approvals; waiting for treasury",
    );
    const two = approvalStanding([treasuryTwo, adminLevel], [{ approverId: "t1", level: 1 }, { approverId: "t2", level: 1 }], maker, groupName);
    expect(two).toMatchObject({ currentLevel: 2, complete: false, summary: "Level 2 of 2: 0 of 1 approval; waiting for an admin" });
    const done = approvalStanding([treasuryTwo, adminLevel], [{ approverId: "t1", level: 1 }, { approverId: "t2", level: 1 }, { approverId: "a1", level: 2 }], maker, groupName);
    expect(done).toMatchObject({ currentLevel: null, complete: true, summary: "Approved at every level (2 of 2)" });
    expect(approvalStanding([{ ...approverLevel, count: 3 }], [{ approverId: "x", level: 1 }], maker, groupName).summary).toBe(
      "Level 1 of 1: 1 of 3 approvals; waiting for 2 approvers",
    );
  });
  it("never counts the maker, nor one person twice or at two levels", () => {
    const standing = approvalStanding(
      [{ ...approverLevel, count: 2 }, adminLevel],
      [
        { approverId: maker, level: 1 },
        { approverId: "a", level: 1 },
        { approverId: "a", level: 1 },
        { approverId: "a", level: 2 },
      ],
      maker,
      groupName,
    );
    expect(standing.levels.map((l) => l.approverIds)).toEqual([["a"], []]);
    expect(standing.complete).toBe(false);
  });
});

describe("who may approve now", () => {
  const levels = [approverLevel, adminLevel];
  it("refuses the maker, whatever their role", () => {
    expect(eligibility(levels, [], person(maker, "approver"))).toMatchObject({ ok: false, refusal: { rule: "approval.own_payout" } });
  });
  it("refuses payouts no longer waiting, and a second decision by the same person", () => {
    expect(eligibility(levels, [], person("ap", "approver"), "approved")).toMatchObject({ ok: false, refusal: { rule: "approval.not_pending", message: expect.stringMatching(/approved, not waiting/) } });
    expect(eligibility([{ ...approverLevel, count: 2 }], [{ approverId: "ap", level: 1 }], person("ap", "approver"))).toMatchObject({
      ok: false,
      refusal: { rule: "approval.already_decided" },
    });
  });
  it("gives each person the current level only, in order", () => {
    expect(eligibility(levels, [], person("ap", "approver"))).toEqual({ ok: true, level: 1 });
    expect(eligibility(levels, [], person("ad", "admin"))).toMatchObject({
      ok: false,
      refusal: { rule: "approval.earlier_level", message: "Level 1 of 2 (approvers) comes first; you count at level 2" },
    });
    expect(eligibility(levels, [{ approverId: "ap", level: 1 }], person("ad", "admin"))).toEqual({ ok: true, level: 2 });
    // The level-1 approver may not come back at level 2, even if they could count there.
    const either: PolicyLevel[] = [approverLevel, { approvers: "group", groupId: TREASURY, count: 1 }];
    expect(eligibility(either, [{ approverId: "ap", level: 1 }], person("ap", "approver", [TREASURY]))).toMatchObject({ ok: false, refusal: { rule: "approval.already_decided" } });
  });
  it("counts a group's approvers and admins only, and says why a non-member may not", () => {
    const group = [treasuryTwo];
    expect(eligibility(group, [], person("t", "approver", [TREASURY]))).toEqual({ ok: true, level: 1 });
    expect(eligibility(group, [], person("t", "admin", [TREASURY]))).toEqual({ ok: true, level: 1 });
    expect(eligibility(group, [], person("o", "approver"))).toMatchObject({
      ok: false,
      refusal: { rule: "approval.not_eligible", message: "Level 1 of 1 needs treasury; you are not a member of treasury" },
    });
    expect(eligibility(group, [], person("v", "viewer", [TREASURY]))).toMatchObject({ ok: false, refusal: { rule: "approval.not_eligible" } });
    expect(eligibility([adminLevel], [], person("ap", "approver"))).toMatchObject({ ok: false, refusal: { message: "Level 1 of 1 needs admins; you are an approver" } });
  });
  it("lets anyone the payout still waits for reject it, and nobody else", () => {
    const input = (who: PolicyPerson, approvals: CountedApproval[] = []) => ({
      levels,
      approvals,
      deciderIds: approvals.map((a) => a.approverId),
      makerId: maker,
      status: "pending_approval",
      person: who,
      groupName,
    });
    expect(rejectionRefusal(input(person("ad", "admin")))).toBeNull(); // level 2 may stop it early
    expect(rejectionRefusal(input(person("ap", "approver")))).toBeNull();
    expect(rejectionRefusal(input(person("ap2", "approver"), [{ approverId: "ap", level: 1 }]))?.rule).toBe("approval.not_eligible"); // level 1 is done
    expect(rejectionRefusal(input(person(maker, "approver")))?.rule).toBe("approval.own_payout");
  });
});

describe("checking a proposed policy", () => {
  const context: PolicyCheckContext = {
    connectionIds: new Set([PAWAPAY]),
    groupIds: new Set([TREASURY]),
    eligibleCount: (level) => (level.approvers === "group" ? 2 : level.approvers === "admin" ? 1 : 3),
    groupName,
  };
  const input = (over: Partial<PolicyInput> = {}): PolicyInput => ({
    rules: [
      { name: "Large USD", currency: "USD", above: "50,000", levels: [{ approvers: "group", groupId: TREASURY, count: 2 }], allowOverBalance: false },
      { name: "Medium USD", currency: "usd", above: "1000", upTo: "50000", levels: [{ approvers: "approver", count: 1 }, { approvers: "admin", count: 1 }], allowOverBalance: true },
    ],
    defaultRule: { levels: [{ approvers: "approver", count: 1 }], allowOverBalance: true },
    approvalWindowHours: 168,
    ...over,
  });

  it("stores amounts as exact minor units and upper-cases codes", () => {
    const checked = checkPolicyInput(input(), context);
    expect(checked.ok).toBe(true);
    if (!checked.ok) return;
    expect(checked.policy.rules[0]).toMatchObject({ currency: "USD", aboveMinor: "5000000", upToMinor: null, allowOverBalance: false });
    expect(checked.policy.rules[1]).toMatchObject({ currency: "USD", aboveMinor: "100000", upToMinor: "5000000" });
    // What is stored reads back the same.
    expect(readPolicy(JSON.parse(JSON.stringify(checked.policy)))).toEqual(checked.policy);
  });

  it("names the rule and the field of every problem", () => {
    const checked = checkPolicyInput(
      input({
        rules: [
          { name: "", above: "100", levels: [], allowOverBalance: true },
          { name: "Dup", currency: "USD", above: "100", upTo: "50", levels: [{ approvers: "group", groupId: null, count: 1 }], allowOverBalance: true },
          { name: "dup", currency: "XXY", connectionId: "f00dfeed-0000-4000-8000-000000000000", recipientCountry: "Zambia", levels: [{ approvers: "admin", count: 2 }], allowOverBalance: true },
          { name: "Cents", currency: "UGX", upTo: "10.5", levels: [{ approvers: "boss", count: 0 }], allowOverBalance: true },
        ],
        approvalWindowHours: 0,
      }),
      context,
    );
    expect(checked.ok).toBe(false);
    if (checked.ok) return;
    expect(checked.errors).toMatchObject({
      "rules.0.name": "Rule 1: give the rule a name",
      "rules.0.currency": expect.stringMatching(/^Rule 1: an amount range needs a currency/),
      "rules.0.levels": "Rule 1: add at least one level of approvers",
      "rules.1.upTo": expect.stringMatching(/^Rule 2 \("Dup"\): "up to" \(50\.00 USD\) must be more than "above" \(100\.00 USD\)/),
      "rules.1.levels.0.groupId": 'Rule 2 ("Dup"), level 1: choose the group',
      "rules.2.name": expect.stringMatching(/rule 2 has this name already/),
      "rules.2.currency": expect.stringMatching(/XXY is not a currency code/),
      "rules.2.connectionId": expect.stringMatching(/choose one of the desk's connections/),
      "rules.2.recipientCountry": expect.stringMatching(/two-letter country code/),
      "rules.2.levels.0.count": expect.stringMatching(/needs 2 different admins but the desk has 1 who could approve/),
      "rules.3.upTo": expect.stringMatching(/UGX has no minor unit/),
      "rules.3.levels.0.approvers": expect.stringMatching(/choose approvers, admins or a group/),
      "rules.3.levels.0.count": expect.stringMatching(/from 1 to 10 people/),
      approvalWindowHours: expect.stringMatching(/whole hours from 1/),
    });
  });
});

describe("the diff of two policies", () => {
  const names = { connection: (id: string) => (id === PAWAPAY ? "pawaPay sandbox" : undefined), group: groupName };
  it("names added, removed and changed rules and settings in words", () => {
    const after: ApprovalPolicy = {
      ...POLICY,
      rules: [{ ...POLICY.rules[0]!, levels: [{ ...treasuryTwo, count: 3 }] }, POLICY.rules[1]!, POLICY.rules[3]!],
      approvalWindowHours: 72, // whole days read as days
    };
    const diff = policyDiff(POLICY, after, names);
    expect(diff).toEqual(expect.arrayContaining([
      { subject: 'Rule "Small USD"', before: "3. USD, up to 1,000.00 USD: 1 approver", after: null },
      { subject: 'Rule "Zambia on pawaPay"', before: "4. pawaPay sandbox, recipients in ZM: 1 admin", after: "3. pawaPay sandbox, recipients in ZM: 1 admin" },
      {
        subject: 'Rule "Large USD"',
        before: "1. USD, above 50,000.00 USD: 2 of treasury; never past the available balance",
        after: "1. USD, above 50,000.00 USD: 3 of treasury; never past the available balance",
      },
      { subject: "Approval window", before: "7 days", after: "3 days" },
    ]));
    expect(diff).toHaveLength(4);
    expect(policyDiff(DEFAULT_APPROVAL_POLICY, DEFAULT_APPROVAL_POLICY, names)).toEqual([]);
  });
});

describe("acknowledgements", () => {
  it("asks for one only when the balance is known and this payout goes past it", () => {
    const base = { balanceMinor: 1000n, snapshotAt: new Date(), reservedMinor: 0n, inFlightMinor: 0n, availableMinor: 1000n };
    expect(overBalance({ ...base, remainingMinor: -1n })).toBe(true);
    expect(overBalance({ ...base, remainingMinor: 0n })).toBe(false);
    expect(overBalance({ ...base, balanceMinor: null, availableMinor: null, remainingMinor: null })).toBe(false);
    expect(overBalance(null)).toBe(false);
  });
});
