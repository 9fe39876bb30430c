import { describe, expect, it } from "vitest";
import {
  addDays,
  canonicalTimeZone,
  exportFileName,
  formatDays,
  formatInZone,
  isDay,
  offsetMsAt,
  resolvePeriod,
  slug,
  startOfDay,
  unexplainedMovement,
  zonedDay,
} from "./statement";

const HOUR = 3_600_000;

function period(preset: Parameters<typeof resolvePeriod>[0]["preset"], zone: string, now: string, custom: { from?: string; to?: string } = {}) {
  const result = resolvePeriod({ preset, ...custom }, zone, new Date(now));
  if (!result.ok) throw new Error(JSON.stringify(result.fields));
  return { from: result.period.from.toISOString(), to: result.period.to.toISOString(), firstDay: result.period.firstDay, lastDay: result.period.lastDay };
}

describe("time zones", () => {
  it("knows IANA zones by their canonical name and refuses the rest", () => {
    expect(canonicalTimeZone("Europe/London")).toBe("Europe/London");
    expect(canonicalTimeZone("europe/london")).toBe("Europe/London");
    expect(canonicalTimeZone("UTC")).toBe("UTC");
    for (const bad of ["", "Mars/Olympus_Mons", "+01:00", "Europe/London\u0000", "x".repeat(65), "../etc/passwd"]) {
      expect(canonicalTimeZone(bad), bad).toBeNull();
    }
  });

  it("reads offsets from the zone database, DST included", () => {
    expect(offsetMsAt(new Date("2026-01-15T12:00:00Z"), "Europe/London")).toBe(0);
    expect(offsetMsAt(new Date("2026-07-15T12:00:00Z"), "Europe/London")).toBe(HOUR);
    expect(offsetMsAt(new Date("2026-07-15T12:00:00Z"), "Asia/Kolkata")).toBe(5.5 * HOUR);
    expect(offsetMsAt(new Date("2026-07-15T12:00:00Z"), "America/New_York")).toBe(-4 * HOUR);
  });

  it("puts an instant on the zone's calendar day", () => {
    // 23:30 UTC on 31 May is already 1 June in London (BST) and still 31 May in New York.
    expect(zonedDay(new Date("2026-05-31T23:30:00Z"), "Europe/London")).toBe("2026-06-01");
    expect(zonedDay(new Date("2026-05-31T23:30:00Z"), "America/New_York")).toBe("2026-05-31");
    expect(zonedDay(new Date("2026-05-31T23:30:00Z"), "UTC")).toBe("2026-05-31");
  });
});

describe("the start of a day", () => {
  it("is local midnight, whatever the offset", () => {
    expect(startOfDay("2026-05-01", "UTC").toISOString()).toBe("2026-05-01T00:00:00.000Z");
    expect(startOfDay("2026-05-01", "Europe/London").toISOString()).toBe("2026-04-30T23:00:00.000Z");
    expect(startOfDay("2026-05-01", "Asia/Kolkata").toISOString()).toBe("2026-04-30T18:30:00.000Z");
    expect(startOfDay("2026-05-01", "Pacific/Kiritimati").toISOString()).toBe("2026-04-30T10:00:00.000Z");
  });

  it("makes London's spring-forward day 23 hours and its fall-back day 25", () => {
    // 29 March 2026: 01:00 GMT becomes 02:00 BST. 25 October 2026: 02:00 BST becomes 01:00 GMT.
    const spring = startOfDay(addDays("2026-03-29", 1), "Europe/London").getTime() - startOfDay("2026-03-29", "Europe/London").getTime();
    const autumn = startOfDay(addDays("2026-10-25", 1), "Europe/London").getTime() - startOfDay("2026-10-25", "Europe/London").getTime();
    expect(spring).toBe(23 * HOUR);
    expect(autumn).toBe(25 * HOUR);
    expect(startOfDay("2026-03-30", "Europe/London").toISOString()).toBe("2026-03-29T23:00:00.000Z");
    expect(startOfDay("2026-10-26", "Europe/London").toISOString()).toBe("2026-10-26T00:00:00.000Z");
  });

  it("begins when the clocks resume where midnight is skipped, and at the first of two midnights", () => {
    // Chile springs forward at midnight (6 September 2026: 00:00 −04 → 01:00 −03): the day begins at 01:00 local.
    const santiago = startOfDay("2026-09-06", "America/Santiago");
    expect(santiago.toISOString()).toBe("2026-09-06T04:00:00.000Z");
    expect(formatInZone(santiago, "America/Santiago")).toBe("6 Sep 2026, 01:00:00 America/Santiago (UTC-03:00)");
    // …and falls back at midnight (5 April 2026: 00:00 −03 → 23:00 −04 on the 4th), so 00:00 on the 5th happens once, at 04:00 UTC…
    expect(startOfDay("2026-04-05", "America/Santiago").toISOString()).toBe("2026-04-05T04:00:00.000Z");
    // Samoa skipped 30 December 2011 altogether: that day has no length.
    expect(startOfDay("2011-12-30", "Pacific/Apia").getTime()).toBe(startOfDay("2011-12-31", "Pacific/Apia").getTime());
  });
});

