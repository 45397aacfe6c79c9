import { z } from 'zod';
import { isModernClient } from '../../client-kind.js';
import { replyWithTurn } from '../../turn-reply.js';
import { agentIdParams } from '../../../schemas/agent.js';
import { idOf } from '../../../schemas/common.js';
import {
  asyncMessageSchema,
  cancelSchema,
  compactSchema,
  generateSchema,
  lettaMessageSchema,
  listMessagesQuery,
  resetMessagesSchema,
  sendMessageSchema,
} from '../../../schemas/message.js';
import { runSchema } from '../../../schemas/run.js';
import type { RouteModule } from '../types.js';

const tags = ['messages'];

export const messageRoutes: RouteModule = async (app) => {
  const { runtime, messages, runs, agents } = app.services;

  app.post(
    '/agents/:agent_id/messages',
    { schema: { tags, params: agentIdParams, body: sendMessageSchema(false) } },
    async (request, reply) => {
      const streaming = request.body.streaming === true;
      const turn = await runtime.turns.start(
        request.params.agent_id,
        null,
        request.body,
        streaming ? 'stream' : 'sync',
      );
      return replyWithTurn(reply, turn, streaming, request.body.include_pings !== false);
    },
  );

  app.post(
    '/agents/:agent_id/messages/stream',
    { schema: { tags, params: agentIdParams, body: sendMessageSchema(true) } },
    async (request, reply) => {
      const turn = await runtime.turns.start(
        request.params.agent_id,
        null,
        { ...request.body, streaming: true },
        'stream',
      );
      return replyWithTurn(reply, turn, true, request.body.include_pings !== false);
    },
  );

  app.post(
    '/agents/:agent_id/messages/async',
    { schema: { tags, params: agentIdParams, body: asyncMessageSchema, response: { 200: runSchema } } },
    async (request) => {
      const turn = await runtime.turns.start(request.params.agent_id, null, request.body, 'async');
      // The turn runs on; its failure is recorded on the run, never thrown at this already-answered request.
      turn.outcome.catch(() => {});
      return runs.get(turn.runId).then((r) => ({ ...r, status: r.status === 'running' ? 'created' : r.status }));
    },
  );

  app.post(
    '/agents/:agent_id/messages/cancel',
    { schema: { tags, params: agentIdParams, body: cancelSchema } },
    async (request) => {
      await agents.assertExists(request.params.agent_id);
      return runtime.turns.cancel(request.params.agent_id, undefined, request.body.run_ids);
    },
  );

  app.get(
    '/agents/:agent_id/messages',
    {
      schema: {
        tags,
        params: agentIdParams,
        querystring: listMessagesQuery,
        response: { 200: z.array(lettaMessageSchema) },
      },
    },
    async (request) => {
      const c = request.query.conversation_id;
      return messages.list(
        request.params.agent_id,
        c === undefined ? { kind: 'all' } : c === 'default' ? { kind: 'default' } : { kind: 'conversation', id: c },
        request.query,
      );
    },
  );

  for (const method of ['PATCH', 'POST'] as const) {
    app.route({
      method,
      url: '/agents/:agent_id/reset-messages',
      schema: { tags, params: agentIdParams, body: resetMessagesSchema },
      handler: async (request) => {
        await messages.reset(request.params.agent_id, request.body.add_default_initial_messages !== false);
        // 1.0 clients get null here; legacy ones the agent (§1.7).
        return isModernClient(request) ? null : agents.get(request.params.agent_id, 'all');
      },
    });
  }

  app.get(
    '/messages/:message_id',
    {
      schema: {
        tags,
        params: z.object({ message_id: idOf('message') }),
        response: { 200: z.array(lettaMessageSchema) },
      },
    },
    async (request) => messages.get(request.params.message_id),
  );

  // Letta answers a JSON string; Fastify would send a bare string as text/plain.
  app.post(
    '/agents/:agent_id/recompile',
    { schema: { tags: ['agents'], params: agentIdParams, response: { 200: z.string() } } },
    async (request, reply) =>
      reply.type('application/json').send(JSON.stringify(await runtime.recompile(request.params.agent_id))),
  );

  app.post(
    '/agents/:agent_id/generate',
    { schema: { tags: ['agents'], params: agentIdParams, body: generateSchema } },
    async (request) => runtime.generate(request.params.agent_id, request.body),
  );

  app.get('/agents/:agent_id/context', { schema: { tags: ['agents'], params: agentIdParams } }, async (request) =>
    runtime.contextOverview(request.params.agent_id),
  );

  app.post(
    '/agents/:agent_id/summarize',
    { schema: { tags: ['agents'], params: agentIdParams, body: compactSchema } },
    async (request) => {
      const mode = request.body.compaction_settings?.mode === 'all' ? 'all' : 'sliding_window';
      return runtime.compact(request.params.agent_id, null, mode);
    },
  );
};
