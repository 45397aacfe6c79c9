import { agentIdParams } from '../../../schemas/agent.js';
import { captureBodySchema, captureResultSchema, messageSearchBodySchema } from '../../../schemas/capture.js';
import { SEARCH_FALLBACK_HEADER, fallbackHeader } from './archival.js';
import type { RouteModule } from '../types.js';

/**
 * Cairn extensions for clients that record history without running the agent (Claude Code hooks, MCP
 * `log_session_entry`): `POST /v1/agents/{id}/messages/capture` (Letta has a hidden route of that name), and
 * `POST /v1/messages/search` (Letta Cloud's message search) answered from recall search, over one agent or all.
 */
export const captureRoutes: RouteModule = async (app) => {
  const { capture, recall } = app.services;

  app.post(
    '/agents/:agent_id/messages/capture',
    {
      schema: {
        tags: ['messages'],
        params: agentIdParams,
        body: captureBodySchema,
        response: { 200: captureResultSchema },
      },
    },
    async (request) => capture.capture(request.params.agent_id, request.body.messages, request.body.conversation_id),
  );

  app.post(
    '/messages/search',
    { schema: { tags: ['messages'], body: messageSearchBodySchema } },
    async (request, reply) =>
      recall.searchMessages(request.body, (reason) => {
        void reply.header(SEARCH_FALLBACK_HEADER, fallbackHeader(reason));
      }),
  );
};
