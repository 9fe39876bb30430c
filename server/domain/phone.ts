// MSISDN validation per country, on libphonenumber's metadata.
// Providers want the number as digits with the country code, no '+'.
import {
  getExampleNumber,
  parsePhoneNumberFromString,
  validatePhoneNumberLength,
  type CountryCode,
  type PhoneNumber,
} from "libphonenumber-js/max";
import mobileExamples from "libphonenumber-js/mobile/examples";

export type PhoneCheck =
  | { ok: true; msisdn: string; country: string; international: string }
  | { ok: false; rule: string; message: string };

/**
 * Reads a recipient number typed by a person. Spaces, dashes and a leading
 * '+' are layout and are dropped; anything else must be digits. The country
 * code is required (a local "0…" number is refused rather than guessed),
 * and the number must be a valid mobile number of that country. When
 * `expectedCountry` is given, a number from another country is refused.
 * Each refusal names what is actually wrong: the length, the country code,
 * the area or network prefix, or the country.
 */
export function checkMsisdn(input: string, expectedCountry?: string | null): PhoneCheck {
  const compact = input.trim().replace(/[\s\-().]/g, "");
  if (compact === "") return { ok: false, rule: "phone.required", message: "Enter the recipient's phone number" };
  const digits = compact.startsWith("+") ? compact.slice(1) : compact;
  if (!/^\d+$/.test(digits)) {
    return { ok: false, rule: "phone.digits", message: "Use digits only, with the country code (e.g. 260763456789)" };
  }
  if (digits.startsWith("0")) {
    return {
      ok: false,
      rule: "phone.country_code",
      message: "Start with the country code, not 0 (e.g. 260763456789 for Zambia)",
    };
  }
  const parsed = parsePhoneNumberFromString(`+${digits}`);
  const length = validatePhoneNumberLength(`+${digits}`);
  if (length === "INVALID_COUNTRY" || (!parsed && length === undefined)) {
    return { ok: false, rule: "phone.country_code", message: "The number does not start with a known country code (e.g. 260 for Zambia, 256 for Uganda)" };
  }
  if (length === "TOO_SHORT" || length === "TOO_LONG" || length === "INVALID_LENGTH") {
    return lengthRefusal(digits, length, parsed);
  }
  if (!parsed) {
    return { ok: false, rule: "phone.invalid", message: "This is not a phone number: check the digits" };
  }
  if (!parsed.country) {
    // The calling code exists (e.g. +1) but no country of it uses this range.
    return {
      ok: false,
      rule: "phone.unassigned",
      message: `Country code +${parsed.countryCallingCode} is right, but ${spaced(parsed)} is not a number in use there: check the area or network code`,
    };
  }
  if (!parsed.isValid()) {
    return {
      ok: false,
      rule: "phone.invalid",
      message: `Not a valid ${adjectiveOr(parsed.country)} number: the length is right, but ${parsed.nationalNumber.slice(0, 2)}… is not a network or area code in use there`,
    };
  }
  const type = parsed.getType();
  if (type === "FIXED_LINE" || type === "TOLL_FREE" || type === "PREMIUM_RATE" || type === "SHARED_COST") {
    return { ok: false, rule: "phone.not_mobile", message: "This is not a mobile number; mobile money needs a mobile number" };
  }
  if (expectedCountry && parsed.country !== expectedCountry.toUpperCase()) {
    return {
      ok: false,
      rule: "phone.country_mismatch",
      message: `This is ${numbersOf(parsed.country, "one")}; this payout needs ${numbersOf(expectedCountry.toUpperCase(), "one")}`,
    };
  }
  return { ok: true, msisdn: digits, country: parsed.country, international: parsed.formatInternational() };
}

function lengthRefusal(digits: string, length: "TOO_SHORT" | "TOO_LONG" | "INVALID_LENGTH", parsed: PhoneNumber | undefined): PhoneCheck {
  const rule = length === "TOO_SHORT" ? "phone.too_short" : length === "TOO_LONG" ? "phone.too_long" : "phone.length";
  const problem = length === "TOO_SHORT" ? "Too short" : length === "TOO_LONG" ? "Too long" : "Wrong length";
  const count = `${digits.length} digit${digits.length === 1 ? "" : "s"}`;
  const country = parsed?.country;
  const example = country ? getExampleNumber(country, mobileExamples)?.number.slice(1) : undefined;
  if (country && example) {
    return {
      ok: false,
      rule,
      message: `${problem} for ${numbersOf(country, "one")}: this has ${count}; ${adjectiveOr(country)} mobile numbers have ${example.length} with the country code (e.g. ${example})`,
    };
  }
  return { ok: false, rule, message: `${problem}: this has ${count} with the country code (e.g. 260763456789 has 12)` };
}

/** "+1 555 123 4500" without the '+' of the calling code repeated. */
function spaced(parsed: PhoneNumber): string {
  return parsed.formatInternational().replace(/^\+\d+\s*/, "");
}

// How the finance team says "a Ugandan number". Countries the providers pay to
// first; any other country reads "a number from <country name>".
const ADJECTIVES: Readonly<Record<string, string>> = {
  UG: "Ugandan",
  ZM: "Zambian",
  KE: "Kenyan",
  GH: "Ghanaian",
  TZ: "Tanzanian",
  RW: "Rwandan",
  MW: "Malawian",
  MZ: "Mozambican",
  NG: "Nigerian",
  CM: "Cameroonian",
  CI: "Ivorian",
  SN: "Senegalese",
  BJ: "Beninese",
  BF: "Burkinabe",
  CD: "Congolese (DRC)",
  CG: "Congolese",
  GA: "Gabonese",
  SL: "Sierra Leonean",
  ET: "Ethiopian",
  ZA: "South African",
  ZW: "Zimbabwean",
  IN: "Indian",
  PH: "Philippine",
  ID: "Indonesian",
  VN: "Vietnamese",
  BR: "Brazilian",
  MX: "Mexican",
  US: "US",
  CA: "Canadian",
  GB: "UK",
  EE: "Estonian",
};

function adjectiveOr(country: string): string {
  return ADJECTIVES[country] ?? regionName(country);
}

/**
 * "a Ugandan number" (one) or "Ugandan numbers"; for a country without an
 * adjective here, "a number from Estonia" / "numbers from Estonia".
 */
export function numbersOf(country: string, count: "one" | "many" = "many"): string {
  const adjective = ADJECTIVES[country.toUpperCase()];
  if (adjective) {
    if (count === "many") return `${adjective} numbers`;
    return `${/^[AEIO]/.test(adjective) ? "an" : "a"} ${adjective} number`;
  }
  const name = regionName(country.toUpperCase());
  return count === "many" ? `numbers from ${name}` : `a number from ${name}`;
}

function regionName(code: string): string {
  try {
    return new Intl.DisplayNames(["en"], { type: "region" }).of(code as CountryCode) ?? code;
  } catch {
    return code;
  }
}
