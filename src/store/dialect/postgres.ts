import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from '../schema.js';
import { postgresSearch } from './postgres-search.js';
import type { Dialect } from './types.js';

const INT8_OID = 20;

export function openPostgres(connectionString: string, poolSize = 10, onConnectionError: (error: Error) => void = () => {}): Dialect {
  const pool = new pg.Pool({
    connectionString,
    max: poolSize,
    // pgvector 0.8: keep scanning the HNSW graph until a filtered (archive, model) query has its k rows.
    options: '-c hnsw.iterative_scan=relaxed_order',
    // Counts and sequence ids are bigint; they stay far below 2^53, so read them as numbers.
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8_OID ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  });
  // An idle pooled connection can die (server restart, admin termination); the pool drops it and reconnects on
  // demand. Without a listener the 'error' event would crash the process.
  pool.on('error', onConnectionError);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    name: 'postgres',
    db,
    addSeqColumn: (table) => table.addColumn('seq', 'bigserial', (col) => col.primaryKey()),
    textType: 'text',
    bigintType: 'bigint',
    likeOperator: 'ilike',
    isUniqueViolation: (error) => pgCode(error) === '23505',
    isForeignKeyViolation: (error) => pgCode(error) === '23503',
    close: () => db.destroy(),
    search: postgresSearch,
  };
}

function pgCode(error: unknown): string {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : '';
}
