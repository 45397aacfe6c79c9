import type { Generated } from 'kysely';

/**
 * The tables the search indexes read, as far as they read them: the store's full schema is assignable to this, so
 * the indexes depend on the columns they use and not on the store.
 */
export interface SearchTables {
  passages: { seq: Generated<number>; archive_id: string; text: string; created_at: string };
  passage_vectors: { passage_id: string; archive_id: string; model: string; dim: number; embedding: Uint8Array };
  passage_text_versions: { archive_id: string; inserts: number; deletes: number };
  passage_vector_versions: { archive_id: string; inserts: number; deletes: number };
}
