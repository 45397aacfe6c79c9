import type { Kysely } from 'kysely';
import type { SearchTables } from './tables.js';
import { NEVER_WRITTEN, readArchiveVersions, type ArchiveVersions } from './archive-versions.js';
import { stemmer } from 'stemmer';

/**
 * An in-process BM25 index over archival passages: the fast path of the lexical channel. FTS5's `bm25()` and
 * PostgreSQL's `ts_rank_cd` score every row that matches any query term; a question naming a common word (a
 * speaker, "time") matches tens of thousands of rows of a 100k-passage archive, which costs 10–30 ms on SQLite and
 * hundreds of milliseconds on PostgreSQL. Here postings live in memory and scoring one posting costs nanoseconds.
 *
 * It ranks exactly as FTS5 does (unicode61 folding, Porter stemming, BM25 with k1 = 1.2, b = 0.75 and FTS5's
 * clamped idf), over the statistics of the archives searched. The engine's full-text index stays the source of
 * truth: searches this index cannot answer (inside a transaction whose writes it must not absorb) fall back to it.
 *
 * Consistency: triggers (migration 0007) count inserts and deletes of `passages` per archive in
 * `passage_text_versions`. Every search reads those counters (a primary-key lookup) and, when they moved, appends
 * the new rows, or reconciles the archive's passage ids when the counts do not add up (deletes; on PostgreSQL a
 * transaction that committed a lower `seq` after a higher one was indexed). Deleted passages become tombstones
 * until they are a quarter of the archive, then the archive is rebuilt. Writes from any connection or process
 * are seen by the next search.
 */

const K1 = 1.2;
const B = 0.75;
/** FTS5 clamps the idf of terms found in more than half of the rows to this. */
const MIN_IDF = 1e-6;
/** Memory bound across archives (a posting is a document and a count: ~16 bytes); least recently used go first. */
const MAX_POSTINGS = 8_000_000;
/** Rows tokenised between yields to the event loop while an archive is (re)built. */
const BUILD_SLICE = 2_000;
/**
 * Passages written at the same instant (the turns of one imported session, a batch of facts) are indexed with
 * the text of their insertion-order neighbours in that unit, at these weights by distance (BM25F: term counts and
 * length are own + weight × neighbour's): a turn answering a question is found by the question's words.
 * docs/benchmarks.md ("Retrieval that finds meaning") has the measurements.
 */
const CONTEXT_WEIGHTS = [0.3, 0.15];

export interface LexicalHit {
  seq: number;
  score: number;
}

export interface LexicalRanking {
  /** One top list per range. */
  lists: LexicalHit[][];
  /** Σ idf of the query's terms: about the score of a passage holding each once at average length (fusion.ts). */
  ceiling: number;
}

interface Postings {
  docs: number[];
  counts: number[];
}

interface PassageText {
  seq: number;
  text: string;
  created_at: string;
}

/** Inclusive bounds on `created_at`, compared as the stored ISO strings (as the SQL path compares them). */
export interface CreatedRange {
  start?: string | undefined;
  end?: string | undefined;
}

class ArchiveTerms {
  readonly seqs: number[] = [];
  readonly createdAt: string[] = [];
  readonly lengths: number[] = [];
  readonly live: boolean[] = [];
  readonly postings = new Map<string, Postings>();
  readonly docOf = new Map<number, number>();
  /** Documents indexed with a neighbour's text or lending theirs: deleting one of them needs a rebuild. */
  readonly inUnit: boolean[] = [];
  /** Own term counts of the last documents appended in order, newest last: the neighbours of the next one. */
  private tail: { doc: number; createdAt: string; counts: Map<string, number>; length: number }[] = [];
  /** A document of a unit was deleted: its text still counts in its neighbours until the archive is rebuilt. */
  contextStale = false;
  liveCount = 0;
  liveLength = 0;
  postingCount = 0;
  maxSeq = 0;

  constructor(public versions: ArchiveVersions) {}

