/** Short local date and time; the full ISO time is in the element's title. */
export function when(iso: string | null | undefined): string {
  if (!iso) return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/** How long ago, for "last active". */
export function ago(iso: string | null | undefined): string {
  if (!iso) return 'never';
  const seconds = Math.round((Date.now() - new Date(iso).getTime()) / 1000);
  if (seconds < 60) return 'just now';
  const units: [number, string][] = [
    [60, 'minute'],
    [3600, 'hour'],
    [86400, 'day'],
    [2592000, 'month'],
    [31536000, 'year'],
  ];
  let chosen = units[0]!;
  for (const unit of units) if (seconds >= unit[0]) chosen = unit;
  const n = Math.floor(seconds / chosen[0]);
  return `${n} ${chosen[1]}${n === 1 ? '' : 's'} ago`;
}

export function latest(...isos: (string | null | undefined)[]): string | null {
  const times = isos.filter((t): t is string => Boolean(t));
  return times.length ? times.reduce((a, b) => (a > b ? a : b)) : null;
}

export function duration(ns: number | null | undefined, ms?: number | null): string {
  const millis = ns != null ? ns / 1e6 : ms;
  if (millis == null) return '—';
  return millis < 1000 ? `${Math.round(millis)} ms` : `${(millis / 1000).toFixed(2)} s`;
}

/** `project:<dir>` tags come from the Claude Code hooks: one agent per project directory. */
export const projectOf = (tags: string[] | undefined) =>
  tags?.find((t) => t.startsWith('project:'))?.slice('project:'.length);

export const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));
