import { describe, expect, it } from "vitest";
import { approvalRefusal, approvalsComplete, DEFAULT_APPROVAL_POLICY } from "./approval-policy";

describe("approval policy", () => {
  it("never lets the maker approve their own payout", () => {
    expect(approvalRefusal({ approverId: "u1", makerId: "u1", status: "pending_approval", priorApproverIds: [] })?.rule).toBe("approval.own_payout");
  });
  it("refuses decisions on payouts no longer pending, and second votes", () => {
    expect(approvalRefusal({ approverId: "u2", makerId: "u1", status: "approved", priorApproverIds: [] })?.rule).toBe("approval.not_pending");
    expect(approvalRefusal({ approverId: "u2", makerId: "u1", status: "pending_approval", priorApproverIds: ["u2"] })?.rule).toBe("approval.already_decided");
    expect(approvalRefusal({ approverId: "u2", makerId: "u1", status: "pending_approval", priorApproverIds: [] })).toBeNull();
  });
  it("counts distinct approvers", () => {
    expect(approvalsComplete({ requiredApprovals: 2 }, ["a", "a"])).toBe(false);
    expect(approvalsComplete({ requiredApprovals: 2 }, ["a", "b"])).toBe(true);
    expect(approvalsComplete(DEFAULT_APPROVAL_POLICY, ["a"])).toBe(true);
  });
});
