import { Kysely, type CompiledQuery, type DatabaseConnection, type Dialect as KyselyDialect, type Driver, type QueryResult } from 'kysely';
import type { Database } from './schema.js';

/**
 * A Kysely instance that compiles queries and queues them instead of running them, for `Stores.writeBatch`. Only
 * writes can be queued: a read (or a write's `RETURNING`) would have nothing to answer with, so it throws; a queued
 * write's affected-row count is not known.
 */
export function queueingKysely(dialect: KyselyDialect, queued: CompiledQuery[]): Kysely<Database> {
  const connection: DatabaseConnection = {
    executeQuery: async <R>(query: CompiledQuery): Promise<QueryResult<R>> => {
      if (query.query.kind === 'SelectQueryNode' || 'returning' in query.query) throw new Error('a write batch cannot read; read before it');
      queued.push(query);
      return { rows: [] };
    },
    streamQuery: () => {
      throw new Error('a write batch cannot read; read before it');
    },
  };
  const driver: Driver = {
    init: async () => {},
    acquireConnection: async () => connection,
    beginTransaction: async () => {},
    commitTransaction: async () => {},
    rollbackTransaction: async () => {},
    releaseConnection: async () => {},
    destroy: async () => {},
  };
  return new Kysely<Database>({
    dialect: {
      createAdapter: () => dialect.createAdapter(),
      createDriver: () => driver,
      createIntrospector: (db) => dialect.createIntrospector(db),
      createQueryCompiler: () => dialect.createQueryCompiler(),
    },
  });
}