describe("periods", () => {
  it("today and yesterday are the zone's days, not UTC's", () => {
    // 23:30 UTC on 31 May: 1 June in London.
    expect(period("today", "Europe/London", "2026-05-31T23:30:00Z")).toEqual({
      from: "2026-05-31T23:00:00.000Z",
      to: "2026-06-01T23:00:00.000Z",
      firstDay: "2026-06-01",
      lastDay: "2026-06-01",
    });
    expect(period("yesterday", "UTC", "2026-05-31T23:30:00Z")).toEqual({
      from: "2026-05-30T00:00:00.000Z",
      to: "2026-05-31T00:00:00.000Z",
      firstDay: "2026-05-30",
      lastDay: "2026-05-30",
    });
  });

  it("today across London's spring-forward is 23 hours long", () => {
    const p = period("today", "Europe/London", "2026-03-29T12:00:00Z");
    expect(p).toMatchObject({ from: "2026-03-29T00:00:00.000Z", to: "2026-03-29T23:00:00.000Z" });
  });

  it("weeks start on Monday in the zone, across a DST change", () => {
    // Sunday 29 March 2026 23:30 UTC is Monday 30 March 00:30 in London: a new week there.
    expect(period("this_week", "Europe/London", "2026-03-29T23:30:00Z")).toEqual({
      from: "2026-03-29T23:00:00.000Z",
      to: "2026-04-05T23:00:00.000Z",
      firstDay: "2026-03-30",
      lastDay: "2026-04-05",
    });
    // The week before holds the change: 7 days less one hour.
    const last = period("last_week", "Europe/London", "2026-03-29T23:30:00Z");
    expect(last).toEqual({ from: "2026-03-23T00:00:00.000Z", to: "2026-03-29T23:00:00.000Z", firstDay: "2026-03-23", lastDay: "2026-03-29" });
    expect(new Date(last.to).getTime() - new Date(last.from).getTime()).toBe(7 * 24 * HOUR - HOUR);
    // In UTC it is still Sunday, the last day of the week that began on the 23rd.
    expect(period("this_week", "UTC", "2026-03-29T23:30:00Z")).toMatchObject({ firstDay: "2026-03-23", lastDay: "2026-03-29" });
  });

  it("months are whole calendar months, February and year ends included", () => {
    expect(period("this_month", "UTC", "2028-02-10T00:00:00Z")).toMatchObject({ firstDay: "2028-02-01", lastDay: "2028-02-29", to: "2028-03-01T00:00:00.000Z" });
    expect(period("last_month", "Europe/London", "2026-01-10T00:00:00Z")).toEqual({
      from: "2025-12-01T00:00:00.000Z",
      to: "2026-01-01T00:00:00.000Z",
      firstDay: "2025-12-01",
      lastDay: "2025-12-31",
    });
    // October in London starts in BST and ends in GMT.
    expect(period("this_month", "Europe/London", "2026-10-10T00:00:00Z")).toMatchObject({ from: "2026-09-30T23:00:00.000Z", to: "2026-11-01T00:00:00.000Z" });
  });

  it("custom days are inclusive, and the last day may not come before the first", () => {
    expect(period("custom", "Europe/London", "2026-06-01T00:00:00Z", { from: "2026-10-25", to: "2026-10-25" })).toEqual({
      from: "2026-10-24T23:00:00.000Z",
      to: "2026-10-26T00:00:00.000Z",
      firstDay: "2026-10-25",
      lastDay: "2026-10-25",
    });
    const now = new Date();
    expect(resolvePeriod({ preset: "custom", from: "2026-05-31", to: "2026-05-01" }, "UTC", now)).toEqual({
      ok: false,
      fields: { to: "The last day cannot be before the first day (2026-05-31)" },
    });
    const missing = resolvePeriod({ preset: "custom" }, "UTC", now);
    expect(missing.ok).toBe(false);
    expect(Object.keys((missing as { fields: object }).fields).sort()).toEqual(["from", "to"]);
    const impossible = resolvePeriod({ preset: "custom", from: "2026-02-30", to: "2026-03-01" }, "UTC", now);
    expect(impossible).toEqual({ ok: false, fields: { from: expect.stringMatching(/real date/) } });
  });

  it("knows real days only", () => {
    expect(isDay("2028-02-29")).toBe(true);
    for (const bad of ["2026-02-29", "2026-13-01", "26-01-01", "2026-1-1", "0000-01-01", "1969-12-31", null, 20260101]) expect(isDay(bad), String(bad)).toBe(false);
  });
});

