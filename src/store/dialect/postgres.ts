import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { CairnError } from '../../lib/errors.js';
import type { Database } from '../schema.js';
import { runPipelined, type TypeParser } from './postgres-pipeline.js';
import { postgresSearch } from './postgres-search.js';
import type { Dialect } from './types.js';
import { type PgPoolSettings } from './postgres-pool.js';

const INT8_OID = 20;
/** pg-pool's errors for a wait in its queue, and for a new connection, that ran out of `connectionTimeoutMillis`. */
const POOL_TIMEOUTS = new Set([
  'timeout exceeded when trying to connect',
  'Connection terminated due to connection timeout',
]);

// Counts and sequence ids are bigint; they stay far below 2^53, so read them as numbers.
const parserFor: TypeParser = (oid) =>
  oid === INT8_OID ? Number : (pg.types.getTypeParser(oid, 'text') as (text: string) => unknown);

export function openPostgres(
  connectionString: string,
  settings: PgPoolSettings,
  onConnectionError: (error: Error) => void = () => {},
): Dialect {
  const pool = new pg.Pool({
    connectionString,
    // `min` connections are not closed for being idle (pg-pool opens none ahead and replaces an expired one when next
    // needed): with pg-pool's default every connection closed after 10 s idle, so an interactive turn after a pause
    // paid a new connection (TCP, TLS, authentication) and prepared its statements again.
    min: settings.size,
    max: settings.size + settings.overflow,
    connectionTimeoutMillis: settings.timeoutSeconds * 1000,
    maxLifetimeSeconds: settings.recycleSeconds,
    // pgvector 0.8: keep scanning the HNSW graph until a filtered (archive, model) query has its k rows.
    options: '-c hnsw.iterative_scan=relaxed_order',
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        format === 'binary' ? pg.types.getTypeParser(oid, format) : parserFor(oid)) as typeof pg.types.getTypeParser,
    },
  });
  // An idle pooled connection can die (server restart, admin termination); the pool drops it and reconnects on
  // demand. Without a listener the 'error' event would crash the process.
  pool.on('error', onConnectionError);
  // A connection that dies while checked out fails the query in flight with the same error; without a listener its
  // 'error' event would crash the process too. (An idle one is reported by the pool's event above.)
  pool.on('connect', (client) => client.on('error', () => {}));
  // Waiting longer than LETTA_PG_POOL_TIMEOUT for a connection is overload (or an unreachable server), not a bug:
  // the request gets 503, which the SDKs retry, instead of an opaque 500. Kysely and `withClient` check out through
  // this; the pg pool itself is left as it is.
  const connect = (): Promise<pg.PoolClient> =>
    pool.connect().catch((error: unknown) => {
      throw POOL_TIMEOUTS.has(error instanceof Error ? error.message : '')
        ? new CairnError(
            503,
            `The database is busy or unreachable: no connection could be had within ${settings.timeoutSeconds} s (LETTA_PG_POOL_TIMEOUT). Try again.`,
          )
        : error;
    });
  // Not pool.query(): it closes the connection of any query that fails, and a refused send (a unique violation) is
  // routine here. A connection that broke is not queryable any more, and the pool drops it on release.
  const withClient = async <T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> => {
    const client = await connect();
    try {
      return await work(client);
    } finally {
      client.release();
    }
  };
  const kysely = new PostgresDialect({ pool: { connect, end: () => pool.end() } });
  const db = new Kysely<Database>({ dialect: kysely });
  return {
    name: 'postgres',
    db,
    kysely,
    remote: true,
    supportsSkipLocked: true,
    runTogether: (queries) => withClient((client) => runPipelined(client, queries, parserFor)),
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
