import { describe, expect, it } from "vitest";
import { ZonedClock } from "./zoned-time";

describe("ZonedClock", () => {
  it("writes ISO 8601 with the zone's offset, including half-hour zones", () => {
    const instant = new Date("2026-01-15T12:34:56.789Z");
    expect(new ZonedClock("UTC").iso(instant)).toBe("2026-01-15T12:34:56.789+00:00");
    expect(new ZonedClock("Africa/Lusaka").iso(instant)).toBe("2026-01-15T14:34:56.789+02:00");
    expect(new ZonedClock("Asia/Kolkata").iso(instant)).toBe("2026-01-15T18:04:56.789+05:30");
    expect(new ZonedClock("America/St_Johns").iso(instant)).toBe("2026-01-15T09:04:56.789-03:30");
    expect(new ZonedClock("Asia/Kathmandu").isoSeconds(instant)).toBe("2026-01-15T18:19:56+05:45");
  });

  it("follows a daylight-saving change inside a quarter hour it has already seen", () => {
    const berlin = new ZonedClock("Europe/Berlin");
    // Clocks go forward at 01:00 UTC on 29 March 2026: 02:00 CET becomes 03:00 CEST.
    expect(berlin.iso(new Date("2026-03-29T00:59:59.999Z"))).toBe("2026-03-29T01:59:59.999+01:00");
    expect(berlin.iso(new Date("2026-03-29T01:00:00.000Z"))).toBe("2026-03-29T03:00:00.000+02:00");
    // Asked again, in the other order, after both are cached.
    expect(berlin.iso(new Date("2026-03-29T01:00:00.000Z"))).toBe("2026-03-29T03:00:00.000+02:00");
    expect(berlin.iso(new Date("2026-03-29T00:59:59.999Z"))).toBe("2026-03-29T01:59:59.999+01:00");
    // A change of half an hour (not a whole hour) is right on each side of it too.
    const lordHowe = new ZonedClock("Australia/Lord_Howe"); // +11:00 in summer, +10:30 in winter, changes at 02:00 local
    expect(lordHowe.iso(new Date("2026-04-04T14:59:59.000Z"))).toBe("2026-04-05T01:59:59.000+11:00");
    expect(lordHowe.iso(new Date("2026-04-04T15:00:00.000Z"))).toBe("2026-04-05T01:30:00.000+10:30");
  });

  it("gives spreadsheet dates whose UTC fields read the zone's wall clock", () => {
    const wall = new ZonedClock("Africa/Lusaka").wallClock(new Date("2026-03-01T22:30:00.000Z"));
    expect(wall.toISOString()).toBe("2026-03-02T00:30:00.000Z");
    expect(new ZonedClock("Africa/Lusaka").date(new Date("2026-03-01T22:30:00.000Z"))).toBe("2026-03-02");
  });

  it("refuses a zone Intl does not know before anything is written", () => {
    expect(() => new ZonedClock("Mars/Olympus_Mons")).toThrow(RangeError);
  });
});