describe("showing times", () => {
  it("names the zone and the offset then", () => {
    expect(formatInZone(new Date("2026-03-29T01:30:00Z"), "Europe/London")).toBe("29 Mar 2026, 02:30:00 Europe/London (UTC+01:00)");
    expect(formatInZone(new Date("2026-03-29T00:30:00Z"), "Europe/London")).toBe("29 Mar 2026, 00:30:00 Europe/London (UTC+00:00)");
    expect(formatInZone(new Date("2026-05-01T00:00:00Z"), "UTC")).toBe("1 May 2026, 00:00:00 UTC");
    expect(formatInZone(new Date("2026-05-01T00:00:00Z"), "Asia/Kolkata")).toBe("1 May 2026, 05:30:00 Asia/Kolkata (UTC+05:30)");
    expect(formatDays("2026-05-01", "2026-05-31")).toBe("1 May 2026 – 31 May 2026");
    expect(formatDays("2026-05-01", "2026-05-01")).toBe("1 May 2026");
  });
});

describe("the balance identity", () => {
  it("is what closing holds beyond opening − paid − fees + reversals", () => {
    const m = { openingMinor: 100_000n, paidMinor: 30_000n, feesMinor: 450n, reversalsMinor: 5_000n, closingMinor: 80_000n };
    const unexplained = unexplainedMovement(m);
    expect(unexplained).toBe(5_450n);
    expect(m.openingMinor - m.paidMinor - m.feesMinor + m.reversalsMinor + unexplained).toBe(m.closingMinor);
    // Beyond 2^53: never through a float.
    expect(unexplainedMovement({ openingMinor: 2n ** 62n, paidMinor: 1n, feesMinor: 0n, reversalsMinor: 0n, closingMinor: 2n ** 62n })).toBe(1n);
  });
});

describe("file names", () => {
  it("are <connection>-<currency>-<from>-<to>.<ext>, slugged", () => {
    expect(exportFileName({ connection: "pawaPay sandbox", currency: "ZMW", firstDay: "2026-05-01", lastDay: "2026-05-31", extension: "csv" })).toBe(
      "pawapay-sandbox-zmw-2026-05-01-2026-05-31.csv",
    );
    expect(exportFileName({ connection: null, currency: "UGX", firstDay: "2026-05-01", lastDay: "2026-05-01", extension: "xml" })).toBe("all-ugx-2026-05-01-2026-05-01.xml");
    expect(slug("Société Générale / Kampala ☂ \"live\"")).toBe("societe-generale-kampala-live");
    expect(slug("../../etc/passwd")).toBe("etc-passwd");
    expect(slug("☂☂☂")).toBe("export");
  });
});
