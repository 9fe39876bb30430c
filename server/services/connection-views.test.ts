import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestDesk, type TestDesk } from "@/server/testing/desk";
import { seal } from "@/server/security/secret-box";

describe("connection read models", () => {
  let t: TestDesk;
  beforeAll(async () => {
    t = await startTestDesk("pglite");
  });
  afterAll(() => t?.close());

  it("survive a connection whose credentials no longer decrypt, and keep it out of the payout form", async () => {
    // As after DESK_CREDENTIALS_KEY was changed: sealed under another key.
    await t.desk.db.connection.update({
      where: { id: t.pawapayConnectionId },
      data: { credentials: seal('{"apiToken":"x"}', randomBytes(32), t.pawapayConnectionId) },
    });
    const list = await t.caller("admin").connections.list();
    const broken = list.find((c) => c.id === t.pawapayConnectionId);
    expect(broken).toMatchObject({ credentialsUnreadable: true, callbackUrl: expect.stringContaining(t.pawapayConnectionId) });
    expect(list.filter((c) => c.credentialsUnreadable)).toHaveLength(1);
    const form = await t.caller("maker").connections.forPayouts();
    expect(form.map((c) => c.id)).not.toContain(t.pawapayConnectionId);
    expect(form.length).toBeGreaterThanOrEqual(4);
  });
});
