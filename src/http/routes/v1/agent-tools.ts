import { z } from 'zod';
import { agentIdParams, agentStateSchema } from '../../../schemas/agent.js';
import { toolSchema } from '../../../schemas/tool.js';
import {
  agentToolNameParams,
  listAgentToolsQuery,
  modifyApprovalBody,
  modifyApprovalQuery,
  toolExecuteRequestSchema,
  toolExecutionResultSchema,
} from '../../../schemas/tool-requests.js';
import { badRequest } from '../../../lib/errors.js';
import { wireExecutionResult } from '../../../tools/mcp/letta-tool.js';
import { isModernClient } from '../../client-kind.js';
import type { RouteModule } from '../types.js';

const tags = ['agents'];

/** The agent's tools by page, the per-agent approval toggle, and a tool run directly (attach/detach: agents.ts). */
export const agentToolRoutes: RouteModule = async (app) => {
  const { agents, tools, runtime } = app.services;

  app.get(
    '/agents/:agent_id/tools',
    {
      schema: { tags, params: agentIdParams, querystring: listAgentToolsQuery, response: { 200: z.array(toolSchema) } },
    },
    async (request) => tools.listForAgent(request.params.agent_id, request.query),
  );

  app.patch(
    '/agents/:agent_id/tools/approval/:tool_name',
    {
      schema: {
        tags,
        params: agentToolNameParams,
        querystring: modifyApprovalQuery,
        body: modifyApprovalBody,
        response: { 200: agentStateSchema.nullable() },
      },
    },
    async (request) => {
      const body = request.body ?? {};
      const requiresApproval = body.requires_approval ?? body.body_requires_approval ?? request.query.requires_approval;
      if (requiresApproval == null) throw badRequest('requires_approval must be given (in the body or the query)');
      const { agent_id: agentId, tool_name: toolName } = request.params;
      await agents.setToolApproval(agentId, toolName, requiresApproval);
      return isModernClient(request) ? null : agents.get(agentId, 'all');
    },
  );

  app.post(
    '/agents/:agent_id/tools/:tool_name/run',
    {
      schema: {
        tags,
        params: agentToolNameParams,
        body: toolExecuteRequestSchema,
        response: { 200: toolExecutionResultSchema },
      },
    },
    async (request) =>
      wireExecutionResult(
        await runtime.runTool(request.params.agent_id, request.params.tool_name, request.body?.args ?? {}),
      ),
  );
};
