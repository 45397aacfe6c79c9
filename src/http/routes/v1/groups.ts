import { z } from 'zod';
import { agentIdParams } from '../../../schemas/agent.js';
import { pageQuery, queryString } from '../../../schemas/common.js';
import {
  groupCreateSchema,
  groupIdParams,
  groupSchema,
  groupUpdateSchema,
  listGroupsQuery,
} from '../../../schemas/group.js';
import type { RouteModule } from '../types.js';

const tags = ['groups'];

export const groupRoutes: RouteModule = async (app) => {
  const { groups } = app.services;

  app.get(
    '/groups/',
    { schema: { tags, querystring: listGroupsQuery, response: { 200: z.array(groupSchema) } } },
    async (request) => groups.list(request.query),
  );
  app.get('/groups/count', { schema: { tags, response: { 200: z.number().int() } } }, async () => groups.count());
  app.post('/groups/', { schema: { tags, body: groupCreateSchema, response: { 200: groupSchema } } }, async (request) =>
    groups.create(request.body),
  );
  app.get(
    '/groups/:group_id',
    { schema: { tags, params: groupIdParams, response: { 200: groupSchema } } },
    async (request) => groups.get(request.params.group_id),
  );
  app.patch(
    '/groups/:group_id',
    { schema: { tags, params: groupIdParams, body: groupUpdateSchema, response: { 200: groupSchema } } },
    async (request) => groups.update(request.params.group_id, request.body),
  );
  app.delete('/groups/:group_id', { schema: { tags, params: groupIdParams } }, async (request) => {
    await groups.delete(request.params.group_id);
    return null;
  });
  const blockParams = groupIdParams.extend({ block_id: z.string() });
  // Letta answers both with an empty (null) body.
  app.patch('/groups/:group_id/blocks/attach/:block_id', { schema: { tags, params: blockParams } }, async (request) => {
    await groups.attachBlock(request.params.group_id, request.params.block_id);
    return null;
  });
  app.patch('/groups/:group_id/blocks/detach/:block_id', { schema: { tags, params: blockParams } }, async (request) => {
    await groups.detachBlock(request.params.group_id, request.params.block_id);
    return null;
  });
  app.get(
    '/agents/:agent_id/groups',
    {
      schema: {
        tags: ['agents'],
        params: agentIdParams,
        querystring: pageQuery(100).extend({ manager_type: queryString(), order_by: queryString() }),
        response: { 200: z.array(groupSchema) },
      },
    },
    async (request) => groups.listForAgent(request.params.agent_id, request.query.manager_type, request.query),
  );
};
