import { z } from 'zod';
import { agentIdParams } from '../../../schemas/agent.js';
import { idOf } from '../../../schemas/common.js';
import { CaptureService } from '../../../services/capture.service.js';
import type { RecallRole } from '../../../services/recall.service.js';
import { SEARCH_FALLBACK_HEADER, fallbackHeader } from './archival.js';
import type { RouteModule } from '../types.js';

const captureBody = z.object({
  messages: z
    .array(
      z.object({
        role: z.enum(['user', 'assistant', 'system']),
        content: z.string().min(1).max(100_000),
        created_at: z.string().optional(),
        otid: z.string().min(1).max(200).optional(),
      }),
    )
    .min(1)
    .max(500),
  conversation_id: idOf('conv').optional(),
});

const captureResponse = z.object({
  captured: z.number().int(),
  skipped: z.number().int(),
  message_ids: z.array(z.string()),
});

const searchBody = z.object({
  query: z.string(),
  agent_id: idOf('agent'),
  conversation_id: idOf('conv').nullish(),
  start_date: z.string().nullish(),
  end_date: z.string().nullish(),
  limit: z.number().int().min(1).max(1000).optional(),
  search_mode: z.enum(['vector', 'fts', 'hybrid']).optional(),
  /** Cairn extension: which roles to search (default user and assistant). */
  roles: z.array(z.enum(['user', 'assistant', 'system', 'tool'])).optional(),
});

/**
 * Cairn extensions for clients that record history without running the agent (Claude Code hooks, MCP
 * `log_session_entry`): `POST /v1/agents/{id}/messages/capture` (Letta has a hidden route of that name), and
 * `POST /v1/messages/search` (Letta Cloud's message search) answered from recall search, scoped to one agent.
 */
export const captureRoutes: RouteModule = async (app) => {
  const capture = new CaptureService(app.services.stores);
  const { recall } = app.services;

  app.post(
    '/agents/:agent_id/messages/capture',
    { schema: { tags: ['messages'], params: agentIdParams, body: captureBody, response: { 200: captureResponse } } },
    async (request) => capture.capture(request.params.agent_id, request.body.messages, request.body.conversation_id),
  );

  app.post('/messages/search', { schema: { tags: ['messages'], body: searchBody } }, async (request, reply) => {
    const b = request.body;
    const hits = await recall.search(b.agent_id, {
      mode: b.search_mode,
      onFallback: (reason) => {
        void reply.header(SEARCH_FALLBACK_HEADER, fallbackHeader(reason));
      },
      query: b.query,
      roles: b.roles as RecallRole[] | undefined,
      limit: b.limit ?? 10,
      startDate: b.start_date,
      endDate: b.end_date,
      conversationId: b.conversation_id,
    });
    return hits.map(({ message, timestamp }) => ({
      message_type: `${message.role === 'tool' ? 'tool_return' : message.role}_message`,
      message_id: message.id,
      agent_id: message.agent_id,
      conversation_id: message.conversation_id,
      content: message.text,
      created_at: timestamp,
    }));
  });
};
