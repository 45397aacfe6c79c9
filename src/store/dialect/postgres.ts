import { createHash } from 'node:crypto';
import { Kysely, PostgresDialect, type CompiledQuery } from 'kysely';
import pg from 'pg';
import { isRead } from '../batching.js';
import type { Database } from '../schema.js';
import { runPipelined } from './postgres-pipeline.js';
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
  // Not pool.query(): it closes the connection of any query that fails, and a refused send (a unique violation) is
  // routine here.
  const withClient = async <T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> => {
    const client = await pool.connect();
    try {
      return await work(client);
    } finally {
      client.release();
    }
  };
  const kysely = new PostgresDialect({ pool });
  const db = new Kysely<Database>({ dialect: kysely });
  return {
    name: 'postgres',
    db,
    kysely,
    runWrites: async (queries) => {
      if (queries.length === 0) return;
      await withClient((client) => runPipelined(client, queries));
    },
    writeThenRead: async (write, reads) => {
      if (isRead(write) || !reads.every(isRead)) throw new Error('writeThenRead takes one write, then reads');
      const values: unknown[] = [];
      // Each query numbers its parameters from $1; in the one statement they follow each other.
      const renumbered = (query: CompiledQuery) => {
        const offset = values.length;
        values.push(...query.parameters);
        return query.sql.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + offset}`);
      };
      // A data-modifying WITH runs exactly once whether or not the SELECT reads it; an error in it fails the whole
      // statement, so the reads' rows never come back without the write.
      const text = `with written as (${renumbered(write)}) select ${reads.map((read, i) => `(select coalesce(json_agg(read_rows), '[]') from (${renumbered(read)}) read_rows) as r${i}`).join(', ') || '1'}`;
      // Named, so each pooled connection parses and plans it once (a one-step turn's start: ~0.3 ms less PostgreSQL
      // CPU). Its result is json columns whatever the tables' columns are, so a migration never breaks the plan.
      const name = `cairn_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
      const result = await withClient((client) => client.query<Record<string, unknown[]>>({ name, text, values }));
      return reads.map((_, i) => result.rows[0]![`r${i}`]!);
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

function pgCode(error: unknown): string {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : '';
}
