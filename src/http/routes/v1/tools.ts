import { z } from 'zod';
import { toolSchema } from '../../../schemas/tool.js';
import {
  countToolsQuery,
  listToolsQuery,
  toolCreateSchema,
  toolIdParams,
  toolReturnMessageSchema,
  toolRunFromSourceSchema,
  toolSearchRequestSchema,
  toolSearchResultSchema,
  toolUpdateSchema,
} from '../../../schemas/tool-requests.js';
import type { RouteModule } from '../types.js';

const tags = ['tools'];

/**
 * `/v1/tools`. Letta Code calls `GET /tools/?name=…` at every start and `POST /tools/add-base-tools` once per install
 * (remembered only after a success), so both must answer even on a fresh database.
 */
export const toolRoutes: RouteModule = async (app) => {
  const { tools } = app.services;

  app.get(
    '/tools/',
    { schema: { tags, querystring: listToolsQuery, response: { 200: z.array(toolSchema) } } },
    async (request) => tools.list(request.query),
  );
  app.get(
    '/tools/count',
    { schema: { tags, querystring: countToolsQuery, response: { 200: z.number().int() } } },
    async (request) => tools.count(request.query),
  );
  for (const method of ['post', 'put'] as const) {
    app[method](
      '/tools/',
      { schema: { tags, body: toolCreateSchema, response: { 200: toolSchema } } },
      async (request) => tools.upsert(request.body),
    );
  }
  app.post('/tools/add-base-tools', { schema: { tags, response: { 200: z.array(toolSchema) } } }, async () =>
    tools.baseTools(),
  );
  app.post(
    '/tools/search',
    { schema: { tags, body: toolSearchRequestSchema, response: { 200: z.array(toolSearchResultSchema) } } },
    async (request) => tools.search(request.body),
  );
  app.post(
    '/tools/run',
    { schema: { tags, body: toolRunFromSourceSchema, response: { 200: toolReturnMessageSchema } } },
    async (request) => tools.runFromSource(request.body),
  );
  app.get(
    '/tools/:tool_id',
    { schema: { tags, params: toolIdParams, response: { 200: toolSchema } } },
    async (request) => tools.get(request.params.tool_id),
  );
  app.patch(
    '/tools/:tool_id',
    { schema: { tags, params: toolIdParams, body: toolUpdateSchema, response: { 200: toolSchema } } },
    async (request) => tools.update(request.params.tool_id, request.body),
  );
  app.delete('/tools/:tool_id', { schema: { tags, params: toolIdParams } }, async (request) => {
    await tools.delete(request.params.tool_id);
    return null;
  });
};