  /** `inOrder`: the row follows the last one added (seq order), so it may share a unit with it. */
  add(row: PassageText, tokenizer: Tokenizer, inOrder = true): void {
    const seq = Number(row.seq);
    if (this.docOf.has(seq)) return;
    const doc = this.seqs.length;
    const own = new Map<string, number>();
    let ownLength = 0;
    for (const term of tokenizer.terms(row.text)) {
      own.set(term, (own.get(term) ?? 0) + 1);
      ownLength++;
    }
    const counts = new Map(own);
    let length = ownLength;
    const neighbours = inOrder ? this.unitTail(row.created_at) : [];
    neighbours.forEach((neighbour, i) => {
      const weight = CONTEXT_WEIGHTS[i]!;
      for (const [term, count] of neighbour.counts) counts.set(term, (counts.get(term) ?? 0) + weight * count);
      length += weight * neighbour.length;
      for (const [term, count] of own) this.lend(term, neighbour.doc, weight * count);
      this.lengths[neighbour.doc]! += weight * ownLength;
      this.liveLength += weight * ownLength;
      this.inUnit[neighbour.doc] = true;
    });
    for (const [term, count] of counts) {
      let list = this.postings.get(term);
      if (!list) this.postings.set(term, (list = { docs: [], counts: [] }));
      list.docs.push(doc);
      list.counts.push(count);
    }
    this.seqs.push(seq);
    this.createdAt.push(row.created_at);
    this.lengths.push(length);
    this.live.push(true);
    this.inUnit.push(neighbours.length > 0);
    this.docOf.set(seq, doc);
    this.liveCount++;
    this.liveLength += length;
    this.postingCount += counts.size;
    if (seq > this.maxSeq) this.maxSeq = seq;
    this.tail = inOrder ? [...this.tail, { doc, createdAt: row.created_at, counts: own, length: ownLength }] : [];
    if (this.tail.length > CONTEXT_WEIGHTS.length) this.tail.shift();
  }

  /** The live documents just before the next one that were written with it, nearest first. */
  private unitTail(createdAt: string): ArchiveTerms['tail'] {
    const unit: ArchiveTerms['tail'] = [];
    for (let i = this.tail.length - 1; i >= 0; i--) {
      const entry = this.tail[i]!;
      if (entry.createdAt !== createdAt || !this.live[entry.doc]) break;
      unit.push(entry);
    }
    return unit;
  }

  /** Adds `count` of `term` to a recent document's postings (its entry, if any, is among the last few). */
  private lend(term: string, doc: number, count: number): void {
    let list = this.postings.get(term);
    if (!list) this.postings.set(term, (list = { docs: [], counts: [] }));
    let at = list.docs.length;
    while (at > 0 && list.docs[at - 1]! > doc) at--;
    if (at > 0 && list.docs[at - 1] === doc) {
      list.counts[at - 1]! += count;
      return;
    }
    list.docs.splice(at, 0, doc);
    list.counts.splice(at, 0, count);
    this.postingCount++;
  }

  remove(seq: number): void {
    const doc = this.docOf.get(seq);
    if (doc === undefined || !this.live[doc]) return;
    if (this.inUnit[doc]) this.contextStale = true;
    this.live[doc] = false;
    this.docOf.delete(seq);
    this.liveCount--;
    this.liveLength -= this.lengths[doc]!;
  }

  get tombstones(): number {
    return this.seqs.length - this.liveCount;
  }

  /** Live documents of a term (tombstoned postings are skipped, as if they were gone). */
  frequency(term: string): number {
    const list = this.postings.get(term);
    if (!list) return 0;
    if (this.tombstones === 0) return list.docs.length;
    let n = 0;
    for (const doc of list.docs) if (this.live[doc]) n++;
    return n;
  }
}

export class LexicalIndex {
  /** Insertion order is recency order: a hit moves the archive to the end. */
  private readonly archives = new Map<string, ArchiveTerms>();
  private readonly refreshing = new Map<string, Promise<ArchiveTerms>>();
  private readonly tokenizer = new Tokenizer();
  /**
   * Score accumulator shared by every search: scoring never awaits, so one search uses it at a time, and clearing
   * only the touched entries costs less than allocating (and collecting) one per search (800 KB at 100k passages).
   */
  private accumulator = new Float64Array(0);

