import { LexicalIndex } from './lexical-index.js';
import { VectorPrefilter } from './vector-prefilter.js';

/**
 * The in-process search indexes of one database. They outlive every store (stores are made per transaction and
 * per write batch), so the composition root creates them once and hands them to `createStores`.
 */
export interface SearchIndexes {
  /** BM25 over archival passages in memory, in front of the engine's full-text index. */
  lexical: LexicalIndex;
  /** Where the engine has no vector index of its own (SQLite): sign-code candidates for the exact rescore. */
  vectors: VectorPrefilter | undefined;
}

export function createSearchIndexes(options: { engineIndexesVectors: boolean }): SearchIndexes {
  return {
    lexical: new LexicalIndex(),
    vectors: options.engineIndexesVectors ? undefined : new VectorPrefilter(),
  };
}
