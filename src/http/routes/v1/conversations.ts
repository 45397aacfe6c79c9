import { z } from 'zod';
import { badRequest } from '../../../lib/errors.js';
import { writeSse } from '../../sse.js';
import { replyWithTurn } from '../../turn-reply.js';
import {
  agentIdQuery,
  conversationIdParams,
  conversationSchema,
  createConversationQuery,
  createConversationSchema,
  forkQuery,
  listConversationsQuery,
  updateConversationSchema,
} from '../../../schemas/conversation.js';
import { compactSchema, lettaMessageSchema, listMessagesQuery, sendMessageSchema } from '../../../schemas/message.js';
import { streamResumeSchema } from '../../../schemas/run.js';
import type { RouteModule } from '../types.js';

const tags = ['conversations'];

export const conversationRoutes: RouteModule = async (app) => {
  const { conversations, messages, runtime, runs } = app.services;

  /** `default` is the agent's own thread, named by an `agent_id` beside it (Letta Code's interactive path). */
  const thread = async (
    conversationId: string,
    agentId: string | null | undefined,
  ): Promise<{ agentId: string; conversationId: string | null }> => {
    if (conversationId === 'default') {
      if (!agentId) throw badRequest("agent_id is required when conversation_id is 'default'");
      return { agentId, conversationId: null };
    }
    const conversation = await conversations.require(conversationId);
    return { agentId: conversation.agent_id, conversationId };
  };

  app.post(
    '/conversations/',
    {
      schema: {
        tags,
        querystring: createConversationQuery,
        body: createConversationSchema,
        response: { 200: conversationSchema },
      },
    },
    async (request) => conversations.create(request.query.agent_id, request.body),
  );

  app.get(
    '/conversations/',
    { schema: { tags, querystring: listConversationsQuery, response: { 200: z.array(conversationSchema) } } },
    async (request) => conversations.list(request.query),
  );

  app.get(
    '/conversations/:conversation_id',
    { schema: { tags, params: conversationIdParams, response: { 200: conversationSchema } } },
    async (request) => conversations.get(request.params.conversation_id),
  );

  app.patch(
    '/conversations/:conversation_id',
    {
      schema: {
        tags,
        params: conversationIdParams,
        body: updateConversationSchema,
        response: { 200: conversationSchema },
      },
    },
    async (request) => conversations.update(request.params.conversation_id, request.body),
  );

  app.delete('/conversations/:conversation_id', { schema: { tags, params: conversationIdParams } }, async (request) => {
    await conversations.delete(request.params.conversation_id);
    return null;
  });

  app.post(
    '/conversations/:conversation_id/fork',
    { schema: { tags, params: conversationIdParams, querystring: forkQuery, response: { 200: conversationSchema } } },
    async (request) =>
      conversations.fork(
        request.params.conversation_id,
        request.query.agent_id ?? undefined,
        request.query.message_id ?? undefined,
      ),
  );

  app.get(
    '/conversations/:conversation_id/messages',
    {
      schema: {
        tags,
        params: conversationIdParams,
        querystring: listMessagesQuery,
        response: { 200: z.array(lettaMessageSchema) },
      },
    },
    async (request) => messages.listForThread(request.query.agent_id, request.params.conversation_id, request.query),
  );

  app.post(
    '/conversations/:conversation_id/messages',
    { schema: { tags, params: conversationIdParams, body: sendMessageSchema(true) } },
    async (request, reply) => {
      const t = await thread(request.params.conversation_id, request.body.agent_id);
      const streaming = request.body.streaming !== false;
      const turn = await runtime.turns.start(t.agentId, t.conversationId, request.body, streaming ? 'stream' : 'sync');
      return replyWithTurn(reply, turn, streaming, request.body.include_pings !== false);
    },
  );

  /** Re-attaches to the conversation's latest active run (or the named one) and replays it from `starting_after`. */
  app.post(
    '/conversations/:conversation_id/stream',
    { schema: { tags, params: conversationIdParams, body: streamResumeSchema } },
    async (request, reply) => {
      const body = request.body;
      const t = await thread(request.params.conversation_id, body.agent_id);
      const runId = body.run_id ?? (await runs.latestActive(t.agentId, t.conversationId));
      if (!runId) throw badRequest('No active run found for this conversation.');
      const { source } = await runs.streamSource(
        runId,
        body.starting_after ?? 0,
        body.poll_interval ?? 0.1,
        body.batch_size ?? 100,
      );
      await writeSse(reply, runId, body.include_pings !== false, source);
      return reply;
    },
  );

  app.post(
    '/conversations/:conversation_id/cancel',
    { schema: { tags, params: conversationIdParams, querystring: agentIdQuery } },
    async (request) => {
      const t = await thread(request.params.conversation_id, request.query.agent_id);
      return runtime.turns.cancel(t.agentId, t.conversationId);
    },
  );

  app.post(
    '/conversations/:conversation_id/compact',
    { schema: { tags, params: conversationIdParams, body: compactSchema } },
    async (request) => {
      const t = await thread(request.params.conversation_id, request.body.agent_id);
      return runtime.compact(
        t.agentId,
        t.conversationId,
        request.body.compaction_settings?.mode === 'all' ? 'all' : 'sliding_window',
      );
    },
  );

  app.post(
    '/conversations/:conversation_id/recompile',
    { schema: { tags, params: conversationIdParams, body: compactSchema, response: { 200: z.string() } } },
    async (request, reply) => {
      const t = await thread(request.params.conversation_id, request.body.agent_id);
      return reply.type('application/json').send(JSON.stringify(await runtime.recompile(t.agentId)));
    },
  );
};
