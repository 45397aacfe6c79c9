import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from '../schema.js';
import type { Dialect } from './types.js';

const INT8_OID = 20;

export function openPostgres(connectionString: string, poolSize = 10): Dialect {
  const pool = new pg.Pool({
    connectionString,
    max: poolSize,
    // Counts and sequence ids are bigint; they stay far below 2^53, so read them as numbers.
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8_OID ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  });
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
  };
}

function pgCode(error: unknown): string {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : '';
}
