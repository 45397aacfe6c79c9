import { z } from 'zod';
import { resolveIncludes } from '../../../services/agent.service.js';
import {
  agentIdParams,
  agentStateSchema,
  countAgentsQuery,
  createAgentSchema,
  listAgentsQuery,
  retrieveAgentQuery,
  updateAgentSchema,
} from '../../../schemas/agent.js';
import { idOf } from '../../../schemas/common.js';
import { isModernClient } from '../../client-kind.js';
import type { RouteModule } from '../types.js';

const tags = ['agents'];

export const agentRoutes: RouteModule = async (app) => {
  const { agents } = app.services;

  app.get(
    '/agents/',
    { schema: { tags, querystring: listAgentsQuery, response: { 200: z.array(agentStateSchema) } } },
    async (request) =>
      agents.list(
        request.query,
        resolveIncludes(isModernClient(request), request.query.include, request.query.include_relationships),
      ),
  );

  app.get(
    '/agents/count',
    { schema: { tags, querystring: countAgentsQuery, response: { 200: z.number().int() } } },
    async (request) => agents.count(request.query),
  );

  app.post(
    '/agents/',
    { schema: { tags, body: createAgentSchema, response: { 200: agentStateSchema } } },
    async (request) => agents.create(request.body),
  );

  app.get(
    '/agents/:agent_id',
    { schema: { tags, params: agentIdParams, querystring: retrieveAgentQuery, response: { 200: agentStateSchema } } },
    async (request) =>
      agents.get(
        request.params.agent_id,
        resolveIncludes(isModernClient(request), request.query.include, request.query.include_relationships),
      ),
  );

  app.get(
    '/agents/:agent_id/secrets',
    {
      schema: {
        tags,
        summary: "An agent's secret names, without values (Letta Cloud route Letta Code reads)",
        params: agentIdParams,
        response: { 200: z.array(z.object({ key: z.string(), value: z.null() })) },
      },
    },
    async (request) => agents.secretNames(request.params.agent_id),
  );

  app.patch(
    '/agents/:agent_id',
    { schema: { tags, params: agentIdParams, body: updateAgentSchema, response: { 200: agentStateSchema } } },
    async (request) => agents.update(request.params.agent_id, request.body, 'all'),
  );

  app.delete('/agents/:agent_id', { schema: { tags, params: agentIdParams } }, async (request) => {
    await agents.delete(request.params.agent_id);
    return null;
  });

  // Letta Code detaches and re-attaches its server-side memory tool this way when its toolset changes. 1.0 clients get
  // null, legacy ones the agent (reference §1.7).
  const toolParams = agentIdParams.extend({ tool_id: idOf('tool') });
  for (const action of ['attach', 'detach'] as const) {
    app.patch(
      `/agents/:agent_id/tools/${action}/:tool_id`,
      { schema: { tags, params: toolParams, response: { 200: agentStateSchema.nullable() } } },
      async (request) => {
        await agents.attachTool(request.params.agent_id, request.params.tool_id, action === 'attach');
        return isModernClient(request) ? null : agents.get(request.params.agent_id, 'all');
      },
    );
  }

  const identityParams = agentIdParams.extend({ identity_id: idOf('identity') });
  for (const action of ['attach', 'detach'] as const) {
    app.patch(
      `/agents/:agent_id/identities/${action}/:identity_id`,
      { schema: { tags, params: identityParams, response: { 200: agentStateSchema } } },
      async (request) =>
        agents.attachIdentity(request.params.agent_id, request.params.identity_id, action === 'attach'),
    );
  }
};
