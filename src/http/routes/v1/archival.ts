import { z } from 'zod';
import { agentIdParams } from '../../../schemas/agent.js';
import {
  archivalSearchQuery,
  archivalSearchResponseSchema,
  createArchivalMemorySchema,
  embeddingStatusSchema,
  listArchivalMemoryQuery,
  passageSchema,
  passageSearchBody,
  passageSearchResultSchema,
} from '../../../schemas/archival.js';
import { idOf } from '../../../schemas/common.js';
import type { RouteModule } from '../types.js';

const tags = ['archival-memory'];

/** Set when a hybrid search answered from full text alone: `lexical; <why the embedding handle is not usable>`. */
export const SEARCH_FALLBACK_HEADER = 'x-cairn-search-fallback';

/** Header values are ASCII without control characters; handles and env names are, a model path may not be. */
export function fallbackHeader(reason: string): string {
  return `lexical; ${reason.replace(/[^\x20-\x7e]/g, '?')}`;
}
const memoryParams = agentIdParams.extend({ memory_id: idOf('passage') });

/** An agent's archival memory (`/agents/{id}/archival-memory…`) and `POST /passages/search`. */
export const archivalRoutes: RouteModule = async (app) => {
  const { archival } = app.services;

  app.post(
    '/agents/:agent_id/archival-memory',
    {
      schema: {
        tags,
        params: agentIdParams,
        body: createArchivalMemorySchema,
        response: { 200: z.array(passageSchema) },
      },
    },
    async (request) => [await archival.insert(request.params.agent_id, request.body)],
  );

  app.get(
    '/agents/:agent_id/archival-memory',
    {
      schema: {
        tags,
        params: agentIdParams,
        querystring: listArchivalMemoryQuery,
        response: { 200: z.array(passageSchema) },
      },
    },
    async (request) => archival.list(request.params.agent_id, request.query),
  );

  // Registered before `/:memory_id`; find-my-way prefers the static segment anyway.
  app.get(
    '/agents/:agent_id/archival-memory/search',
    {
      schema: {
        tags,
        params: agentIdParams,
        querystring: archivalSearchQuery,
        response: { 200: archivalSearchResponseSchema },
      },
    },
    async (request, reply) => {
      const q = request.query;
      const hits = await archival.search(request.params.agent_id, {
        onFallback: (reason) => {
          void reply.header(SEARCH_FALLBACK_HEADER, fallbackHeader(reason));
        },
        query: q.query,
        tags: q.tags,
        tagMatchMode: q.tag_match_mode,
        topK: q.top_k,
        startDatetime: q.start_datetime,
        endDatetime: q.end_datetime,
        mode: q.mode,
      });
      const results = hits.map(({ id, timestamp, content, tags: t }) => ({ id, timestamp, content, tags: t }));
      return { results, count: results.length };
    },
  );

  // Cairn extension: background embedding progress of the agent's archives (after a write or a model change).
  app.get(
    '/agents/:agent_id/archival-memory/embedding-status',
    { schema: { tags, params: agentIdParams, response: { 200: embeddingStatusSchema } } },
    async (request) => archival.embeddingStatus(request.params.agent_id),
  );

  app.delete(
    '/agents/:agent_id/archival-memory/:memory_id',
    { schema: { tags, params: memoryParams } },
    async (request) => {
      await archival.delete(request.params.agent_id, request.params.memory_id);
      return null;
    },
  );

  app.post(
    '/passages/search',
    { schema: { tags: ['passages'], body: passageSearchBody, response: { 200: z.array(passageSearchResultSchema) } } },
    async (request, reply) => {
      const b = request.body;
      return archival.searchPassages({
        onFallback: (reason) => {
          void reply.header(SEARCH_FALLBACK_HEADER, fallbackHeader(reason));
        },
        query: b.query,
        agentId: b.agent_id,
        archiveId: b.archive_id,
        tags: b.tags,
        tagMatchMode: b.tag_match_mode,
        topK: b.limit,
        startDatetime: b.start_date,
        endDatetime: b.end_date,
      });
    },
  );
};
