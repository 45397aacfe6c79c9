import type { ColumnDefinitionBuilder, CreateTableBuilder, Kysely } from 'kysely';
import type { Database } from '../schema.js';

export type DialectName = 'sqlite' | 'postgres';

/**
 * Everything that differs between the embedded SQLite store and PostgreSQL lives behind this interface, so the
 * stores above it never test which engine they run on.
 */
export interface Dialect {
  readonly name: DialectName;
  readonly db: Kysely<Database>;
  /** Adds the monotonic `seq` primary key every ordered table uses for keyset pagination. */
  addSeqColumn<T extends string>(table: CreateTableBuilder<T, never>): CreateTableBuilder<T, 'seq'>;
  /** Column type for JSON stored as text. */
  readonly textType: 'text';
  readonly bigintType: 'integer' | 'bigint';
  isUniqueViolation(error: unknown): boolean;
  isForeignKeyViolation(error: unknown): boolean;
  /** Case-insensitive substring match, as `ILIKE` / `LIKE` (SQLite's LIKE is already case-insensitive for ASCII). */
  readonly likeOperator: 'like' | 'ilike';
  close(): Promise<void>;
}

export type ColumnBuilder = (col: ColumnDefinitionBuilder) => ColumnDefinitionBuilder;
