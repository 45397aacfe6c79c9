import {
  Kysely,
  type CompiledQuery,
  type DatabaseConnection,
  type Dialect as KyselyDialect,
  type Driver,
  type QueryResult,
} from 'kysely';
import type { Database } from './schema.js';

/**
 * A Kysely instance that compiles queries and queues them instead of running them, for `Stores.writeBatch`. Only
 * writes can be queued: a read (or a write's `RETURNING`) would have nothing to answer with, so it throws; a queued
 * write's affected-row count is not known.
 */
export function queueingKysely(dialect: KyselyDialect, queued: CompiledQuery[]): Kysely<Database> {
  return kyselyOn(dialect, {
    executeQuery: async <R>(query: CompiledQuery): Promise<QueryResult<R>> => {
      if (query.query.kind === 'SelectQueryNode' || 'returning' in query.query)
        throw new Error('a write batch cannot read; read before it');
      queued.push(query);
      return { rows: [] };
    },
    streamQuery: () => {
      throw new Error('a write batch cannot read; read before it');
    },
  });
}

/** A query held back by `deferringKysely`, with the promise its caller awaits. */
export interface DeferredQuery {
  query: CompiledQuery;
  settle(result: QueryResult<unknown> | Error): void;
}

/**
 * A Kysely instance whose queries wait, unanswered, until `take()` hands them over to be run together
 * (`Stores.pipelined`); queries made after that run on `direct` as usual (a store method's second query, which
 * needs the first one's answer).
 */
export function deferringKysely(
  dialect: KyselyDialect,
  direct: Kysely<Database>,
): { db: Kysely<Database>; take(): DeferredQuery[] } {
  let held: DeferredQuery[] | undefined = [];
  const db = kyselyOn(dialect, {
    executeQuery: <R>(query: CompiledQuery): Promise<QueryResult<R>> => {
      if (!held) return direct.executeQuery<R>(query);
      const waiting = held;
      return new Promise((resolve, reject) => {
        waiting.push({
          query,
          settle: (result) => (result instanceof Error ? reject(result) : resolve(result as QueryResult<R>)),
        });
      });
    },
    streamQuery: () => {
      throw new Error('deferred queries cannot stream');
    },
  });
  return {
    db,
    take: () => {
      const taken = held ?? [];
      held = undefined;
      return taken;
    },
  };
}

/** A Kysely instance whose every query goes to `connection`, compiled by `dialect` (no pool, no transactions). */
function kyselyOn(dialect: KyselyDialect, connection: DatabaseConnection): Kysely<Database> {
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
