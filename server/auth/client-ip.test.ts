import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clientIp, normalizeAddress, parseTrustedProxies, trustedProxiesFromEnv, UNKNOWN_PEER } from "./client-ip";
import { installPeerAddressStamp, PEER_HEADER } from "./peer-address";

const none = parseTrustedProxies(undefined);

describe("the client address", () => {
  it("ignores forwarded headers entirely when no proxy is trusted", () => {
    const headers = new Headers({ "x-forwarded-for": "6.6.6.6", "x-real-ip": "7.7.7.7" });
    expect(clientIp(headers, { trustedProxies: none, peer: "192.0.2.10" })).toBe("192.0.2.10");
    // No socket address and nothing trusted: one honest bucket, not the client's choice.
    expect(clientIp(headers, { trustedProxies: none })).toBe(UNKNOWN_PEER);
  });

  it("walks X-Forwarded-For from the right past trusted proxies; the first untrusted hop is the client", () => {
    const trusted = parseTrustedProxies("10.0.0.0/8, 192.168.1.1");
    // The client prepended a forged hop; the proxy appended what it saw.
    const headers = { "x-forwarded-for": "6.6.6.6, 203.0.113.9, 10.1.1.1" };
    expect(clientIp(headers, { trustedProxies: trusted, peer: "192.168.1.1" })).toBe("203.0.113.9");
    expect(clientIp({ "x-forwarded-for": "203.0.113.9" }, { trustedProxies: trusted, peer: "10.0.0.2" })).toBe("203.0.113.9");
    // Split over several header lines, as HTTP allows.
    expect(clientIp({ "x-forwarded-for": ["6.6.6.6", "203.0.113.9"] }, { trustedProxies: trusted, peer: "10.0.0.2" })).toBe("203.0.113.9");
  });

  it("believes no header from a peer that is not a trusted proxy", () => {
    const trusted = parseTrustedProxies("10.0.0.1");
    expect(clientIp({ "x-forwarded-for": "6.6.6.6, 10.0.0.1" }, { trustedProxies: trusted, peer: "198.51.100.20" })).toBe("198.51.100.20");
  });

  it("stops at the last vouched-for hop when the chain holds something that is not an address", () => {
    const trusted = parseTrustedProxies("10.0.0.0/8");
    expect(clientIp({ "x-forwarded-for": "not-an-ip, 10.2.2.2" }, { trustedProxies: trusted, peer: "10.0.0.1" })).toBe("10.2.2.2");
    expect(clientIp({ "x-forwarded-for": "10.3.3.3, 10.2.2.2" }, { trustedProxies: trusted, peer: "10.0.0.1" })).toBe("10.3.3.3");
    expect(clientIp({}, { trustedProxies: trusted, peer: "10.0.0.1" })).toBe("10.0.0.1");
  });

  it("assumes the proxies are the only way in when the peer is unknown and proxies are configured", () => {
    const trusted = parseTrustedProxies("10.0.0.1");
    expect(clientIp({ "x-forwarded-for": "6.6.6.6, 203.0.113.9" }, { trustedProxies: trusted })).toBe("203.0.113.9");
  });

  it("spells one address one way: IPv4-mapped IPv6, ports, brackets and case", () => {
    expect(normalizeAddress("::FFFF:192.0.2.1")).toBe("192.0.2.1");
    expect(normalizeAddress("192.0.2.1:5555")).toBe("192.0.2.1");
    expect(normalizeAddress("[2001:DB8::1]:443")).toBe("2001:db8::1");
    expect(normalizeAddress("fe80::1%eth0")).toBe("fe80::1");
    expect(normalizeAddress("unknown")).toBeNull();
    const trusted = parseTrustedProxies("10.0.0.0/8, 2001:db8::/32");
    expect(clientIp({ "x-forwarded-for": "[2001:db8:ffff::5]:1234" }, { trustedProxies: trusted, peer: "::ffff:10.9.9.9" })).toBe("2001:db8:ffff::5");
    expect(clientIp({ "x-forwarded-for": "203.0.113.9:41000, 2001:db8::7" }, { trustedProxies: trusted, peer: "10.9.9.9" })).toBe("203.0.113.9");
  });

  it("refuses a DESK_TRUSTED_PROXIES entry that is not an address or range, naming it", () => {
    for (const bad of ["proxy.internal", "10.0.0.0/33", "10.0.0.0/8/1", "10.0.0.0/", "2001:db8::/129"]) {
      expect(() => parseTrustedProxies(`127.0.0.1, ${bad}`)).toThrow(new RegExp(`DESK_TRUSTED_PROXIES: "${bad.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}" is not an IP address or a CIDR range`));
    }
    expect(parseTrustedProxies(" , 127.0.0.1 ,, ::1 ").entries).toEqual(["127.0.0.1", "::1"]);
  });

  it("reads DESK_TRUSTED_PROXIES from the environment", () => {
    expect(trustedProxiesFromEnv({ DESK_TRUSTED_PROXIES: "10.0.0.0/8" }).has("10.20.30.40")).toBe(true);
    expect(trustedProxiesFromEnv({}).entries).toEqual([]);
  });
});

describe("the peer stamp over real HTTP", () => {
  let server: http.Server;
  let url: string;
  let trustedForServer = none;
  beforeAll(async () => {
    installPeerAddressStamp();
    server = http.createServer((req, res) => {
      // What a route handler sees: only headers (Next.js hands it a web Request).
      const headers = new Headers();
      for (const [name, value] of Object.entries(req.headers)) if (typeof value === "string") headers.set(name, value);
      res.end(clientIp(headers, { trustedProxies: trustedForServer }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("gives the socket peer even when the client forges the forwarding and the stamp headers", async () => {
    trustedForServer = none;
    const answer = await fetch(url, { headers: { "x-forwarded-for": "6.6.6.6", [PEER_HEADER]: "guessed-token 6.6.6.6" } });
    expect(await answer.text()).toBe("127.0.0.1");
  });

  it("follows X-Forwarded-For when the peer is a trusted proxy", async () => {
    trustedForServer = parseTrustedProxies("127.0.0.1");
    const answer = await fetch(url, { headers: { "x-forwarded-for": "6.6.6.6, 198.51.100.3" } });
    expect(await answer.text()).toBe("198.51.100.3");
  });
});
