import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import {
  createMcpServerSchema,
  legacyExecuteResultSchema,
  legacyServerConfigSchema,
  legacyServerListSchema,
  legacyTestResultSchema,
  legacyUpdateMcpServerSchema,
  mcpExecuteParams,
  mcpRefreshQuery,
  mcpResyncResultSchema,
  mcpServerIdParams,
  mcpServerNameParams,
  mcpServerSchema,
  mcpServerToolNameParams,
  mcpServerToolParams,
  mcpToolSchema,
  toolExecuteRequestSchema,
  toolExecutionResultSchema,
  updateMcpServerSchema,
  type McpConnectEvent,
} from '../../../schemas/mcp-server.js';
import { agentIdParams } from '../../../schemas/agent.js';
import { toolSchema } from '../../../schemas/tool.js';
import { toolSearchRequestSchema, toolSearchResultSchema } from '../../../schemas/tool-requests.js';
import { McpClientError, mcpErrorStatus, mcpHttpError } from '../../../tools/mcp/errors.js';
import { configFromCreate, configFromLegacy } from '../../../tools/mcp/wire.js';
import type { RouteModule } from '../types.js';

const tags = ['mcp-servers'];
const legacyTags = ['tools'];

/** Letta's connect routes answer with an event stream whatever happens; the events say how it went. */
function sendEvents(reply: FastifyReply, events: McpConnectEvent[]) {
  return reply
    .type('text/event-stream; charset=utf-8')
    .header('cache-control', 'no-cache')
    .send(events.map((event) => `data: ${JSON.stringify(event)}\n\n`).join(''));
}

/**
 * Both of Letta's MCP-server APIs: the id-keyed `/v1/mcp-servers` (the SDK's `mcpServers`, Letta Code's `/mcp`)
 * and the legacy name-keyed `/v1/tools/mcp/servers` (letta-mcp-server's `letta_mcp_ops`). The legacy routes live
 * here rather than with `/v1/tools` because they share every rule with the id-keyed ones.
 */
