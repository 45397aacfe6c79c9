import { z } from 'zod';
import { resolveIncludes } from '../../../services/agent.service.js';
import { agentStateSchema, linkedAgentsQuery } from '../../../schemas/agent.js';
import {
  blockIdParams,
  blockSchema,
  blockUpdateSchema,
  createBlockSchema,
  listBlocksQuery,
} from '../../../schemas/block.js';
import { idOf } from '../../../schemas/common.js';
import { isModernClient } from '../../client-kind.js';
import type { RouteModule } from '../types.js';

const tags = ['blocks'];

export const blockRoutes: RouteModule = async (app) => {
  const { blocks, agents } = app.services;

  app.get(
    '/blocks/',
    { schema: { tags, querystring: listBlocksQuery, response: { 200: z.array(blockSchema) } } },
    async (request) => blocks.list(request.query),
  );

  app.get('/blocks/count', { schema: { tags, response: { 200: z.number().int() } } }, async () => blocks.count());

  app.post('/blocks/', { schema: { tags, body: createBlockSchema, response: { 200: blockSchema } } }, async (request) =>
    blocks.create(request.body),
  );

  app.get(
    '/blocks/:block_id',
    { schema: { tags, params: blockIdParams, response: { 200: blockSchema } } },
    async (request) => blocks.get(request.params.block_id),
  );

  app.patch(
    '/blocks/:block_id',
    { schema: { tags, params: blockIdParams, body: blockUpdateSchema, response: { 200: blockSchema } } },
    async (request) => blocks.update(request.params.block_id, request.body),
  );

  app.delete('/blocks/:block_id', { schema: { tags, params: blockIdParams } }, async (request) => {
    await blocks.delete(request.params.block_id);
    return null;
  });

  app.get(
    '/blocks/:block_id/agents',
    {
      schema: {
        tags,
        params: blockIdParams,
        querystring: linkedAgentsQuery,
        response: { 200: z.array(agentStateSchema) },
      },
    },
    async (request) =>
      agents.listLinked(
        { blockId: request.params.block_id },
        request.query,
        resolveIncludes(isModernClient(request), request.query.include, request.query.include_relationships),
      ),
  );

  const identityParams = blockIdParams.extend({ identity_id: idOf('identity') });
  for (const action of ['attach', 'detach'] as const) {
    app.patch(
      `/blocks/:block_id/identities/${action}/:identity_id`,
      { schema: { tags, params: identityParams, response: { 200: blockSchema } } },
      async (request) => blocks.linkIdentity(request.params.block_id, request.params.identity_id, action === 'attach'),
    );
  }
};
