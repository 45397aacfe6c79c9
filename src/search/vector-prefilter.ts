import { sql, type Kysely } from 'kysely';
import type { SearchTables } from './tables.js';
import { NEVER_WRITTEN, readArchiveVersions, type ArchiveVersions } from './archive-versions.js';
import { HammingKernel, type HammingCodes } from './hamming-kernel.js';

/**
 * A binary-quantised prefilter for SQLite's vector channel. sqlite-vec 0.1 has no ANN index, so an exact search
 * reads every 2 KB float blob of the archive (about 2.7 µs per row: 270 ms at 100k). Here each vector is kept in
 * memory as 512 sign bits around the archive's mean vector (64 bytes; 6.4 MB per 100k), the Hamming-nearest
 * `candidates` are found in about a millisecond (a WASM SIMD scan, hamming-kernel.ts), and the caller rescores only those exactly with
 * `vec_distance_cosine` in SQL, so the returned scores are exact and deleted rows can never come back.
 *
 * Consistency: triggers (migration 0006) count inserts and deletes of `passage_vectors` per archive in
 * `passage_vector_versions`; every search reads those counters (a primary-key lookup) and refreshes the index
 * when they moved: inserts alone are appended (new rows have larger rowids while no row was deleted), anything
 * else rebuilds. The counters live in the database, so writes from another connection or process are seen too.
 */

/** Below this many vectors an exact scan costs a few milliseconds and the index is not worth its memory. */
export const MIN_INDEXED_VECTORS = 4000;

/** A stored vector as the prefilter reads it. */
interface VectorRow {
  rowid: number;
  passage_id: string;
  embedding: Uint8Array;
}

interface Entry {
  inserts: number;
  deletes: number;
  dim: number;
  words: number;
  count: number;
  maxRowid: number;
  ids: string[];
  codes: HammingCodes;
  mean: Float32Array;
}

export class VectorPrefilter {
  private readonly entries = new Map<string, Entry>();
  private readonly kernel = new HammingKernel();

  /**
   * Passage ids of the `candidates` vectors nearest to `vector` (Hamming distance of the sign codes) among the
   * archives' vectors of `model` with `vector`'s dimension, or undefined when an exact scan should be used
   * instead (small archives; a transaction whose uncommitted writes the index must not absorb).
   */
  async candidates(
    db: Kysely<SearchTables>,
    archiveIds: string[],
    model: string,
    vector: Float32Array,
    candidates: number,
  ): Promise<string[] | undefined> {
    const dim = vector.length;
    if (dim % 32 !== 0) return undefined;
    const versions = await readArchiveVersions(db, 'passage_vector_versions', archiveIds);
    const entries: Entry[] = [];
    for (const archiveId of archiveIds) {
      const key = `${archiveId}\u0000${model}\u0000${dim}`;
      const current = versions.get(archiveId) ?? NEVER_WRITTEN;
      let entry = this.entries.get(key);
      if (!entry || entry.inserts !== current.inserts || entry.deletes !== current.deletes) {
        // Inside a transaction the counters may include writes that roll back: scan exactly, keep the cache.
        if (db.isTransaction) return undefined;
        entry = await refresh(db, this.kernel, archiveId, model, dim, current, entry);
        this.entries.set(key, entry);
      }
      entries.push(entry);
    }
    const total = entries.reduce((n, e) => n + e.count, 0);
    if (total < MIN_INDEXED_VECTORS) return undefined;
    return nearestCodes(entries, vector, candidates);
  }
}

