import { CompiledQuery, Kysely, PostgresDialect } from 'kysely';
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
  const kysely = new PostgresDialect({ pool });
  const db = new Kysely<Database>({ dialect: kysely });
  return {
    name: 'postgres',
    db,
    kysely,
    runWrites: async (queries) => {
      if (queries.length === 0) return;
      // One simple-protocol message holding every statement: PostgreSQL runs it as one implicit transaction (a
      // failing statement rolls back the others), in one round trip. The simple protocol takes no bound
      // parameters, so the values are inlined as literals.
      await db.executeQuery(CompiledQuery.raw(queries.map(withLiterals).join(';\n')));
    },
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

/** A compiled statement with its `$n` placeholders replaced by literals (Kysely's SQL never holds literal text). */
function withLiterals(query: CompiledQuery): string {
  return query.sql.replace(/\$(\d+)/g, (_, n: string) => literal(query.parameters[Number(n) - 1]));
}

function literal(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'string') return pg.escapeLiteral(value);
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'bigint') return String(value);
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  throw new Error(`a write batch cannot inline a ${typeof value} value`);
}

function pgCode(error: unknown): string {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : '';
}
