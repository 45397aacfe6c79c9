import { z } from 'zod';
import { agentIdParams, agentStateSchema } from '../../../schemas/agent.js';
import { blockSchema, blockUpdateSchema } from '../../../schemas/block.js';
import { idOf, pageQuery } from '../../../schemas/common.js';
import type { RouteModule } from '../types.js';

const tags = ['core-memory'];
const labelParams = agentIdParams.extend({ block_label: z.string().min(1) });
const blockIdParams = agentIdParams.extend({ block_id: idOf('block') });

export const coreMemoryRoutes: RouteModule = async (app) => {
  const { agents } = app.services;

  app.get('/agents/:agent_id/core-memory', { schema: { tags, params: agentIdParams } }, async (request) =>
    agents.memory(request.params.agent_id),
  );

  app.get(
    '/agents/:agent_id/core-memory/blocks',
    { schema: { tags, params: agentIdParams, querystring: pageQuery(100), response: { 200: z.array(blockSchema) } } },
    async (request) => agents.listBlocks(request.params.agent_id, request.query),
  );

  // Attach/detach are registered before the by-label routes; find-my-way prefers static segments anyway.
  app.patch(
    '/agents/:agent_id/core-memory/blocks/attach/:block_id',
    { schema: { tags, params: blockIdParams, response: { 200: agentStateSchema } } },
    async (request) => agents.attachBlock(request.params.agent_id, request.params.block_id),
  );
  app.patch(
    '/agents/:agent_id/core-memory/blocks/detach/:block_id',
    { schema: { tags, params: blockIdParams, response: { 200: agentStateSchema } } },
    async (request) => agents.detachBlock(request.params.agent_id, request.params.block_id),
  );

  app.get(
    '/agents/:agent_id/core-memory/blocks/:block_label',
    { schema: { tags, params: labelParams, response: { 200: blockSchema } } },
    async (request) => agents.getBlock(request.params.agent_id, request.params.block_label),
  );

  app.patch(
    '/agents/:agent_id/core-memory/blocks/:block_label',
    { schema: { tags, params: labelParams, body: blockUpdateSchema, response: { 200: blockSchema } } },
    async (request) => agents.updateBlock(request.params.agent_id, request.params.block_label, request.body),
  );
};
