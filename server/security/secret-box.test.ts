import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { open, parseKey, seal } from "./secret-box";

describe("secret box", () => {
  const key = randomBytes(32);
  it("round-trips and never shows the plaintext", () => {
    const sealed = seal('{"apiToken":"tok"}', key, "conn-1");
    expect(sealed).not.toContain("tok");
    expect(open(sealed, key, "conn-1")).toBe('{"apiToken":"tok"}');
  });
  it("refuses another key, another owner, or a tampered value", () => {
    const sealed = seal("secret", key, "conn-1");
    expect(() => open(sealed, randomBytes(32), "conn-1")).toThrow(/could not be decrypted/);
    expect(() => open(sealed, key, "conn-2")).toThrow(/could not be decrypted/);
    const parts = sealed.split(".");
    parts[3] = Buffer.from("x" + Buffer.from(parts[3]!, "base64url").toString("latin1")).toString("base64url");
    expect(() => open(parts.join("."), key, "conn-1")).toThrow();
  });
  it("names the missing or malformed key", () => {
    expect(() => parseKey(undefined)).toThrow(/DESK_CREDENTIALS_KEY is not set/);
    expect(() => parseKey(Buffer.alloc(16).toString("base64"))).toThrow(/32 bytes/);
  });
});
