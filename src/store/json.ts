/** JSON columns are text in both dialects; these keep parsing and null handling in one place. */
export function parseJson<T>(text: string | null | undefined, fallback: T): T {
  if (text === null || text === undefined || text === '') return fallback;
  return JSON.parse(text) as T;
}

export function toJsonText(value: unknown): string | null {
  return value === undefined || value === null ? null : JSON.stringify(value);
}

export const bool = (value: number | null | undefined): boolean => value === 1;
export const flag = (value: boolean | null | undefined): number => (value ? 1 : 0);