export const mcpServerRoutes: RouteModule = async (app) => {
  const { mcpServers: mcp, agents, tools } = app.services;

  // A server that failed (down, hung, refused) is not a Cairn bug: Letta's statuses, and for an unreachable server
  // its 502 body (`error.detail` is what Letta Code reads first), with `detail` as on every other error.
  app.setErrorHandler((error, _request, reply) => {
    if (!(error instanceof McpClientError)) throw error;
    const mapped = mcpHttpError(error);
    if (mcpErrorStatus(error) !== 502) return reply.code(mapped.status).send({ detail: mapped.detail });
    return reply.code(502).send({
      detail: error.message,
      error: { type: 'mcp_connection_error', message: 'Failed to connect to MCP server.', detail: error.message },
    });
  });

  // ---- id-keyed ----

  app.get('/mcp-servers/', { schema: { tags, response: { 200: z.array(mcpServerSchema) } } }, () => mcp.list());
  app.post(
    '/mcp-servers/',
    { schema: { tags, body: createMcpServerSchema, response: { 200: mcpServerSchema } } },
    (request) => mcp.create(configFromCreate(request.body)),
  );
  app.get(
    '/mcp-servers/:mcp_server_id',
    { schema: { tags, params: mcpServerIdParams, response: { 200: mcpServerSchema } } },
    (request) => mcp.get(request.params.mcp_server_id),
  );
  app.patch(
    '/mcp-servers/:mcp_server_id',
    { schema: { tags, params: mcpServerIdParams, body: updateMcpServerSchema, response: { 200: mcpServerSchema } } },
    (request) => mcp.update(request.params.mcp_server_id, request.body),
  );
  app.delete('/mcp-servers/:mcp_server_id', { schema: { tags, params: mcpServerIdParams } }, async (request, reply) => {
    await mcp.delete(request.params.mcp_server_id);
    return reply.code(204).send();
  });
  app.get(
    '/mcp-servers/:mcp_server_id/tools',
    { schema: { tags, params: mcpServerIdParams, response: { 200: z.array(toolSchema) } } },
    (request) => mcp.tools(request.params.mcp_server_id),
  );
  app.get(
    '/mcp-servers/:mcp_server_id/tools/:tool_id',
    { schema: { tags, params: mcpServerToolParams, response: { 200: toolSchema } } },
    (request) => mcp.tool(request.params.mcp_server_id, request.params.tool_id),
  );
  app.post(
    '/mcp-servers/:mcp_server_id/tools/:tool_id/run',
    {
      schema: {
        tags,
        params: mcpServerToolParams,
        body: toolExecuteRequestSchema.optional(),
        response: { 200: toolExecutionResultSchema },
      },
    },
    (request) => mcp.runTool(request.params.mcp_server_id, request.params.tool_id, request.body?.args ?? {}),
  );
  app.patch(
    '/mcp-servers/:mcp_server_id/refresh',
    {
      schema: {
        tags,
        params: mcpServerIdParams,
        querystring: mcpRefreshQuery,
        response: { 200: mcpResyncResultSchema },
      },
    },
    (request) => mcp.refresh(request.params.mcp_server_id, request.query.agent_id),
  );
  // The OpenAPI document has GET; POST is served too, for clients that treat connecting as an action.
  for (const method of ['GET', 'POST'] as const)
    app.route({
      method,
      url: '/mcp-servers/connect/:mcp_server_id',
      schema: { tags, params: mcpServerIdParams },
      handler: async (request, reply) =>
        sendEvents(reply, await mcp.connectEvents({ id: request.params.mcp_server_id })),
    });

  // ---- per agent (Letta Code 0.32's `letta mcp` and its per-turn MCP reminder; not in the OpenAPI document) ----
  // Cairn has no per-agent server binding: every registered server is available to every agent, as Letta's
  // self-hosted server makes every server's tools attachable to any agent. The agent's id goes to the server.

  app.get(
    '/agents/:agent_id/mcp-servers',
    { schema: { tags, params: agentIdParams, response: { 200: z.array(mcpServerSchema) } } },
    async (request) => {
      await agents.assertExists(request.params.agent_id);
      return mcp.list();
    },
  );
  app.get(
    '/agents/:agent_id/mcp-servers/:mcp_server_id/tools',
    {
      schema: {
        tags,
        params: agentIdParams.extend(mcpServerIdParams.shape),
        response: { 200: z.array(toolSchema) },
      },
    },
    async (request) => {
      await agents.assertExists(request.params.agent_id);
      return mcp.tools(request.params.mcp_server_id);
    },
  );
  app.post(
    '/agents/:agent_id/mcp-servers/tools/search',
    {
      schema: {
        tags,
        params: agentIdParams,
        body: toolSearchRequestSchema.omit({ tool_types: true }),
        response: { 200: z.array(toolSearchResultSchema) },
      },
    },
    async (request) => {
      await agents.assertExists(request.params.agent_id);
      return tools.search({ ...request.body, tool_types: ['external_mcp'] });
    },
  );
  app.post(
    '/agents/:agent_id/mcp-servers/:mcp_server_id/tools/:tool_id/run',
    {
      schema: {
        tags,
        params: agentIdParams.extend(mcpServerToolParams.shape),
        body: toolExecuteRequestSchema.optional(),
        response: { 200: toolExecutionResultSchema },
      },
    },
    async (request) => {
      const { agent_id: agentId, mcp_server_id: serverId, tool_id: toolId } = request.params;
      await agents.assertExists(agentId);
      return mcp.runTool(serverId, toolId, request.body?.args ?? {}, agentId);
    },
  );

  // ---- legacy name-keyed ----

  app.get('/tools/mcp/servers', { schema: { tags: legacyTags, response: { 200: legacyServerListSchema } } }, () =>
    mcp.legacyList(),
  );
  app.put(
    '/tools/mcp/servers',
    {
      schema: {
        tags: legacyTags,
        body: legacyServerConfigSchema,
        response: { 200: z.array(legacyServerConfigSchema) },
      },
    },
    (request) => mcp.legacyAdd(configFromLegacy(request.body)),
  );
  app.post(
    '/tools/mcp/servers/test',
    { schema: { tags: legacyTags, body: legacyServerConfigSchema, response: { 200: legacyTestResultSchema } } },
    (request) => mcp.test(configFromLegacy(request.body)),
  );
  app.post(
    '/tools/mcp/servers/connect',
    { schema: { tags: legacyTags, body: legacyServerConfigSchema } },
    async (request, reply) => sendEvents(reply, await mcp.connectEvents({ config: configFromLegacy(request.body) })),
  );
  app.patch(
    '/tools/mcp/servers/:mcp_server_name',
    {
      schema: {
        tags: legacyTags,
        params: mcpServerNameParams,
        body: legacyUpdateMcpServerSchema,
        response: { 200: legacyServerConfigSchema },
      },
    },
    (request) => mcp.legacyUpdate(request.params.mcp_server_name, request.body),
  );
  app.delete(
    '/tools/mcp/servers/:mcp_server_name',
    {
      schema: { tags: legacyTags, params: mcpServerNameParams, response: { 200: z.array(legacyServerConfigSchema) } },
    },
    (request) => mcp.legacyDelete(request.params.mcp_server_name),
  );
  app.get(
    '/tools/mcp/servers/:mcp_server_name/tools',
    { schema: { tags: legacyTags, params: mcpServerNameParams, response: { 200: z.array(mcpToolSchema) } } },
    (request) => mcp.liveTools(request.params.mcp_server_name),
  );
  app.post(
    '/tools/mcp/servers/:mcp_server_name/resync',
    {
      schema: {
        tags: legacyTags,
        params: mcpServerNameParams,
        querystring: mcpRefreshQuery,
        response: { 200: mcpResyncResultSchema },
      },
    },
    (request) => mcp.resyncByName(request.params.mcp_server_name, request.query.agent_id),
  );
  app.post(
    '/tools/mcp/servers/:mcp_server_name/:mcp_tool_name',
    { schema: { tags: legacyTags, params: mcpServerToolNameParams, response: { 200: toolSchema } } },
    (request) => mcp.registerTool(request.params.mcp_server_name, request.params.mcp_tool_name),
  );
  app.post(
    '/tools/mcp/servers/:mcp_server_name/tools/:tool_name/execute',
    {
      schema: {
        tags: legacyTags,
        params: mcpExecuteParams,
        body: toolExecuteRequestSchema,
        response: { 200: legacyExecuteResultSchema },
      },
    },
    (request) => mcp.execute(request.params.mcp_server_name, request.params.tool_name, request.body.args),
  );
};
