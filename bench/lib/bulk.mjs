// The bulk archive of the archival speed benchmarks (bench/archival): LoCoMo turns as passage text (the file is
// read in place, CC BY-NC 4.0) and vectors derived from their real USE-lite vectors, so 100k passages load in
// minutes rather than the half hour the local model would take.
import { readFileSync } from 'node:fs';

/** Turn texts (`Speaker: text`) and category 1–4 questions of the LoCoMo file. */
export function locomoText(path) {
  const samples = JSON.parse(readFileSync(path, 'utf8'));
  const turns = samples.flatMap((s) =>
    Object.entries(s.conversation)
      .filter(([k]) => /^session_\d+$/.test(k))
      .flatMap(([, session]) => session.map((t) => `${t.speaker}: ${t.text}`)),
  );
  const questions = samples.flatMap((s) => s.qa.filter((q) => q.category <= 4).map((q) => q.question));
  return { turns, questions };
}

/** Passage `i`'s vector: a real vector of `baseVectors` plus small Gaussian noise, renormalised (seeded: every run alike). */
export function derivedVectors(baseVectors) {
  let rng = 42;
  const gauss = () => {
    rng = (rng * 1103515245 + 12345) % 2 ** 31;
    const u = rng / 2 ** 31 || 1e-9;
    rng = (rng * 1103515245 + 12345) % 2 ** 31;
    return Math.sqrt(-2 * Math.log(u)) * Math.cos((2 * Math.PI * rng) / 2 ** 31);
  };
  return (i) => {
    const v = Float32Array.from(baseVectors[i % baseVectors.length], (x) => x + 0.02 * gauss());
    const norm = Math.hypot(...v);
    return v.map((x) => x / norm);
  };
}

/**
 * Passage rows `from`…`to` − 1 of the bulk archive, already embedded; `unitSize` rows share each minute's
 * `created_at` (1: every passage on its own; 20: sessions of 20 turns, units of context).
 */
export function bulkRows({ newId, archiveId, texts, from, to, unitSize }) {
  const now = new Date().toISOString();
  const rows = [];
  for (let i = from; i < to; i++) {
    rows.push({
      id: newId('passage'),
      archive_id: archiveId,
      text: `${texts[i % texts.length]} (${i})`,
      metadata: '{}',
      created_at: new Date(Date.UTC(2023, 0, 1) + Math.floor(i / unitSize) * 60_000).toISOString(),
      updated_at: now,
      embed_status: 'ready',
      embed_attempts: 0,
      embed_next_at: now,
      embed_lease_until: null,
      embed_error: null,
    });
  }
  return rows;
}
