import type { Dialect } from './dialect/types.js';
import { AgentStore } from './agent.store.js';
import { ArchivalStore } from './archival.store.js';
import { BlockStore } from './block.store.js';
import { BlockHistoryStore } from './block-history.store.js';
import { ActivityStore } from './activity.store.js';
import { ConversationStore } from './conversation.store.js';
import { MessageStore } from './message.store.js';
import { RunStore } from './run.store.js';
import { StepStore } from './step.store.js';
import { GroupStore } from './group.store.js';
import { IdentityStore } from './identity.store.js';
import { TagStore } from './tag.store.js';
import { ToolStore } from './tool.store.js';
import { McpServerStore } from './mcp-server.store.js';
import { RecallStore } from './recall.store.js';
import { FolderStore } from './folder.store.js';
import { ProviderStore } from './provider.store.js';
import { GitMemoryStore } from './git-memory.store.js';
import type { Database } from './schema.js';
import type { CompiledQuery, Kysely } from 'kysely';
import { deferringKysely, queueingKysely } from './batching.js';
import type { SearchIndexes } from '../search/index.js';

/** Every store bound to one executor: the database, one transaction, or one write batch. */
export interface Stores {
  agents: AgentStore;
  blocks: BlockStore;
  blockHistory: BlockHistoryStore;
  activity: ActivityStore;
  tools: ToolStore;
  mcpServers: McpServerStore;
  identities: IdentityStore;
  tags: TagStore;
  archival: ArchivalStore;
  recall: RecallStore;
  messages: MessageStore;
  conversations: ConversationStore;
  runs: RunStore;
  steps: StepStore;
  groups: GroupStore;
  folders: FolderStore;
  providers: ProviderStore;
  gitMemory: GitMemoryStore;
  /** Runs `work` in one transaction; a throw rolls every write back. Nested calls reuse the outer transaction. */
  transaction<T>(work: (tx: Stores) => Promise<T>): Promise<T>;
  /**
   * Runs `work`'s writes as one atomic batch: queued while `work` runs, then sent together (PostgreSQL: one round
   * trip instead of one per statement plus `BEGIN` and `COMMIT`; SQLite: one transaction). `work` may only write: a
   * read inside it throws, and a write's affected-row count is not known. Inside a transaction the writes simply
   * join it.
   */
  writeBatch(work: (batch: Stores) => Promise<void>): Promise<void>;
  /**
   * Runs the queries `work` makes before it awaits any answer (say, a write and reads under `Promise.all`) in order,
   * as one transaction: a failure fails them all and undoes their writes, and each sees what the ones before it wrote.
   * On PostgreSQL they go in one round trip (`Dialect.runTogether`); a query `work` makes after an answer runs on its
   * own. Inside a transaction `work` simply joins it.
   */
  pipelined<T>(work: (s: Stores) => Promise<T>): Promise<T>;
  /**
   * Runs `effect` once the writes made so far are committed: at the end of the outermost transaction or batch (not
   * at all if it rolls back), or at once outside any. For waking background workers that read those writes.
   */
  afterCommit(effect: () => void): void;
}

/** `committed`: inside a transaction or batch, the effects its commit runs. */
export function createStores(
  dialect: Dialect,
  indexes: SearchIndexes,
  db: Kysely<Database> = dialect.db,
  committed?: (() => void)[],
): Stores {
  const atomically = async <T>(run: (effects: (() => void)[]) => Promise<T>): Promise<T> => {
    const effects: (() => void)[] = [];
    const result = await run(effects);
    for (const effect of effects) effect();
    return result;
  };
  const stores: Stores = {
    agents: new AgentStore(db, dialect.likeOperator),
    blocks: new BlockStore(db, dialect.likeOperator),
    blockHistory: new BlockHistoryStore(db),
    activity: new ActivityStore(db),
    tools: new ToolStore(db),
    mcpServers: new McpServerStore(db),
    identities: new IdentityStore(db),
    tags: new TagStore(db, dialect.likeOperator),
    archival: new ArchivalStore(db, dialect, indexes),
    recall: new RecallStore(db, dialect),
    messages: new MessageStore(db),
    conversations: new ConversationStore(db, dialect.likeOperator),
    runs: new RunStore(db),
    steps: new StepStore(db, dialect.likeOperator),
    groups: new GroupStore(db),
    folders: new FolderStore(db),
    providers: new ProviderStore(db),
    gitMemory: new GitMemoryStore(db, dialect.name === 'postgres'),
    transaction: (work) =>
      committed
        ? work(stores)
        : atomically((effects) =>
            db.transaction().execute((trx) => work(createStores(dialect, indexes, trx, effects))),
          ),
    writeBatch: async (work) => {
      if (committed) return work(stores);
      await atomically(async (effects) => {
        const queued: CompiledQuery[] = [];
        await work(createStores(dialect, indexes, queueingKysely(dialect.kysely, queued), effects));
        if (queued.length > 0) await dialect.runTogether(queued);
      });
    },
    pipelined: async (work) => {
      // In process, held-back queries would save nothing: `work` simply runs in a transaction.
      if (committed || !dialect.remote) return stores.transaction(work);
      return atomically(async (effects) => {
        const deferring = deferringKysely(dialect.kysely, db);
        const done = work(createStores(dialect, indexes, deferring.db, effects));
        // Awaited below; until then a `work` that fails before its first query must not count as unhandled.
        done.catch(() => {});
        // Every query `work` makes before it awaits an answer is issued within microtasks; by the next macrotask
        // they are all held.
        await new Promise((resolve) => setImmediate(resolve));
        const held = deferring.take();
        if (held.length > 0) {
          try {
            const results = await dialect.runTogether(held.map((query) => query.query));
            held.forEach((query, i) => query.settle(results[i]!));
          } catch (error) {
            for (const query of held) query.settle(error instanceof Error ? error : new Error(String(error)));
          }
        }
        return done;
      });
    },
    afterCommit: (effect) => {
      if (committed) committed.push(effect);
      else effect();
    },
  };
  return stores;
}
