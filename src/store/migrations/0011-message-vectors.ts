import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../dialect/types.js';

/** The roles recall search embeds: what a person said and what the agent answered. */
const EMBEDDED_ROLES = "('user', 'assistant')";

/**
 * Recall memory gets vectors: `message_vectors` (one row per message, with the model and dimension, as
 * `passage_vectors`) and `message_embed_queue`, the messages still to embed. Triggers queue every user and assistant
 * message with text as it is written (and again when its text changes), so no write path of the runtime has to know;
 * the background indexer drains the queue. Messages written before this migration are queued here.
 */
export async function up(db: Kysely<any>, dialect: DialectName): Promise<void> {
  await db.schema
    .createTable('message_vectors')
    .addColumn('message_id', 'text', (c) => c.primaryKey().references('messages.id').onDelete('cascade'))
    .addColumn('agent_id', 'text', (c) => c.notNull())
    .addColumn('model', 'text', (c) => c.notNull())
    .addColumn('dim', 'integer', (c) => c.notNull())
    // A float32 blob; pgvector's untyped `vector` (one column for every dimension, as `passage_vectors`).
    .addColumn('embedding', dialect === 'sqlite' ? 'blob' : sql`vector`, (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('message_vectors_agent_idx')
    .on('message_vectors')
    .columns(['agent_id', 'model', 'dim'])
    .execute();

  await db.schema
    .createTable('message_embed_queue')
    .addColumn('message_id', 'text', (c) => c.primaryKey().references('messages.id').onDelete('cascade'))
    .addColumn('agent_id', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('next_at', 'text', (c) => c.notNull())
    .addColumn('lease_until', 'text')
    .addColumn('error', 'text')
    .execute();
  await db.schema.createIndex('message_embed_queue_due_idx').on('message_embed_queue').column('next_at').execute();

  if (dialect === 'sqlite') {
    const now = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";
    await sql
      .raw(
        `CREATE TRIGGER messages_embed_ai AFTER INSERT ON messages WHEN new.role IN ${EMBEDDED_ROLES} AND new.text <> '' BEGIN
          INSERT INTO message_embed_queue (message_id, agent_id, attempts, next_at) VALUES (new.id, new.agent_id, 0, ${now})
            ON CONFLICT (message_id) DO NOTHING;
        END`,
      )
      .execute(db);
    await sql
      .raw(
        `CREATE TRIGGER messages_embed_au AFTER UPDATE OF text ON messages WHEN new.role IN ${EMBEDDED_ROLES} AND new.text <> '' AND new.text IS NOT old.text BEGIN
          DELETE FROM message_vectors WHERE message_id = new.id;
          INSERT INTO message_embed_queue (message_id, agent_id, attempts, next_at) VALUES (new.id, new.agent_id, 0, ${now})
            ON CONFLICT (message_id) DO UPDATE SET attempts = 0, next_at = excluded.next_at, lease_until = NULL, error = NULL;
        END`,
      )
      .execute(db);
    await sql
      .raw(
        `INSERT INTO message_embed_queue (message_id, agent_id, attempts, next_at)
          SELECT id, agent_id, 0, ${now} FROM messages WHERE role IN ${EMBEDDED_ROLES} AND text <> ''`,
      )
      .execute(db);
    return;
  }

  const now = `to_char(now() AT TIME ZONE 'utc', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
  // Statement level over the transition table: a step's batch insert queues its messages in one statement.
  await sql
    .raw(
      `CREATE FUNCTION messages_embed_enqueue() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO message_embed_queue (message_id, agent_id, attempts, next_at)
          SELECT id, agent_id, 0, ${now} FROM new_rows WHERE role IN ${EMBEDDED_ROLES} AND text <> ''
          ON CONFLICT (message_id) DO NOTHING;
        RETURN NULL;
      END $$`,
    )
    .execute(db);
  await sql`CREATE TRIGGER messages_embed_ai AFTER INSERT ON messages REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION messages_embed_enqueue()`.execute(
    db,
  );
  await sql
    .raw(
      `CREATE FUNCTION messages_embed_requeue() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        DELETE FROM message_vectors WHERE message_id = NEW.id;
        INSERT INTO message_embed_queue (message_id, agent_id, attempts, next_at) VALUES (NEW.id, NEW.agent_id, 0, ${now})
          ON CONFLICT (message_id) DO UPDATE SET attempts = 0, next_at = EXCLUDED.next_at, lease_until = NULL, error = NULL;
        RETURN NULL;
      END $$`,
    )
    .execute(db);
  await sql
    .raw(
      `CREATE TRIGGER messages_embed_au AFTER UPDATE OF text ON messages FOR EACH ROW
        WHEN (NEW.role IN ${EMBEDDED_ROLES} AND NEW.text <> '' AND NEW.text IS DISTINCT FROM OLD.text)
        EXECUTE FUNCTION messages_embed_requeue()`,
    )
    .execute(db);
  await sql
    .raw(
      `INSERT INTO message_embed_queue (message_id, agent_id, attempts, next_at)
        SELECT id, agent_id, 0, ${now} FROM messages WHERE role IN ${EMBEDDED_ROLES} AND text <> ''`,
    )
    .execute(db);
}
