/** The p-th percentile (nearest rank) of a list of numbers; the benchmarks all report p50/p95/p99 this way. */
export function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
