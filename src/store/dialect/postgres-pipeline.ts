import type { CompiledQuery } from 'kysely';
import type pg from 'pg';

/** Prepared statements each pooled connection keeps for write batches; the least recently used beyond it are closed. */
const PREPARED_PER_CONNECTION = 100;

/**
 * Runs compiled writes in one round trip as one implicit transaction: every statement's Parse (first use on this
 * connection only), Bind and Execute, then a single Sync. PostgreSQL stops at the first error and rolls back what
 * ran before it. Statements are prepared under names each connection remembers (at most `PREPARED_PER_CONNECTION`),
 * so a statement shape is parsed and planned once per connection, and values travel as parameters.
 */
export function runPipelined(client: pg.PoolClient, queries: readonly CompiledQuery[]): Promise<void> {
  return new Promise((resolve, reject) => {
    client.query(new WritePipeline(queries, (error) => (error ? reject(error) : resolve())) as unknown as pg.QueryConfig);
  });
}

/** What node-postgres's `Connection` offers a custom query (the protocol messages it writes). */
interface WireConnection {
  stream: { cork(): void; uncork(): void };
  parse(message: { text: string; name: string; types: number[] }): void;
  bind(message: { statement: string; values: readonly unknown[]; valueMapper: (value: unknown) => unknown }): void;
  execute(message: { portal: string; rows: number }): void;
  close(message: { type: 'S'; name: string }): void;
  sync(): void;
}

/** One connection's prepared write statements (SQL text → name, least recently used first) and names to close. */
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
class WritePipeline {
  private failed = false;
  private parsedHere: string[] = [];
  private closedHere: string[] = [];
  private prepared: PreparedStatements | undefined;

  constructor(
    private readonly queries: readonly CompiledQuery[],
    private readonly done: (error?: Error) => void,
  ) {}

  submit(connection: WireConnection): null {
    let prepared = preparedByConnection.get(connection);
    if (!prepared) preparedByConnection.set(connection, (prepared = { names: new Map(), toClose: [] }));
    this.prepared = prepared;
    connection.stream.cork();
    try {
      // Closing a statement that does not exist is no error: names whose fate an earlier failure left unknown go too.
      for (const name of prepared.toClose.splice(0)) connection.close({ type: 'S', name });
      for (const query of this.queries) {
        let name = prepared.names.get(query.sql);
        if (name === undefined) {
          name = `cairn_w${++statementCounter}`;
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
        connection.bind({ statement: name, values: query.parameters, valueMapper: wireValue });
        connection.execute({ portal: '', rows: 0 });
      }
      connection.sync();
    } finally {
      connection.stream.uncork();
    }
    return null;
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
    this.done(error);
  }

  handleReadyForQuery(): void {
    if (!this.failed) this.done();
  }

  // Writes without RETURNING answer with no rows; the rest of the protocol carries nothing for a write batch.
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleCommandComplete(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}
  handleCopyInResponse(): void {}
  handleCopyData(): void {}
}

/** A parameter as text for the wire, as node-postgres writes the values Kysely binds. */
function wireValue(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' || Buffer.isBuffer(value)) return value;
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (value instanceof Date) return value.toISOString();
  return JSON.stringify(value);
}
