import { invalidField } from './errors.js';

/**
 * Dates in agent time zones, for archival and recall search filters. Letta reads a naive datetime in the
 * agent's timezone, and a date-only end bound as the end of that day.
 */
const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?(Z|[+-]\d{2}:?\d{2})?$/i;

/** One formatter per zone: building an `Intl.DateTimeFormat` costs ~70 µs, a search formats every hit. */
const formatters = new Map<string, Intl.DateTimeFormat>();
const MAX_FORMATTERS = 256;

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    // Keyed by the spelling asked for (Intl accepts case variants): bounded, so stored zones cannot grow it forever.
    if (formatters.size >= MAX_FORMATTERS) formatters.delete(formatters.keys().next().value!);
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

function offsetMs(utcMs: number, timeZone: string): number {
  const parts = formatterFor(timeZone).formatToParts(new Date(utcMs));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return asUtc - Math.floor(utcMs / 1000) * 1000;
}

/** The zone itself when the runtime knows it, else UTC (an agent's stored zone is not validated everywhere it is read). */
export function zoneOrUtc(timeZone: string): string {
  return isValidTimeZone(timeZone) ? timeZone : 'UTC';
}

export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatterFor(timeZone);
    return true;
  } catch {
    return false;
  }
}

/**
 * Parses a filter bound to a UTC ISO string. `bound: 'end'` turns a date-only value into the last millisecond of
 * that day. Naive values are wall-clock times in `timeZone`. Anything unparseable is a 422 on `loc`.
 */
export function parseBound(value: string, bound: 'start' | 'end', timeZone: string, loc: (string | number)[]): string {
  const m = ISO.exec(value.trim());
  if (!m)
    throw invalidField(
      loc,
      `Invalid datetime '${value}': expected ISO 8601, e.g. 2024-05-01 or 2024-05-01T13:45:00+02:00`,
      value,
    );
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const dateOnly = h === undefined;
  const ms = frac ? Math.round(Number(`0.${frac}`) * 1000) : 0;
  let wall = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h ?? 0), Number(mi ?? 0), Number(s ?? 0), ms);
  const check = new Date(wall);
  if (
    check.getUTCDate() !== Number(d) ||
    check.getUTCMonth() !== Number(mo) - 1 ||
    Number(h ?? 0) > 23 ||
    Number(mi ?? 0) > 59 ||
    Number(s ?? 0) > 59
  ) {
    throw invalidField(loc, `Invalid datetime '${value}': no such date or time`, value);
  }
  if (dateOnly && bound === 'end') wall += 86_400_000 - 1;
  let utc: number;
  if (zone) {
    const z =
      zone.toUpperCase() === 'Z'
        ? 0
        : (zone[0] === '-' ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(-2))) * 60_000;
    utc = wall - z;
  } else {
    // Two passes settle the offset across DST transitions.
    utc = wall - offsetMs(wall, timeZone);
    utc = wall - offsetMs(utc, timeZone);
  }
  return new Date(utc).toISOString();
}

/** ISO 8601 with the zone's offset, e.g. `2024-05-01T15:45:00.000+02:00`: how search results show timestamps. */
export function formatInZone(iso: string, timeZone: string): string {
  const utc = Date.parse(iso);
  const offset = offsetMs(utc, timeZone);
  const local = new Date(utc + offset).toISOString().slice(0, -1);
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset) / 60_000;
  return `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}