  /**
   * For each of `ranges`, the best `limit` passages of these archives for `terms` (lower-cased query words; stemmed
   * here) created within it, scored in one pass; or undefined when the index cannot answer for the state `db` sees
   * (a transaction with writes the index has not seen). As in FTS5, the statistics are those of all passages; a
   * range only decides who may rank.
   */
  async rank(
    db: Kysely<SearchTables>,
    archiveIds: string[],
    terms: string[],
    limit: number,
    ranges: CreatedRange[],
  ): Promise<LexicalRanking | undefined> {
    const versions = await readArchiveVersions(db, 'passage_text_versions', archiveIds);
    const indexes: ArchiveTerms[] = [];
    for (const archiveId of archiveIds) {
      const current = versions.get(archiveId) ?? NEVER_WRITTEN;
      let index = this.archives.get(archiveId);
      // Counters only grow. A refresh already under way may be for older counters than these: then go again.
      while (!index || index.versions.inserts < current.inserts || index.versions.deletes < current.deletes) {
        // Inside a transaction the counters may include writes that roll back: let the engine answer.
        if (db.isTransaction) return undefined;
        index = await this.refreshOnce(db, archiveId, current, index);
      }
      this.archives.delete(archiveId);
      this.archives.set(archiveId, index);
      indexes.push(index);
    }
    this.evict(new Set(archiveIds));
    return this.score(
      indexes,
      terms.flatMap((term) => [...this.tokenizer.terms(term)]),
      limit,
      ranges,
    );
  }

  /** Concurrent searches of a stale archive share one refresh. */
  private refreshOnce(
    db: Kysely<SearchTables>,
    archiveId: string,
    current: ArchiveVersions,
    previous: ArchiveTerms | undefined,
  ): Promise<ArchiveTerms> {
    let pending = this.refreshing.get(archiveId);
    if (!pending) {
      pending = refresh(db, archiveId, current, previous, this.tokenizer).finally(() =>
        this.refreshing.delete(archiveId),
      );
      this.refreshing.set(archiveId, pending);
    }
    return pending;
  }

  /** BM25 over the union of the archives, with collection statistics summed across them; one top list per range. */
  private score(indexes: ArchiveTerms[], terms: string[], limit: number, ranges: CreatedRange[]): LexicalRanking {
    const documents = indexes.reduce((n, index) => n + index.liveCount, 0);
    if (documents === 0 || terms.length === 0) return { lists: ranges.map(() => []), ceiling: 0 };
    const averageLength = indexes.reduce((n, index) => n + index.liveLength, 0) / documents;
    const idf = terms.map((term) => {
      const frequency = indexes.reduce((n, index) => n + index.frequency(term), 0);
      const value = Math.log((documents - frequency + 0.5) / (frequency + 0.5));
      return value > 0 ? value : MIN_IDF;
    });
    const tops = ranges.map(() => new TopK(limit));
    for (const index of indexes) {
      if (this.accumulator.length < index.seqs.length) this.accumulator = new Float64Array(index.seqs.length * 2);
      const scores = this.accumulator;
      const touched: number[] = [];
      terms.forEach((term, t) => {
        const list = index.postings.get(term);
        if (!list) return;
        const weight = idf[t]! * (K1 + 1);
        const { docs, counts } = list;
        for (let i = 0; i < docs.length; i++) {
          const doc = docs[i]!;
          const tf = counts[i]!;
          if (scores[doc] === 0) touched.push(doc);
          scores[doc]! += (weight * tf) / (tf + K1 * (1 - B + (B * index.lengths[doc]!) / averageLength));
        }
      });
      for (const doc of touched) {
        if (!index.live[doc]) continue;
        const createdAt = index.createdAt[doc]!;
        ranges.forEach(({ start, end }, r) => {
          if ((start && createdAt < start) || (end && createdAt > end)) return;
          tops[r]!.offer(index.seqs[doc]!, scores[doc]!);
        });
      }
      for (const doc of touched) scores[doc] = 0;
    }
    return { lists: tops.map((top) => top.sorted()), ceiling: idf.reduce((sum, value) => sum + value, 0) };
  }

  private evict(keep: Set<string>): void {
    let total = 0;
    for (const index of this.archives.values()) total += index.postingCount;
    for (const [archiveId, index] of this.archives) {
      if (total <= MAX_POSTINGS) break;
      if (keep.has(archiveId)) continue;
      this.archives.delete(archiveId);
      total -= index.postingCount;
    }
  }
}

