// Instants shown in an export's time zone. Intl can give a zone's offset but
// costs microseconds a call; an export formats two timestamps a row at up to
// a million rows, so offsets are remembered per quarter hour: when the start
// and the end of a quarter have the same offset no transition lies inside it
// (zones change offset at most once in 15 minutes), and the offset holds for
// every instant in it. Wall-clock fields are then read with the cheap UTC
// getters of the shifted instant.

const QUARTER_HOUR = 15 * 60_000;
const CACHE_LIMIT = 50_000;

export class ZonedClock {
  private readonly parts: Intl.DateTimeFormat;
  private readonly offsets = new Map<number, number>();

  constructor(readonly timeZone: string) {
    // Throws RangeError for a zone Intl does not know, before any byte is written.
    this.parts = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      era: "short",
    });
  }

  /** The zone's offset from UTC at `instant`, in whole minutes (ISO 8601 offsets have no seconds). */
  offsetMinutes(instant: Date): number {
    const ms = instant.getTime();
    const bucket = Math.floor(ms / QUARTER_HOUR);
    const cached = this.offsets.get(bucket);
    if (cached !== undefined) return cached;
    const start = this.exactOffsetMinutes(bucket * QUARTER_HOUR);
    const end = this.exactOffsetMinutes((bucket + 1) * QUARTER_HOUR - 1);
    if (start !== end) return this.exactOffsetMinutes(ms); // a transition inside this quarter: not cached
    if (this.offsets.size >= CACHE_LIMIT) this.offsets.clear();
    this.offsets.set(bucket, start);
    return start;
  }

  private exactOffsetMinutes(ms: number): number {
    const fields: Record<string, string> = {};
    for (const part of this.parts.formatToParts(new Date(ms))) fields[part.type] = part.value;
    let year = Number(fields.year);
    if (fields.era === "BC" || fields.era === "B") year = 1 - year;
    const wall = Date.UTC(year, Number(fields.month) - 1, Number(fields.day), Number(fields.hour), Number(fields.minute), Number(fields.second));
    const utc = ms - (((ms % 1000) + 1000) % 1000);
    return Math.round((wall - utc) / 60_000);
  }

  /**
   * The wall clock in the zone as a Date whose UTC fields read that wall
   * clock: what spreadsheet dates need (they carry no zone, so the zone is
   * named in the column header instead).
   */
  wallClock(instant: Date): Date {
    return new Date(instant.getTime() + this.offsetMinutes(instant) * 60_000);
  }

  /** ISO 8601 with milliseconds and the zone's offset: 2026-03-01T14:05:09.123+02:00. */
  iso(instant: Date): string {
    const offset = this.offsetMinutes(instant);
    const wall = new Date(instant.getTime() + offset * 60_000);
    return `${isoDate(wall)}T${pad2(wall.getUTCHours())}:${pad2(wall.getUTCMinutes())}:${pad2(wall.getUTCSeconds())}.${pad3(wall.getUTCMilliseconds())}${offsetText(offset)}`;
  }

  /** ISO 8601 to the second with the offset (camt.053's ISODateTime): 2026-03-01T14:05:09+02:00. */
  isoSeconds(instant: Date): string {
    const offset = this.offsetMinutes(instant);
    const wall = new Date(instant.getTime() + offset * 60_000);
    return `${isoDate(wall)}T${pad2(wall.getUTCHours())}:${pad2(wall.getUTCMinutes())}:${pad2(wall.getUTCSeconds())}${offsetText(offset)}`;
  }

  /** The calendar date in the zone: 2026-03-01. */
  date(instant: Date): string {
    return isoDate(this.wallClock(instant));
  }

  /** For people: 2026-03-01 14:05 (the zone is named once, in a header). */
  minutes(instant: Date): string {
    const wall = this.wallClock(instant);
    return `${isoDate(wall)} ${pad2(wall.getUTCHours())}:${pad2(wall.getUTCMinutes())}`;
  }

  /** For people: 2026-03-01 14:05:09. */
  seconds(instant: Date): string {
    const wall = this.wallClock(instant);
    return `${isoDate(wall)} ${pad2(wall.getUTCHours())}:${pad2(wall.getUTCMinutes())}:${pad2(wall.getUTCSeconds())}`;
  }

  /** "UTC+02:00" for headers that name the offset beside the zone. */
  offsetLabel(instant: Date): string {
    return `UTC${offsetText(this.offsetMinutes(instant))}`;
  }
}

function isoDate(wall: Date): string {
  const year = wall.getUTCFullYear();
  const y = year >= 0 && year <= 9999 ? String(year).padStart(4, "0") : (year < 0 ? "-" : "+") + String(Math.abs(year)).padStart(6, "0");
  return `${y}-${pad2(wall.getUTCMonth() + 1)}-${pad2(wall.getUTCDate())}`;
}

function offsetText(minutes: number): string {
  const sign = minutes < 0 ? "-" : "+";
  const abs = Math.abs(minutes);
  return `${sign}${pad2(Math.floor(abs / 60))}:${pad2(abs % 60)}`;
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

function pad3(n: number): string {
  return n < 10 ? `00${n}` : n < 100 ? `0${n}` : String(n);
}
