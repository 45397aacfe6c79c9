import { sql, type Kysely, type Selectable, type SelectQueryBuilder } from 'kysely';
import type { Dialect, SearchDialect } from './dialect/types.js';
import type { SearchIndexes } from '../search/index.js';
import type { SearchTables } from '../search/tables.js';
import { ARCHIVES_OF_AGENT, linkedTo } from './junctions.js';
import { fetchPage, seqById, type PageSpec } from './paging.js';
import type { ArchiveRow, Database, PassageRow } from './schema.js';
import { ownersTagged, tagsFor } from './tag-links.js';
import { containsText } from './text-match.js';

export type ArchiveRecord = Selectable<ArchiveRow>;
export type PassageRecord = Selectable<PassageRow>;

/** Named, not `*`: on PostgreSQL the table also holds its stored tsvector, which no reader needs. */
const PASSAGE_COLUMNS = [
  'passages.seq',
  'passages.id',
  'passages.archive_id',
  'passages.text',
  'passages.metadata',
  'passages.created_at',
  'passages.updated_at',
  'passages.embed_status',
  'passages.embed_attempts',
  'passages.embed_next_at',
  'passages.embed_lease_until',
  'passages.embed_error',
] as const;

/** Filters every archival search applies on top of its ranking. */
export interface PassageFilter {
  archiveIds: string[];
  tags?: string[] | undefined;
  matchAllTags?: boolean;
  /** Inclusive UTC ISO bounds on `created_at`. */
  start?: string | undefined;
  end?: string | undefined;
}

export interface Ranked {
  seq: number;
  score: number;
}

/**
 * Vectors a prefilter (SQLite's binary codes) hands to the exact rescore: 4× the requested depth at least, which
 * kept 88% of the exact top 100 (94% at 10k) in bench/archival at 100k passages; the vector channel is the weak
 * one in fusion (docs/benchmarks/2026-11-lab-notebook.md), and LoCoMo-sized archives stay below the prefilter's threshold.
 */
const PREFILTER_CANDIDATES = 400;

/** Insertion-order neighbours of ranked passages, and creation times of those and of their eligible neighbours. */
export interface PassageContext {
  neighbours: Map<number, { prev: number | null; next: number | null; created_at: string }>;
  times: Map<number, string>;
}

export interface EmbedClaim {
  id: string;
  archive_id: string;
  text: string;
  model: string;
}

/**
 * The store's database as the search indexes see it: the same tables, typed only as far as they read them. Kysely's
 * database type is invariant, so the narrowing is a cast, made here once.
 */
export const searchView = (db: Kysely<Database>) => db as unknown as Kysely<SearchTables>;

