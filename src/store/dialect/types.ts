import type {
  ColumnDefinitionBuilder,
  CompiledQuery,
  CreateTableBuilder,
  Dialect as KyselyDialect,
  Kysely,
  QueryResult,
  RawBuilder,
  SqlBool,
} from 'kysely';
import type { Database } from '../schema.js';

export type DialectName = 'sqlite' | 'postgres';

/**
 * Everything that differs between the embedded SQLite store and PostgreSQL lives behind this interface, so the
 * stores above it never test which engine they run on.
 */
export interface Dialect {
  readonly name: DialectName;
  readonly db: Kysely<Database>;
  /** The Kysely dialect behind `db`: its adapter and query compiler also compile held-back queries (`Stores`). */
  readonly kysely: KyselyDialect;
  /** Whether every statement costs a network round trip (PostgreSQL), so sending several together pays. */
  readonly remote: boolean;
  /** `FOR UPDATE SKIP LOCKED`: queue claims by several processes without waiting on each other (PostgreSQL). */
  readonly supportsSkipLocked: boolean;
  /**
   * Runs compiled queries in order, as one transaction, each seeing what the ones before it wrote, and returns each
   * one's result. PostgreSQL: one round trip, each statement shape prepared once per pooled connection.
   */
  runTogether(queries: readonly CompiledQuery[]): Promise<QueryResult<unknown>[]>;
  isUniqueViolation(error: unknown): boolean;
  isForeignKeyViolation(error: unknown): boolean;
  /** Case-insensitive substring match, as `ILIKE` / `LIKE` (SQLite's LIKE is already case-insensitive for ASCII). */
  readonly likeOperator: 'like' | 'ilike';
  close(): Promise<void>;
  readonly search: SearchDialect;
}

/** Tables with a full-text index over their `text` column (keyed by `seq`). */
export type TextIndexedTable = 'passages' | 'messages';

/**
 * Full-text and vector search: FTS5 + sqlite-vec on SQLite, tsvector/GIN + pgvector on PostgreSQL. Stores build
 * every other part of a search query with Kysely; only these fragments differ.
 */
export interface SearchDialect {
  /** Whether the engine indexes vectors itself (pgvector HNSW); without one, large archives use src/search's prefilter. */
  readonly hasVectorIndex: boolean;
  /** An ANN index for vectors of one dimension where the engine has one (PostgreSQL HNSW); idempotent. */
  ensureVectorIndex(db: Kysely<any>, dim: number): Promise<void>;
  /**
   * A derived table `(seq, score)` of `table` rows matching any of `terms` (already lower-cased words), higher
   * score = better (BM25 on SQLite, ts_rank_cd on PostgreSQL). Terms are stemmed by the engine.
   */
  textMatches(table: TextIndexedTable, terms: string[]): RawBuilder<{ seq: number; score: number }>;
  /** Cosine distance between `passage_vectors.embedding` (of rows with `dim = dim`) and `vector`. */
  vectorDistance(column: string, vector: Float32Array, dim: number): RawBuilder<number>;
  /**
   * `column` in a form no index matches, for queries whose few rows are named by primary key: SQLite, without table
   * statistics, would otherwise walk an archive's index over the whole archive (`+column`); PostgreSQL plans from
   * statistics and gets the column as it is.
   */
  unindexed(column: string): RawBuilder<unknown>;
  /** `column` is one of `values`, bound as one parameter however many there are. */
  inList(column: string, values: string[]): RawBuilder<SqlBool>;
  /** The stored form of a vector (a float32 blob on SQLite, pgvector text on PostgreSQL). */
  encodeVector(vector: Float32Array): unknown;
}

/** What `addColumn` accepts as a type (Kysely does not export the name). */
export type ColumnDataType = Parameters<CreateTableBuilder<string, never>['addColumn']>[1];

export type ColumnBuilder = (col: ColumnDefinitionBuilder) => ColumnDefinitionBuilder;
