import { createRequire } from 'node:module';
import type { CompiledQuery, QueryResult } from 'kysely';
import type pg from 'pg';

/** Prepared statements each pooled connection keeps for pipelines; the least recently used beyond it are closed. */
const PREPARED_PER_CONNECTION = 100;

// node-postgres's own conversion of a bound value to its wire text (what its ordinary queries send).
const { prepareValue } = createRequire(import.meta.url)('pg/lib/utils.js') as { prepareValue(value: unknown): unknown };

export type TypeParser = (oid: number) => (text: string) => unknown;

/**
 * Runs compiled queries in one round trip, in order, as one implicit transaction: each statement's Parse (first use
 * on this connection only), Bind, Describe and Execute, then a single Sync. PostgreSQL takes a fresh snapshot for
 * each statement (READ COMMITTED), so a statement sees what the ones before it wrote and what others committed
 * before it began; at the first error it skips the rest and rolls back what ran. Statements are prepared under
 * names each connection remembers (at most `PREPARED_PER_CONNECTION`), so a statement shape is parsed and planned
 * once per connection.
 */
export function runPipelined(
  client: pg.PoolClient,
  queries: readonly CompiledQuery[],
  parserFor: TypeParser,
): Promise<QueryResult<unknown>[]> {
  return new Promise((resolve, reject) => {
    const pipeline = new Pipeline(queries, parserFor);
    pipeline.callback = (error, results) => (error ? reject(error) : resolve(results!));
    // A custom query reports through its callback; `query` hands the query itself back, not a promise.
    void client.query(pipeline as unknown as pg.QueryConfig);
  });
}

/** What node-postgres's `Connection` offers a custom query (the protocol messages it writes). */
interface WireConnection {
  stream: { cork(): void; uncork(): void };
  parse(message: { text: string; name: string; types: number[] }): void;
  bind(message: { statement: string; values: readonly unknown[] }): void;
  describe(message: { type: 'P'; name: string }): void;
  execute(message: { portal: string; rows: number }): void;
  close(message: { type: 'S'; name: string }): void;
  sync(): void;
}

interface RowDescription {
  fields: { name: string; dataTypeID: number }[];
}

interface CommandComplete {
  text: string;
}

/** One connection's prepared statements (SQL text → name, least recently used first) and names to close. */
interface PreparedStatements {
  names: Map<string, string>;
  toClose: string[];
}

const preparedByConnection = new WeakMap<object, PreparedStatements>();
let statementCounter = 0;

/**
 * A node-postgres custom query ("submittable", as pg-cursor is): node-postgres hands it the connection when the
 * client is free and routes the server's replies to its `handle…` methods until ReadyForQuery.
 */
class Pipeline {
  private failed = false;
  private parsedHere: string[] = [];
  private closedHere: string[] = [];
  private prepared: PreparedStatements | undefined;
  private readonly results: QueryResult<unknown>[] = [];
  private columns: { name: string; parse: (text: string) => unknown }[] = [];
  private rows: Record<string, unknown>[] = [];
  /** Called once with the outcome; node-postgres wraps it when a `query_timeout` applies. */
  callback: ((error: Error | null, results?: QueryResult<unknown>[]) => void) | undefined;

  constructor(
    private readonly queries: readonly CompiledQuery[],
    private readonly parserFor: TypeParser,
  ) {}

  /** Returning an error (instead of throwing) lets node-postgres fail this query and keep the connection usable. */
  submit(connection: WireConnection): Error | null {
    let values: unknown[][];
    try {
      // Before anything is written: a value that cannot be sent must not leave half a pipeline without its Sync.
      values = this.queries.map((query) => query.parameters.map(prepareValue));
    } catch (error) {
      return error instanceof Error ? error : new Error(String(error));
    }
    let prepared = preparedByConnection.get(connection);
    if (!prepared) preparedByConnection.set(connection, (prepared = { names: new Map(), toClose: [] }));
    this.prepared = prepared;
    connection.stream.cork();
    try {
      // Closing a statement that does not exist is no error: names whose fate an earlier failure left unknown go too.
      for (const name of prepared.toClose.splice(0)) connection.close({ type: 'S', name });
      this.queries.forEach((query, i) => {
        let name = prepared.names.get(query.sql);
        if (name === undefined) {
          name = `cairn_p${++statementCounter}`;
          connection.parse({ text: query.sql, name, types: [] });
          this.parsedHere.push(name);
          if (prepared.names.size >= PREPARED_PER_CONNECTION) {
            const [oldestSql, oldestName] = prepared.names.entries().next().value!;
            prepared.names.delete(oldestSql);
            connection.close({ type: 'S', name: oldestName });
            this.closedHere.push(oldestName);
          }
        } else {
          prepared.names.delete(query.sql);
        }
        prepared.names.set(query.sql, name);
        connection.bind({ statement: name, values: values[i]! });
        connection.describe({ type: 'P', name: '' });
        connection.execute({ portal: '', rows: 0 });
      });
      connection.sync();
    } finally {
      connection.stream.uncork();
    }
    return null;
  }

  handleRowDescription(message: RowDescription): void {
    this.columns = message.fields.map((field) => ({ name: field.name, parse: this.parserFor(field.dataTypeID) }));
  }

  handleDataRow(message: { fields: (string | null)[] }): void {
    const row: Record<string, unknown> = {};
    message.fields.forEach((text, i) => {
      const column = this.columns[i]!;
      row[column.name] = text === null ? null : column.parse(text);
    });
    this.rows.push(row);
  }

  handleCommandComplete(message: CommandComplete): void {
    const [command = '', ...rest] = message.text.split(' ');
    const count = rest.at(-1);
    const writes = command === 'INSERT' || command === 'UPDATE' || command === 'DELETE' || command === 'MERGE';
    this.results.push({
      rows: this.rows,
      ...(writes && count !== undefined ? { numAffectedRows: BigInt(count) } : {}),
    });
    this.rows = [];
    this.columns = [];
  }

  handleEmptyQuery(): void {
    this.results.push({ rows: [] });
  }

  handleError(error: Error): void {
    if (this.failed) return;
    this.failed = true;
    // PostgreSQL skipped every message after the failing one up to the Sync: the statements this pipeline parsed may
    // or may not exist, and the closes it sent may not have run. Forget the first, close both on the next use.
    const prepared = this.prepared;
    if (prepared) {
      for (const [sql, name] of prepared.names) {
        if (this.parsedHere.includes(name)) {
          prepared.names.delete(sql);
          prepared.toClose.push(name);
        }
      }
      prepared.toClose.push(...this.closedHere);
    }
    this.callback?.(error);
  }

  handleReadyForQuery(): void {
    if (!this.failed) this.callback?.(null, this.results);
  }

  // Nothing in a pipeline suspends a portal or copies.
  handlePortalSuspended(): void {}
  handleCopyInResponse(): void {}
  handleCopyData(): void {}
}
