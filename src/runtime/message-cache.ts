import type { Stores } from '../store/index.js';
import type { MessageLike } from '../domain/messages.js';

const MAX_ROWS = 4096;
const MAX_CHARS = 32 * 1024 * 1024;

const sizeOf = (row: MessageLike): number =>
  row.content.length +
  row.text.length +
  (row.tool_calls?.length ?? 0) +
  (row.tool_returns?.length ?? 0) +
  (row.approvals?.length ?? 0);

/**
 * The in-context rows of recent turns, kept by id so a turn does not re-read and re-parse its whole window from the
 * database, a cost that grows with the window (and the parsed JSON memoised on a row object survives with it). Safe
 * across processes sharing one database because a stored message never changes, with one exception: the system
 * message, which a memory edit rewrites in place (`MessageStore.updateContent`). System rows are therefore never
 * kept and always read, so the database stays the source of truth for everything that can change. Bounded by rows
 * and characters.
 */
export class InContextRows {
  private readonly rows = new Map<string, MessageLike>();
  private chars = 0;
  /** Each thread's system message id at its last turn, so the next turn can read that row alongside the agent. */
  private readonly systemIds = new Map<string, string>();

  /**
   * Rows in the order of `ids`; ids the database does not know are skipped, as `findByIds` does. `fresh`: rows the
   * caller has just read (a thread's system row, read with the agent), used before the cache and the database.
   */
  async load(stores: Stores, ids: string[], fresh: MessageLike[] = []): Promise<MessageLike[]> {
    const found = new Map<string, MessageLike>();
    const missing: string[] = [];
    for (const row of fresh) found.set(row.id, row);
    for (const id of ids) {
      if (found.has(id)) continue;
      const row = this.rows.get(id);
      if (row) found.set(id, row);
      else missing.push(id);
    }
    const fetched = missing.length > 0 ? await stores.messages.findByIds(missing) : [];
    for (const row of fetched) found.set(row.id, row);
    this.remember(fetched);
    return ids.flatMap((id) => found.get(id) ?? []);
  }

  systemIdOf(thread: string): string | undefined {
    return this.systemIds.get(thread);
  }

  noteSystemId(thread: string, id: string): void {
    this.systemIds.delete(thread);
    this.systemIds.set(thread, id);
    if (this.systemIds.size > MAX_ROWS) this.systemIds.delete(this.systemIds.keys().next().value!);
  }

  /**
   * Rows just written or read. The oldest entries go first; a row of a live window that was pushed out is read and
   * entered again at its next turn, so the active windows stay in.
   */
  remember(rows: MessageLike[]): void {
    for (const row of rows) {
      if (row.role === 'system' || this.rows.has(row.id)) continue;
      this.rows.set(row.id, row);
      this.chars += sizeOf(row);
    }
    for (const [id, row] of this.rows) {
      if (this.rows.size <= MAX_ROWS && this.chars <= MAX_CHARS) break;
      this.rows.delete(id);
      this.chars -= sizeOf(row);
    }
  }
}
