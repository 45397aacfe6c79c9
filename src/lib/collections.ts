/** Groups rows by a key, keeping each group in row order: the shape of every batched relationship load. */
export function groupBy<T, V>(rows: Iterable<T>, key: (row: T) => string, value: (row: T) => V): Map<string, V[]> {
  const groups = new Map<string, V[]>();
  for (const row of rows) {
    const k = key(row);
    const list = groups.get(k);
    if (list) list.push(value(row));
    else groups.set(k, [value(row)]);
  }
  return groups;
}