async function refresh(
  db: Kysely<SearchTables>,
  archiveId: string,
  current: ArchiveVersions,
  previous: ArchiveTerms | undefined,
  tokenizer: Tokenizer,
): Promise<ArchiveTerms> {
  if (previous && previous.versions.deletes === current.deletes && previous.versions.inserts < current.inserts) {
    const rows = await passageTexts(db, archiveId, previous.maxSeq);
    // Every new insert has a larger seq, unless a transaction committed a lower seq late (PostgreSQL sequences).
    if (rows.length === current.inserts - previous.versions.inserts) {
      for (const row of rows) previous.add(row, tokenizer);
      previous.versions = current;
      return previous;
    }
  }
  if (previous && previous.tombstones < previous.seqs.length / 4 && !previous.contextStale) {
    const stored = new Set(
      (await db.selectFrom('passages').select('seq').where('archive_id', '=', archiveId).execute()).map((r) =>
        Number(r.seq),
      ),
    );
    for (const seq of [...previous.docOf.keys()]) if (!stored.has(seq)) previous.remove(seq);
    const missing = [...stored].filter((seq) => !previous.docOf.has(seq));
    if (previous.tombstones < previous.seqs.length / 4 && !previous.contextStale) {
      // Rows committed out of seq order are indexed on their own text: their unit's neighbours are already in.
      for (const row of await passageTextsBySeq(db, missing)) previous.add(row, tokenizer, false);
      previous.versions = current;
      return previous;
    }
  }
  const index = new ArchiveTerms(current);
  const rows = await passageTexts(db, archiveId, 0);
  for (let i = 0; i < rows.length; i++) {
    index.add(rows[i]!, tokenizer);
    if ((i + 1) % BUILD_SLICE === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  return index;
}

function passageTexts(db: Kysely<SearchTables>, archiveId: string, afterSeq: number): Promise<PassageText[]> {
  return db
    .selectFrom('passages')
    .select(['seq', 'text', 'created_at'])
    .where('archive_id', '=', archiveId)
    .where('seq', '>', afterSeq)
    .orderBy('seq')
    .execute();
}

async function passageTextsBySeq(db: Kysely<SearchTables>, seqs: number[]): Promise<PassageText[]> {
  const rows: PassageText[] = [];
  // Bounded IN lists: SQLite caps bound parameters per statement.
  for (let i = 0; i < seqs.length; i += 500) {
    rows.push(
      ...(await db
        .selectFrom('passages')
        .select(['seq', 'text', 'created_at'])
        .where('seq', 'in', seqs.slice(i, i + 500))
        .execute()),
    );
  }
  return rows;
}

/** The `k` best (score desc, then seq desc, as the SQL path orders ties) in a binary min-heap. */
class TopK {
  private readonly heap: LexicalHit[] = [];
  constructor(private readonly k: number) {}

  offer(seq: number, score: number): void {
    const heap = this.heap;
    if (heap.length < this.k) {
      heap.push({ seq, score });
      this.up(heap.length - 1);
    } else if (this.k > 0 && worse(heap[0]!, { seq, score })) {
      heap[0] = { seq, score };
      this.down(0);
    }
  }

  sorted(): LexicalHit[] {
    return [...this.heap].sort((a, b) => b.score - a.score || b.seq - a.seq);
  }

  private up(i: number): void {
    const heap = this.heap;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!worse(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  private down(i: number): void {
    const heap = this.heap;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let worst = i;
      if (left < heap.length && worse(heap[left]!, heap[worst]!)) worst = left;
      if (right < heap.length && worse(heap[right]!, heap[worst]!)) worst = right;
      if (worst === i) return;
      [heap[i], heap[worst]] = [heap[worst]!, heap[i]!];
      i = worst;
    }
  }
}

function worse(a: LexicalHit, b: LexicalHit): boolean {
  return a.score < b.score || (a.score === b.score && a.seq < b.seq);
}

/** FTS5 `unicode61 remove_diacritics 2` then `porter`: folded, lower-cased letter/number runs, stemmed. */
class Tokenizer {
  /** Memoised: a corpus repeats a few tens of thousands of words, and stemming is the costly part of tokenising. */
  private readonly stems = new Map<string, string>();

  *terms(text: string): Generator<string> {
    const folded = /[^\p{ASCII}]/u.test(text) ? text.normalize('NFD').replace(/\p{M}+/gu, '') : text;
    for (const match of folded.toLowerCase().matchAll(/[\p{L}\p{N}]+/gu)) yield this.stem(match[0]);
  }

  private stem(word: string): string {
    let stemmed = this.stems.get(word);
    if (stemmed === undefined) {
      stemmed = stemmer(word);
      if (this.stems.size < 200_000) this.stems.set(word, stemmed);
    }
    return stemmed;
  }
}
