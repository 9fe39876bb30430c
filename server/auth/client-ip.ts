// Who is on the other end of a request. Sign-in throttling and audit entries
// key on this address, so a client must not be able to choose it: an
// `X-Forwarded-For` header is believed only as far as it was written by a
// proxy the operator named in DESK_TRUSTED_PROXIES.
//
// Next.js gives route handlers no socket address. It copies the peer into
// `x-forwarded-for` only when the client sent none, so that header alone
// cannot tell a forged value from the real peer. The server process stamps
// each request with its peer address instead (see peer-address.ts); without
// that stamp the honest fallback is below, in clientIp.
import { BlockList, isIP } from "node:net";
import { stampedPeer } from "./peer-address";

/** The bucket every request falls into when the peer cannot be known. */
export const UNKNOWN_PEER = "local";

export interface TrustedProxies {
  /** As configured, for messages. */
  readonly entries: readonly string[];
  has(address: string): boolean;
}

/**
 * Parses DESK_TRUSTED_PROXIES: comma-separated IP addresses or CIDR ranges
 * (`10.0.0.0/8`, `::1`, `fd00::/8`). A bad entry is an error, not skipped:
 * a typo would otherwise silently turn proxy addresses into client addresses.
 */
export function parseTrustedProxies(value: string | undefined): TrustedProxies {
  const list = new BlockList();
  const entries = (value ?? "")
    .split(",")
    .map((entry) => entry.trim())
    .filter(Boolean);
  for (const entry of entries) {
    const [rawAddress, prefixText, extra] = entry.split("/");
    const address = normalizeAddress(rawAddress ?? "");
    const family = address ? isIP(address) : 0;
    const maxPrefix = family === 4 ? 32 : 128;
    const prefix = prefixText === undefined ? maxPrefix : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
    if (!address || !family || extra !== undefined || !(prefix >= 0 && prefix <= maxPrefix)) {
      throw new Error(`DESK_TRUSTED_PROXIES: "${entry}" is not an IP address or a CIDR range such as 10.0.0.0/8`);
    }
    list.addSubnet(address, prefix, family === 4 ? "ipv4" : "ipv6");
  }
  return {
    entries,
    has(candidate) {
      const address = normalizeAddress(candidate);
      const family = address ? isIP(address) : 0;
      return family !== 0 && list.check(address!, family === 4 ? "ipv4" : "ipv6");
    },
  };
}

let cached: { value: string | undefined; proxies: TrustedProxies } | undefined;

/** DESK_TRUSTED_PROXIES as parsed once per distinct value (tests change it). */
export function trustedProxiesFromEnv(env: Readonly<Record<string, string | undefined>> = process.env): TrustedProxies {
  const value = env.DESK_TRUSTED_PROXIES;
  if (cached && cached.value === value) return cached.proxies;
  const proxies = parseTrustedProxies(value);
  cached = { value, proxies };
  return proxies;
}

type HeaderBag = Headers | Record<string, string | string[] | undefined>;

function header(headers: HeaderBag, name: string): string[] {
  if (headers instanceof Headers) {
    const value = headers.get(name);
    return value === null ? [] : [value];
  }
  const value = headers[name];
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

export interface ClientIpOptions {
  trustedProxies?: TrustedProxies;
  /** The socket peer, when known; by default the address stamped on the request by this server process. */
  peer?: string;
}

/**
 * The client's address: the chain is the X-Forwarded-For entries followed by
 * the socket peer; walking it from the right, trusted proxies are skipped and
 * the first hop not trusted is the client (the hops to its left were written
 * by that client and prove nothing).
 *
 * With no trusted proxies, forwarded headers are ignored entirely and the
 * client is the peer. When the peer is unknown (no stamp: not running under
 * the desk's server process), every request with no trusted proxies counts as
 * UNKNOWN_PEER, and with trusted proxies configured the desk assumes it is
 * reachable only through them (the deployment the setting describes).
 */
export function clientIp(headers: HeaderBag | undefined, options: ClientIpOptions = {}): string {
  const bag = headers ?? {};
  const trusted = options.trustedProxies ?? trustedProxiesFromEnv();
  const peer = normalizeAddress(options.peer ?? stampedPeer(bag) ?? "");
  if (trusted.entries.length === 0) return peer ?? UNKNOWN_PEER;

  const forwarded = header(bag, "x-forwarded-for")
    .flatMap((value) => value.split(","))
    .map((hop) => hop.trim())
    .filter(Boolean);
  if (peer && !trusted.has(peer)) return peer;

  // Right to left: each trusted hop vouches for the entry to its left.
  let client = peer ?? UNKNOWN_PEER;
  for (let i = forwarded.length - 1; i >= 0; i--) {
    const hop = normalizeAddress(forwarded[i]!);
    // A trusted proxy writes a real address; anything else means the chain is
    // not what the proxies wrote, so stop at the last hop that was vouched for.
    if (!hop) return client;
    client = hop;
    if (!trusted.has(hop)) return hop;
  }
  return client;
}

/**
 * One spelling per address, so the same client is one throttling bucket:
 * IPv4-mapped IPv6 becomes IPv4, ports and brackets are dropped, IPv6 is
 * lower case. Null when the text is not an IP address.
 */
export function normalizeAddress(text: string): string | null {
  let value = text.trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(value);
  if (bracketed) value = bracketed[1]!;
  else if (/^\d{1,3}(\.\d{1,3}){3}:\d+$/.test(value)) value = value.slice(0, value.lastIndexOf(":"));
  const zone = value.indexOf("%");
  if (zone >= 0) value = value.slice(0, zone);
  value = value.toLowerCase();
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(value);
  if (mapped) value = mapped[1]!;
  return isIP(value) ? value : null;
}
