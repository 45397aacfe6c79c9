import { z } from 'zod';
import { writeSse } from '../../sse.js';
import { pageQuery, queryLimit } from '../../../schemas/common.js';
import { lettaMessageSchema } from '../../../schemas/message.js';
import {
  activeRunsQuery,
  listRunsQuery,
  runIdParams,
  runSchema,
  stepSchema,
  streamResumeSchema,
} from '../../../schemas/run.js';
import type { RouteModule } from '../types.js';

const tags = ['runs'];

export const runRoutes: RouteModule = async (app) => {
  const { runs, runtime } = app.services;

  app.get(
    '/runs/',
    { schema: { tags, querystring: listRunsQuery, response: { 200: z.array(runSchema) } } },
    async (request) => runs.list(request.query),
  );

  // A static path: registered beside `/runs/:run_id`, Fastify's router prefers it, so `active` is never an id.
  app.get(
    '/runs/active',
    { schema: { tags, querystring: activeRunsQuery, response: { 200: z.array(runSchema) } } },
    async (request) => runs.list({ ...request.query, active: true, limit: 1000, order: 'desc', statuses: undefined }),
  );

  app.get('/runs/:run_id/metrics', { schema: { tags, params: runIdParams } }, async (request) =>
    runs.metrics(request.params.run_id),
  );

  app.get(
    '/runs/:run_id/trace',
    { schema: { tags, params: runIdParams, querystring: z.object({ limit: queryLimit(1000) }) } },
    async (request) => runs.trace(request.params.run_id),
  );

  app.get('/runs/:run_id', { schema: { tags, params: runIdParams, response: { 200: runSchema } } }, async (request) =>
    runs.get(request.params.run_id),
  );

  app.delete('/runs/:run_id', { schema: { tags, params: runIdParams } }, async (request) => {
    await runs.delete(request.params.run_id);
    return null;
  });

  app.get(
    '/runs/:run_id/messages',
    {
      schema: {
        tags,
        params: runIdParams,
        querystring: pageQuery(100),
        response: { 200: z.array(lettaMessageSchema) },
      },
    },
    async (request) => runs.messages(request.params.run_id, request.query),
  );

  app.get(
    '/runs/:run_id/steps',
    { schema: { tags, params: runIdParams, querystring: pageQuery(100), response: { 200: z.array(stepSchema) } } },
    async (request) => runs.steps(request.params.run_id, request.query),
  );

  app.get('/runs/:run_id/usage', { schema: { tags, params: runIdParams } }, async (request) =>
    runs.usage(request.params.run_id),
  );

  app.post(
    '/runs/:run_id/stream',
    { schema: { tags, params: runIdParams, body: streamResumeSchema } },
    async (request, reply) => {
      const body = request.body;
      const { source } = await runs.streamSource(
        request.params.run_id,
        body.starting_after ?? 0,
        body.poll_interval ?? 0.1,
        body.batch_size ?? 100,
      );
      await writeSse(reply, request.params.run_id, body.include_pings !== false, source);
      return reply;
    },
  );

  // Not in Letta's API (it cancels through the agent or conversation), kept as a convenience alias.
  app.post('/runs/:run_id/cancel', { schema: { tags, params: runIdParams } }, async (request) => {
    const run = await runs.get(request.params.run_id);
    return runtime.turns.cancel(run.agent_id, undefined, [run.id]);
  });
};
