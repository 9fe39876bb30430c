// pawaPay correspondents (mobile money operators) the desk knows how to pay.
//
// pawaPay's own list ("MMO supported decimal places") and the merchant's
// active configuration decide what is really available; this table is the
// desk's offline copy so a maker sees the rules while typing. A connection
// may narrow or amend it with the `correspondents` credential (see
// resolveCorrespondents). Per-merchant amount limits live in pawaPay's
// /active-conf, not here: the desk does not refuse amounts on stale limits.

export interface Correspondent {
  code: string;
  label: string;
  /** ISO 3166-1 alpha-3, as pawaPay writes countries. */
  country: string;
  /** ISO 3166-1 alpha-2, as the desk stores recipient countries. */
  countryAlpha2: string;
  currency: string;
  /** Decimal places the operator accepts in `amount` (0–2). */
  decimals: number;
  /** International dialling code without '+'. */
  dialCode: string;
  /** Full MSISDN length, country code included. */
  msisdnLength: number;
  /** MSISDN prefixes (country code included) that belong to this operator. */
  prefixes: string[];
}

export const CORRESPONDENTS: readonly Correspondent[] = [
  {
    code: "MTN_MOMO_ZMB",
    label: "MTN Mobile Money (Zambia)",
    country: "ZMB",
    countryAlpha2: "ZM",
    currency: "ZMW",
    decimals: 2,
    dialCode: "260",
    msisdnLength: 12,
    prefixes: ["26076", "26096"],
  },
  {
    code: "AIRTEL_OAPI_ZMB",
    label: "Airtel Money (Zambia)",
    country: "ZMB",
    countryAlpha2: "ZM",
    currency: "ZMW",
    decimals: 2,
    dialCode: "260",
    msisdnLength: 12,
    prefixes: ["26077", "26097"],
  },
  {
    code: "ZAMTEL_ZMB",
    label: "Zamtel Kwacha (Zambia)",
    country: "ZMB",
    countryAlpha2: "ZM",
    currency: "ZMW",
    decimals: 2,
    dialCode: "260",
    msisdnLength: 12,
    prefixes: ["26095"],
  },
  {
    code: "MTN_MOMO_UGA",
    label: "MTN Mobile Money (Uganda)",
    country: "UGA",
    countryAlpha2: "UG",
    currency: "UGX",
    decimals: 0,
    dialCode: "256",
    msisdnLength: 12,
    prefixes: ["25676", "25677", "25678", "25639"],
  },
  {
    code: "AIRTEL_OAPI_UGA",
    label: "Airtel Money (Uganda)",
    country: "UGA",
    countryAlpha2: "UG",
    currency: "UGX",
    decimals: 0,
    dialCode: "256",
    msisdnLength: 12,
    prefixes: ["25670", "25674", "25675", "25620"],
  },
  {
    code: "MTN_MOMO_GHA",
    label: "MTN Mobile Money (Ghana)",
    country: "GHA",
    countryAlpha2: "GH",
    currency: "GHS",
    decimals: 2,
    dialCode: "233",
    msisdnLength: 12,
    prefixes: ["23324", "23353", "23354", "23355", "23359"],
  },
  {
    code: "MPESA_KEN",
    label: "M-Pesa (Kenya)",
    country: "KEN",
    countryAlpha2: "KE",
    currency: "KES",
    decimals: 0,
    dialCode: "254",
    msisdnLength: 12,
    // Safaricom ranges 070x–072x, 0740–0743/0745–0748, 079x, 011x (longest prefix wins).
    prefixes: ["25470", "25471", "25472", "25479", "254740", "254741", "254742", "254743", "254745", "254746", "254748", "25411"],
  },
];

/**
 * The table for one connection. The `correspondents` credential is either a
 * comma-separated list of codes (only those are offered, like the merchant's
 * active configuration) or a JSON array of objects that add to or amend the
 * built-in entries by code (e.g. `[{"code":"ZAMTEL_ZMB","decimals":0}]`).
 */
export function resolveCorrespondents(setting: string | undefined): Correspondent[] {
  const base = CORRESPONDENTS.map((c) => ({ ...c, prefixes: [...c.prefixes] }));
  const text = setting?.trim();
  if (!text) return base;
  if (text.startsWith("[")) {
    const amendments = JSON.parse(text) as Array<Partial<Correspondent> & { code: string }>;
    const byCode = new Map(base.map((c) => [c.code, c]));
    for (const amendment of amendments) {
      if (!amendment || typeof amendment.code !== "string") throw new Error("Each correspondents entry needs a code");
      const existing = byCode.get(amendment.code);
      if (existing) Object.assign(existing, amendment);
      else byCode.set(amendment.code, completeEntry(amendment));
    }
    return [...byCode.values()];
  }
  const wanted = text.split(",").map((code) => code.trim().toUpperCase()).filter(Boolean);
  const unknown = wanted.filter((code) => !base.some((c) => c.code === code));
  if (unknown.length > 0) throw new Error(`Unknown pawaPay correspondent(s): ${unknown.join(", ")}; describe them as JSON instead`);
  return base.filter((c) => wanted.includes(c.code));
}

function completeEntry(entry: Partial<Correspondent> & { code: string }): Correspondent {
  const missing = (["country", "countryAlpha2", "currency", "decimals", "dialCode", "msisdnLength"] as const).filter((k) => entry[k] === undefined);
  if (missing.length > 0) throw new Error(`Correspondent ${entry.code} needs ${missing.join(", ")}`);
  return { label: entry.code, prefixes: [], ...entry } as Correspondent;
}

/** The operator a number belongs to, by its longest matching prefix. */
export function predictCorrespondent(msisdn: string, table: readonly Correspondent[]): Correspondent | null {
  let best: Correspondent | null = null;
  let bestLength = 0;
  for (const correspondent of table) {
    for (const prefix of correspondent.prefixes) {
      if (msisdn.startsWith(prefix) && prefix.length > bestLength) {
        best = correspondent;
        bestLength = prefix.length;
      }
    }
  }
  return best;
}

/**
 * The pawaPay MSISDN rules: digits only, no leading zero, country code
 * first, exactly the country's length. Returns a sentence naming the rule
 * broken, or null when the number is acceptable for `correspondent`.
 */
export function msisdnProblem(msisdn: string, correspondent: Correspondent | null, table: readonly Correspondent[]): string | null {
  if (!/^\d+$/.test(msisdn)) return "Use digits only, with the country code and no '+', spaces or dashes (e.g. 260763456789)";
  if (msisdn.startsWith("0")) return "Start with the country code, not 0 (e.g. 260763456789)";
  const country = correspondent ?? table.find((c) => msisdn.startsWith(c.dialCode)) ?? null;
  if (!country) return "The number's country code is not one pawaPay pays to on this connection";
  if (!msisdn.startsWith(country.dialCode)) {
    return `${correspondent?.label ?? country.country} numbers start with ${country.dialCode}`;
  }
  if (msisdn.length !== country.msisdnLength) {
    return `A ${country.country} number has ${country.msisdnLength} digits with the country code ${country.dialCode}; this one has ${msisdn.length}`;
  }
  return null;
}