export class ArchivalStore {
  private readonly search: SearchDialect;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: Dialect,
    private readonly indexes: SearchIndexes,
  ) {
    this.search = dialect.search;
  }

  // ---- archives -------------------------------------------------------------------------------------------

  async insertArchive(row: Omit<ArchiveRecord, 'seq'>): Promise<void> {
    await this.db.insertInto('archives').values(row).execute();
  }

  async updateArchive(id: string, patch: Partial<Omit<ArchiveRecord, 'seq' | 'id'>>): Promise<void> {
    if (Object.keys(patch).length > 0) await this.db.updateTable('archives').set(patch).where('id', '=', id).execute();
  }

  async deleteArchive(id: string): Promise<boolean> {
    const result = await this.db.deleteFrom('archives').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  findArchive(id: string): Promise<ArchiveRecord | undefined> {
    return this.db.selectFrom('archives').selectAll().where('id', '=', id).executeTakeFirst();
  }

  listArchives(
    filter: { name?: string | undefined; agentId?: string | undefined },
    page: PageSpec,
  ): Promise<ArchiveRecord[]> {
    // A folder's archive holds its files' chunks; it is the folder's, not one of the archives Letta lists.
    let q = this.db
      .selectFrom('archives')
      .selectAll('archives')
      .where((eb) =>
        eb.not(eb.exists(eb.selectFrom('folders').select('id').whereRef('folders.archive_id', '=', 'archives.id'))),
      );
    if (filter.name !== undefined) q = q.where('archives.name', '=', filter.name);
    if (filter.agentId !== undefined) q = q.where('archives.id', 'in', linkedTo(ARCHIVES_OF_AGENT, filter.agentId));
    return fetchPage(q, 'archives.seq', seqById(this.db, 'archives'), page);
  }

  /** Every archive, oldest first: what a passage search names neither an agent nor an archive reads. */
  allArchives(): Promise<ArchiveRecord[]> {
    return this.db.selectFrom('archives').selectAll().orderBy('seq').execute();
  }

  /** The agent's archives, oldest attachment first: the first is where its own inserts go. */
  archivesOf(agentId: string): Promise<ArchiveRecord[]> {
    return this.db
      .selectFrom('agent_archives')
      .innerJoin('archives', 'archives.id', 'agent_archives.archive_id')
      .selectAll('archives')
      .where('agent_archives.agent_id', '=', agentId)
      .orderBy('agent_archives.created_at')
      .orderBy('archives.seq')
      .execute();
  }

  async agentIdsOf(archiveId: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('agent_archives')
      .select('agent_id')
      .where('archive_id', '=', archiveId)
      .orderBy('created_at')
      .execute();
    return rows.map((r) => r.agent_id);
  }

  async attach(agentId: string, archiveId: string, now: string): Promise<void> {
    const existing = await this.db
      .selectFrom('agent_archives')
      .select('agent_id')
      .where('agent_id', '=', agentId)
      .where('archive_id', '=', archiveId)
      .executeTakeFirst();
    if (!existing)
      await this.db
        .insertInto('agent_archives')
        .values({ agent_id: agentId, archive_id: archiveId, created_at: now })
        .execute();
  }

  async detach(agentId: string, archiveId: string): Promise<void> {
    await this.db
      .deleteFrom('agent_archives')
      .where('agent_id', '=', agentId)
      .where('archive_id', '=', archiveId)
      .execute();
  }

  /** Archives created as `agentId`'s default that no other agent uses: they go when the agent goes. */
  async ownedOnlyBy(agentId: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('archives')
      .select('id')
      .where('owner_agent_id', '=', agentId)
      .where((eb) =>
        eb.not(
          eb.exists(
            eb
              .selectFrom('agent_archives')
              .select('agent_id')
              .whereRef('archive_id', '=', 'archives.id')
              .where('agent_id', '!=', agentId),
          ),
        ),
      )
      .execute();
    return rows.map((r) => r.id);
  }

  // ---- passages -------------------------------------------------------------------------------------------

  async insertPassages(rows: Omit<PassageRecord, 'seq'>[], tags: string[][]): Promise<void> {
    if (rows.length === 0) return;
    await this.db.insertInto('passages').values(rows).execute();
    const tagRows = rows.flatMap((row, i) => [...new Set(tags[i] ?? [])].map((tag) => ({ owner_id: row.id, tag })));
    if (tagRows.length > 0) await this.db.insertInto('passage_tags').values(tagRows).execute();
  }

  tagsFor(ids: string[]): Promise<Map<string, string[]>> {
    return tagsFor(this.db, 'passage_tags', ids);
  }

  findPassage(id: string): Promise<PassageRecord | undefined> {
    return this.db.selectFrom('passages').select(PASSAGE_COLUMNS).where('id', '=', id).executeTakeFirst();
  }

  findPassagesBySeq(seqs: number[]): Promise<PassageRecord[]> {
    if (seqs.length === 0) return Promise.resolve([]);
    return this.db.selectFrom('passages').select(PASSAGE_COLUMNS).where('seq', 'in', seqs).execute();
  }

  async deletePassage(id: string): Promise<boolean> {
    const result = await this.db.deleteFrom('passages').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  listPassages(archiveIds: string[], search: string | undefined, page: PageSpec): Promise<PassageRecord[]> {
    if (archiveIds.length === 0) return Promise.resolve([]);
    let q = this.db.selectFrom('passages').select(PASSAGE_COLUMNS).where('passages.archive_id', 'in', archiveIds);
    if (search) q = q.where(containsText('passages.text', search, this.dialect.likeOperator));
    return fetchPage(q, 'passages.seq', seqById(this.db, 'passages'), page);
  }

  async countPassages(archiveIds: string[]): Promise<number> {
    if (archiveIds.length === 0) return 0;
    const row = await this.db
      .selectFrom('passages')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('archive_id', 'in', archiveIds)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** Distinct tags of the passages in these archives (for the agent's memory metadata). */
  async distinctTags(archiveIds: string[]): Promise<string[]> {
    if (archiveIds.length === 0) return [];
    const rows = await this.db
      .selectFrom('passage_tags')
      .innerJoin('passages', 'passages.id', 'passage_tags.owner_id')
      .select('passage_tags.tag')
      .distinct()
      .where('passages.archive_id', 'in', archiveIds)
      .orderBy('passage_tags.tag')
      .execute();
    return rows.map((r) => r.tag);
  }

  // ---- search ---------------------------------------------------------------------------------------------

  /** `lookup`: the query already names a few rows by `seq`, so the filter columns must not choose the index. */
  private filtered<O>(
    q: SelectQueryBuilder<any, any, O>,
    filter: PassageFilter,
    lookup = false,
  ): SelectQueryBuilder<any, any, O> {
    const col = (name: string) => (lookup ? this.search.unindexed(name) : sql.ref(name));
    let query = q.where(col('passages.archive_id'), 'in', filter.archiveIds);
    if (filter.start) query = query.where(col('passages.created_at'), '>=', filter.start);
    if (filter.end) query = query.where(col('passages.created_at'), '<=', filter.end);
    if (filter.tags?.length) {
      const tags = filter.tags;
      query = query.where(col('passages.id'), 'in', (eb: any) =>
        ownersTagged(eb, 'passage_tags', tags, filter.matchAllTags ?? false),
      );
    }
    return query;
  }

  /**
   * Full-text ranking, best first: BM25 from the in-process index (lexical-index.ts); searches with tag filters,
   * and those inside a transaction with writes the index has not seen, are ranked by the engine's own full-text
   * index: FTS5 BM25, whose corpus figures (document count, average length, document frequency) span the whole
   * table rather than the searched archives, or PostgreSQL `ts_rank_cd`; so a tag filter can change the order.
   * One list per filter. The filters of one call share their archives and tags and differ in their date range
   * (a search and the period its query names); the in-process index scores them in one pass.
   */
  async lexical(terms: string[], filters: PassageFilter[], limit: number): Promise<Ranked[][]> {
    return (await this.rankLexical(terms, filters, limit)).lists;
  }

  /** {@link lexical}, with the query's BM25 ceiling when the in-process index ranked (src/search/fusion.ts). */
  async rankLexical(
    terms: string[],
    filters: PassageFilter[],
    limit: number,
  ): Promise<{ lists: Ranked[][]; ceiling: number | undefined }> {
    const [first] = filters;
    if (terms.length === 0 || !first || first.archiveIds.length === 0)
      return { lists: filters.map(() => []), ceiling: undefined };
    if (!first.tags?.length) {
      const ranked = await this.indexes.lexical.rank(searchView(this.db), first.archiveIds, terms, limit, filters);
      if (ranked) return ranked;
    }
    const lists = await Promise.all(filters.map((filter) => this.lexicalByEngine(terms, filter, limit)));
    return { lists, ceiling: undefined };
  }

  private async lexicalByEngine(terms: string[], filter: PassageFilter, limit: number): Promise<Ranked[]> {
    const q = (this.db as Kysely<any>)
      .selectFrom(this.search.textMatches('passages', terms).as('m'))
      .innerJoin('passages', 'passages.seq', 'm.seq')
      .select(['passages.seq as seq', 'm.score as score']);
    const rows = await this.filtered(q, filter)
      .orderBy('m.score', 'desc')
      .orderBy('passages.seq', 'desc')
      .limit(limit)
      .execute();
    return rows.map((r: any) => ({ seq: Number(r.seq), score: Number(r.score) }));
  }

  /** Nearest vectors of `model` (and only of that model and dimension), best first; score = cosine similarity. */
  async nearest(model: string, vector: Float32Array, filter: PassageFilter, limit: number): Promise<Ranked[]> {
    if (filter.archiveIds.length === 0) return [];
    const filtered = Boolean(filter.tags?.length || filter.start || filter.end);
    // Filters could exclude every prefilter candidate, so only unfiltered searches take the shortcut; the
    // candidates are still scored exactly below.
    const candidates = filtered
      ? undefined
      : await this.indexes.vectors?.candidates(
          searchView(this.db),
          filter.archiveIds,
          model,
          vector,
          Math.max(PREFILTER_CANDIDATES, 4 * limit),
        );
    if (candidates?.length === 0) return [];
    // With candidates, their primary-key lookups must drive the query, not the (archive, model, dim) index.
    const col = (name: string) => (candidates ? this.search.unindexed(name) : sql.ref(name));
    const distance = this.search.vectorDistance('v.embedding', vector, vector.length);
    let nearest = (this.db as Kysely<any>)
      .selectFrom('passage_vectors as v')
      .select(['v.passage_id', distance.as('distance')])
      .where(col('v.archive_id'), 'in', filter.archiveIds)
      .where(col('v.model'), '=', model)
      .where(col('v.dim'), '=', vector.length)
      .$if(candidates !== undefined, (q) => q.where(this.search.inList('v.passage_id', candidates!)));
    // Without tag or date filters the scan touches only the vectors table (and PostgreSQL's HNSW index); the
    // passages are joined for the k winners alone.
    if (filtered) nearest = this.filtered(nearest.innerJoin('passages', 'passages.id', 'v.passage_id'), filter);
    const rows = await (this.db as Kysely<any>)
      .selectFrom(nearest.orderBy('distance').limit(limit).as('n'))
      .innerJoin('passages', 'passages.id', 'n.passage_id')
      .select(['passages.seq as seq', 'n.distance as distance'])
      .orderBy('n.distance')
      .execute();
    return rows.map((r: any) => ({ seq: Number(r.seq), score: 1 - Number(r.distance) }));
  }

  /** A dimension other than `dim` among `model`'s vectors in these archives, if any (an index seek, not a scan). */
  async otherDim(archiveIds: string[], model: string, dim: number): Promise<number | undefined> {
    if (archiveIds.length === 0) return undefined;
    // Two range seeks: `dim != ?` would walk every index entry of `dim` itself (100k in a large archive).
    for (const op of ['<', '>'] as const) {
      const row = await this.db
        .selectFrom('passage_vectors')
        .select('dim')
        .where('archive_id', 'in', archiveIds)
        .where('model', '=', model)
        .where('dim', op, dim)
        .limit(1)
        .executeTakeFirst();
      if (row) return row.dim;
    }
    return undefined;
  }

  /**
   * For each passage: the previous and next passage of its archive (insertion order) and its creation time; and
   * the creation times of those neighbours that pass `filter` (they may join a search's results).
   */
  async context(seqs: number[], filter: PassageFilter): Promise<PassageContext> {
    if (seqs.length === 0) return { neighbours: new Map(), times: new Map() };
    // Passages written in one go have consecutive seqs, so the neighbours are usually seq ± 1: one primary-key
    // read settles those; a seek per side is left only where a neighbour lies further away (interleaved writers,
    // deletes).
    const around = await this.db
      .selectFrom('passages')
      .select(['seq', 'archive_id', 'created_at'])
      .where('seq', 'in', [...new Set(seqs.flatMap((seq) => [seq - 1, seq, seq + 1]))])
      .execute();
    const rows = new Map(around.map((r) => [Number(r.seq), r]));
    const neighbours = new Map<number, { prev: number | null; next: number | null; created_at: string }>();
    const unsettled: number[] = [];
    for (const seq of seqs) {
      const row = rows.get(seq);
      if (!row) continue;
      const adjacent = (n: number) => (rows.get(n)?.archive_id === row.archive_id ? n : undefined);
      const prev = adjacent(seq - 1);
      const next = adjacent(seq + 1);
      if (prev === undefined || next === undefined) unsettled.push(seq);
      neighbours.set(seq, { prev: prev ?? null, next: next ?? null, created_at: row.created_at });
    }
    for (const row of await this.farNeighbours(unsettled)) {
      const entry = neighbours.get(row.seq)!;
      entry.prev = row.prev;
      entry.next = row.next;
    }
    const times = new Map<number, string>();
    const unfiltered = !filter.tags?.length && !filter.start && !filter.end;
    for (const [seq, row] of rows) if (unfiltered || neighbours.has(seq)) times.set(seq, row.created_at);
    // A neighbour may join the results only if it passes the search's filters; without filters every one does.
    const outside = [...new Set([...neighbours.values()].flatMap((c) => [c.prev, c.next]))].filter(
      (n): n is number => n != null && !times.has(n),
    );
    for (const row of await this.createdAt(outside, filter)) times.set(row.seq, row.created_at);
    return { neighbours, times };
  }

  /** Previous and next passage of the same archive, by index seeks. */
  private async farNeighbours(seqs: number[]): Promise<{ seq: number; prev: number | null; next: number | null }[]> {
    if (seqs.length === 0) return [];
    const rows = await this.db
      .selectFrom('passages as p')
      .select((eb) => [
        'p.seq',
        eb
          .selectFrom('passages as q')
          .select((q) => q.fn.max('q.seq').as('s'))
          .whereRef('q.archive_id', '=', 'p.archive_id')
          .whereRef('q.seq', '<', 'p.seq')
          .as('prev'),
        eb
          .selectFrom('passages as q')
          .select((q) => q.fn.min('q.seq').as('s'))
          .whereRef('q.archive_id', '=', 'p.archive_id')
          .whereRef('q.seq', '>', 'p.seq')
          .as('next'),
      ])
      .where('p.seq', 'in', seqs)
      .execute();
    return rows.map((r) => ({
      seq: Number(r.seq),
      prev: r.prev == null ? null : Number(r.prev),
      next: r.next == null ? null : Number(r.next),
    }));
  }

  /** Creation times of those of `seqs` that pass `filter`. */
  private async createdAt(seqs: number[], filter: PassageFilter): Promise<{ seq: number; created_at: string }[]> {
    if (seqs.length === 0) return [];
    const q = (this.db as Kysely<any>)
      .selectFrom('passages')
      .select(['passages.seq as seq', 'passages.created_at as created_at'])
      .where('passages.seq', 'in', seqs);
    const rows = await this.filtered(q, filter, true).execute();
    return rows.map((r) => ({ seq: Number(r.seq), created_at: r.created_at }));
  }

  // ---- embedding queue ------------------------------------------------------------------------------------

  /**
   * Claims up to `limit` due passages for embedding with a lease, so that several processes sharing a database
   * never embed the same row at once and a crashed process's claims expire. PostgreSQL skips rows another
   * transaction holds; SQLite has one writer at a time anyway.
   */
  async claimDue(now: string, leaseUntil: string, limit: number): Promise<EmbedClaim[]> {
    return this.db.transaction().execute(async (trx) => {
      let due = trx
        .selectFrom('passages')
        .innerJoin('archives', 'archives.id', 'passages.archive_id')
        .select(['passages.id', 'passages.archive_id', 'passages.text', 'archives.embedding as model'])
        .where('passages.embed_status', '=', 'pending')
        .where('passages.embed_next_at', '<=', now)
        .where((eb) =>
          eb.or([eb('passages.embed_lease_until', 'is', null), eb('passages.embed_lease_until', '<', now)]),
        )
        .orderBy('passages.embed_next_at')
        .orderBy('passages.seq')
        .limit(limit);
      // Several processes share PostgreSQL's queue; SQLite's one writer needs no row locks.
      if (this.dialect.supportsSkipLocked) due = due.forUpdate('passages').skipLocked();
      const rows = await due.execute();
      if (rows.length > 0) {
        await trx
          .updateTable('passages')
          .set({ embed_lease_until: leaseUntil })
          .where(
            'id',
            'in',
            rows.map((r) => r.id),
          )
          .execute();
      }
      return rows;
    });
  }

  /**
   * Stores vectors for claimed passages, unless a passage changed meanwhile (deleted, or its archive switched
   * model): then the stale vector is dropped and the row stays queued for its new model.
   */
  async storeVectors(items: { claim: EmbedClaim; vector: Float32Array }[]): Promise<number> {
    if (items.length === 0) return 0;
    return this.db.transaction().execute(async (trx) => {
      const ids = items.map((i) => i.claim.id);
      const current = await trx
        .selectFrom('passages')
        .innerJoin('archives', 'archives.id', 'passages.archive_id')
        .select(['passages.id', 'passages.text', 'archives.embedding as model'])
        .where('passages.id', 'in', ids)
        .execute();
      const live = new Map(current.map((r) => [r.id, r]));
      const fresh = items.filter(
        ({ claim }) => live.get(claim.id)?.model === claim.model && live.get(claim.id)?.text === claim.text,
      );
      if (fresh.length === 0) return 0;
      const freshIds = fresh.map((f) => f.claim.id);
      await trx.deleteFrom('passage_vectors').where('passage_id', 'in', freshIds).execute();
      await trx
        .insertInto('passage_vectors')
        .values(
          fresh.map(({ claim, vector }) => ({
            passage_id: claim.id,
            archive_id: claim.archive_id,
            model: claim.model,
            dim: vector.length,
            embedding: this.search.encodeVector(vector),
          })),
        )
        .execute();
      await trx
        .updateTable('passages')
        .set({ embed_status: 'ready', embed_lease_until: null, embed_error: null, embed_attempts: 0 })
        .where('id', 'in', freshIds)
        .execute();
      return fresh.length;
    });
  }

  /** A failed batch: the passages stay pending, retried after `nextAt`; they remain lexically searchable. */
  async failEmbedding(ids: string[], error: string, nextAt: (attempts: number) => string): Promise<void> {
    if (ids.length === 0) return;
    const rows = await this.db.selectFrom('passages').select(['id', 'embed_attempts']).where('id', 'in', ids).execute();
    for (const row of rows) {
      const attempts = row.embed_attempts + 1;
      await this.db
        .updateTable('passages')
        .set({
          embed_attempts: attempts,
          embed_next_at: nextAt(attempts),
          embed_lease_until: null,
          embed_error: error.slice(0, 1000),
        })
        .where('id', '=', row.id)
        .execute();
    }
  }

  /** Queues every passage of these archives for (re-)embedding and drops vectors of any other model. */
  async requeue(archiveIds: string[], model: string, now: string): Promise<void> {
    if (archiveIds.length === 0) return;
    await this.db
      .deleteFrom('passage_vectors')
      .where('archive_id', 'in', archiveIds)
      .where('model', '!=', model)
      .execute();
    await this.db
      .updateTable('passages')
      .set({
        embed_status: 'pending',
        embed_attempts: 0,
        embed_next_at: now,
        embed_lease_until: null,
        embed_error: null,
      })
      .where('archive_id', 'in', archiveIds)
      .execute();
  }

  async embeddingProgress(
    archiveIds: string[],
  ): Promise<{ total: number; embedded: number; pending: number; failing: number }> {
    if (archiveIds.length === 0) return { total: 0, embedded: 0, pending: 0, failing: 0 };
    const rows = await this.db
      .selectFrom('passages')
      .select([
        'embed_status',
        sql<number>`count(*)`.as('n'),
        sql<number>`sum(case when embed_attempts > 0 then 1 else 0 end)`.as('failing'),
      ])
      .where('archive_id', 'in', archiveIds)
      .groupBy('embed_status')
      .execute();
    const embedded = Number(rows.find((r) => r.embed_status === 'ready')?.n ?? 0);
    const pendingRow = rows.find((r) => r.embed_status === 'pending');
    const pending = Number(pendingRow?.n ?? 0);
    return { total: embedded + pending, embedded, pending, failing: Number(pendingRow?.failing ?? 0) };
  }

  ensureVectorIndex(dim: number): Promise<void> {
    return this.search.ensureVectorIndex(this.db, dim);
  }
}