async function refresh(
  db: Kysely<SearchTables>,
  kernel: HammingKernel,
  archiveId: string,
  model: string,
  dim: number,
  current: ArchiveVersions,
  previous: Entry | undefined,
): Promise<Entry> {
  const appendOnly =
    previous !== undefined && previous.deletes === current.deletes && previous.inserts < current.inserts;
  const rows = await db
    .selectFrom('passage_vectors')
    .select([sql<number>`rowid`.as('rowid'), 'passage_id', 'embedding'])
    .where('archive_id', '=', archiveId)
    .where('model', '=', model)
    .where('dim', '=', dim)
    .$if(appendOnly, (q) => q.where(sql`rowid`, '>', previous!.maxRowid))
    .orderBy(sql`rowid`)
    .execute();
  const vectors = rows.map((r) => new Float32Array(r.embedding.buffer, r.embedding.byteOffset, dim));
  if (appendOnly) {
    const appended = append(kernel, previous, rows, vectors, current);
    // Rowids are only known to grow while nothing is deleted; if the count disagrees (a VACUUM renumbered them),
    // start over rather than trust the append.
    if (appended.count === (await countVectors(db, archiveId, model, dim))) return appended;
    return refresh(db, kernel, archiveId, model, dim, current, undefined);
  }
  const mean = new Float32Array(dim);
  for (const v of vectors) for (let d = 0; d < dim; d++) mean[d]! += v[d]!;
  for (let d = 0; d < dim; d++) mean[d]! /= Math.max(1, vectors.length);
  const empty: Entry = {
    ...current,
    dim,
    words: dim / 32,
    count: 0,
    maxRowid: 0,
    ids: [],
    codes: kernel.codes(0, dim / 32),
    mean,
  };
  return append(kernel, empty, rows, vectors, current);
}

function append(
  kernel: HammingKernel,
  entry: Entry,
  rows: VectorRow[],
  vectors: Float32Array[],
  versions: ArchiveVersions,
): Entry {
  const codes = kernel.codes(entry.count + rows.length, entry.words);
  codes.codes.set(entry.codes.codes);
  vectors.forEach((v, i) => encode(v, entry.mean, codes.codes, (entry.count + i) * entry.words));
  return {
    ...entry,
    ...versions,
    count: entry.count + rows.length,
    maxRowid: rows.length > 0 ? Number(rows.at(-1)!.rowid) : entry.maxRowid,
    ids: entry.ids.concat(rows.map((r) => r.passage_id)),
    codes,
  };
}

async function countVectors(db: Kysely<SearchTables>, archiveId: string, model: string, dim: number): Promise<number> {
  const row = await db
    .selectFrom('passage_vectors')
    .select(sql<number>`count(*)`.as('n'))
    .where('archive_id', '=', archiveId)
    .where('model', '=', model)
    .where('dim', '=', dim)
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

/** Sign bits of `v - mean`: centring matters, embedding dimensions are far from zero-mean. */
function encode(v: Float32Array, mean: Float32Array, out: Uint32Array, offset: number): void {
  for (let w = 0; w < mean.length / 32; w++) {
    let bits = 0;
    for (let b = 0; b < 32; b++) if (v[w * 32 + b]! > mean[w * 32 + b]!) bits |= 1 << b;
    out[offset + w] = bits >>> 0;
  }
}

/** The `k` smallest Hamming distances over all entries, selected with a histogram (distances are ≤ dim). */
function nearestCodes(entries: Entry[], vector: Float32Array, k: number): string[] {
  const distances = entries.map(({ codes, mean }) => {
    encode(vector, mean, codes.query, 0);
    return codes.distances();
  });
  const histogram = new Uint32Array(vector.length + 2);
  for (const ds of distances) for (let i = 0; i < ds.length; i++) histogram[ds[i]!]!++;
  let threshold = 0;
  let closer = 0;
  while (threshold < histogram.length && closer + histogram[threshold]! < k) closer += histogram[threshold++]!;
  // Everything strictly closer than the threshold, and as many ties at the threshold as fill k.
  let ties = k - closer;
  const result: string[] = [];
  entries.forEach((entry, e) => {
    const ds = distances[e]!;
    for (let i = 0; i < ds.length; i++) {
      const d = ds[i]!;
      if (d < threshold || (d === threshold && ties-- > 0)) result.push(entry.ids[i]!);
    }
  });
  return result;
}
