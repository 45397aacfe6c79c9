/** Timestamps are stored as ISO-8601 UTC text with millisecond precision in both dialects, so they sort as strings. */
export function nowIso(): string {
  return new Date().toISOString();
}

export function toIso(value: Date | string | number): string {
  return new Date(value).toISOString();
}
