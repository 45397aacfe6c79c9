import type { ArchivalService } from './archival.service.js';
import type { RecallService } from './recall.service.js';
import type { ArchivalPort, RecallPort } from '../domain/ports.js';
import { textOf, toolCallsOf } from '../domain/messages.js';

/** The archival tools over the archival service (one passage per insert, Letta's result shape). */
export function archivalPort(archival: ArchivalService): ArchivalPort {
  return {
    insert: async (agentId, text, tags, tx) => {
      await archival.insert(agentId, { text, tags }, tx);
    },
    search: (agentId, q) =>
      archival.search(agentId, {
        query: q.query,
        tags: q.tags,
        tagMatchMode: q.tagMatchMode,
        topK: q.topK,
        startDatetime: q.start,
        endDatetime: q.end,
      }),
    stats: async (agentId, tx) => {
      const archives = await tx.archival.archivesOf(agentId);
      return { count: archives.length ? await tx.archival.countPassages(archives.map((a) => a.id)) : 0, tags: [] };
    },
  };
}

/** `conversation_search` over the recall service. */
export function recallPort(recall: RecallService): RecallPort {
  return {
    search: async (agentId, q) => {
      const hits = await recall.search(agentId, {
        query: q.query,
        roles: q.roles as ('user' | 'assistant' | 'tool')[] | undefined,
        limit: q.limit,
        startDate: q.startDate,
        endDate: q.endDate,
      });
      return hits.map((h) => ({
        role: h.message.role,
        text: textOf(h.message) || h.message.text,
        createdAt: h.timestamp,
        toolCallNames: toolCallsOf(h.message).map((c) => c.function.name),
        ...(h.relevance === undefined
          ? {}
          : h.mode === 'hybrid'
            ? {
                relevance: {
                  rrf_score: h.relevance,
                  fts_rank: h.ranks?.fts ?? null,
                  vector_rank: h.ranks?.vector ?? null,
                  search_mode: 'hybrid',
                },
              }
            : { relevance: { fts_rank: h.relevance, search_mode: 'fts' } }),
      }));
    },
  };
}
