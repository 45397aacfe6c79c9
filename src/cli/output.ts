/** What the resource commands print: JSON for scripts (`--json`), an aligned table for people. */

export interface Column<T> {
  header: string;
  value: (row: T) => unknown;
  /** Longest cell before it is shortened with an ellipsis (tables only; JSON is never cut). */
  max?: number;
}

function cell(value: unknown, max: number): string {
  const text =
    value === null || value === undefined
      ? ''
      : Array.isArray(value)
        ? value.join(',')
        : typeof value === 'object'
          ? JSON.stringify(value)
          : String(value);
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

export function table<T>(rows: T[], columns: Column<T>[]): string {
  if (rows.length === 0) return '(none)\n';
  const cells = rows.map((r) => columns.map((c) => cell(c.value(r), c.max ?? 60)));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((row) => row[i]!.length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return `${[line(columns.map((c) => c.header.toUpperCase())), ...cells.map(line)].join('\n')}\n`;
}

/** One record as `key: value` lines; multi-line values (block values, passage text) are printed in full below. */
export function record(fields: [string, unknown][]): string {
  const width = Math.max(...fields.map(([k]) => k.length));
  return `${fields
    .map(([k, v]) => {
      const text =
        v === null || v === undefined
          ? ''
          : Array.isArray(v)
            ? v.join(', ')
            : typeof v === 'object'
              ? JSON.stringify(v)
              : String(v);
      return text.includes('\n') ? `${k}:\n${text.replace(/^/gm, '  ')}` : `${k.padEnd(width)}  ${text}`;
    })
    .join('\n')}\n`;
}

export function print(json: boolean, data: unknown, human: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(data, null, 2)}\n` : human());
}
