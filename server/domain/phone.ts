// MSISDN validation per country, on libphonenumber's metadata.
// Providers want the number as digits with the country code, no '+'.
import { parsePhoneNumberFromString, type CountryCode } from "libphonenumber-js/max";

export type PhoneCheck =
  | { ok: true; msisdn: string; country: string; international: string }
  | { ok: false; rule: string; message: string };

/**
 * Reads a recipient number typed by a person. Spaces, dashes and a leading
 * '+' are layout and are dropped; anything else must be digits. The country
 * code is required (a local "0…" number is refused rather than guessed),
 * and the number must be a valid mobile number of that country. When
 * `expectedCountry` is given, a number from another country is refused.
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
  if (!parsed || !parsed.country) {
    return { ok: false, rule: "phone.country_code", message: "The number does not start with a known country code" };
  }
  if (!parsed.isValid()) {
    return {
      ok: false,
      rule: "phone.invalid",
      message: `Not a valid ${regionName(parsed.country)} number: check the length and the network prefix`,
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
      message: `This is a ${regionName(parsed.country)} number; this payout needs a ${regionName(expectedCountry as CountryCode)} number`,
    };
  }
  return { ok: true, msisdn: digits, country: parsed.country, international: parsed.formatInternational() };
}

function regionName(code: string): string {
  try {
    return new Intl.DisplayNames(["en"], { type: "region" }).of(code) ?? code;
  } catch {
    return code;
  }
}
