import type { FastifyInstance, RouteOptions } from 'fastify';
import fp from 'fastify-plugin';
import { z } from 'zod';
import { CAIRN_VERSION } from '../../version.js';

declare module 'fastify' {
  interface FastifySchema {
    tags?: string[];
    summary?: string;
  }
}

interface CollectedRoute {
  method: string;
  url: string;
  schema: NonNullable<RouteOptions['schema']>;
}

type JsonSchema = Record<string, unknown>;

/**
 * Cairn's own OpenAPI document, generated from the zod schemas the routes validate with, so the document
 * cannot drift from what the server accepts.
 */
export const openapiPlugin = fp(
  async (app: FastifyInstance) => {
    const routes: CollectedRoute[] = [];
    app.addHook('onRoute', (route) => {
      if (!route.schema || route.url.endsWith('/') && route.url.length > 1 && routes.some((r) => r.url === route.url.slice(0, -1))) return;
      for (const method of [route.method].flat()) {
        if (method === 'HEAD') continue;
        routes.push({ method: method.toLowerCase(), url: route.url, schema: route.schema });
      }
    });
    let cached: unknown;
    app.get('/openapi.json', async () => (cached ??= buildDocument(routes)));
  },
  { name: 'openapi' },
);

function toJson(schema: unknown, io: 'input' | 'output'): JsonSchema | undefined {
  if (!(schema instanceof z.ZodType)) return undefined;
  return z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'openapi-3.0' }) as JsonSchema;
}

function buildDocument(routes: CollectedRoute[]) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const { method, url, schema } of routes) {
    const path = url.replace(/:(\w+)/g, '{$1}');
    const parameters: unknown[] = [];
    for (const [part, location] of [
      ['params', 'path'],
      ['querystring', 'query'],
    ] as const) {
      const json = toJson(schema[part], 'input');
      const properties = (json?.properties ?? {}) as Record<string, JsonSchema>;
      const required = new Set((json?.required as string[] | undefined) ?? []);
      for (const [name, property] of Object.entries(properties)) {
        parameters.push({ name, in: location, required: location === 'path' || required.has(name), schema: property });
      }
    }
    const body = toJson(schema.body, 'input');
    const responses: Record<string, unknown> = {};
    for (const [status, response] of Object.entries((schema.response ?? {}) as Record<string, unknown>)) {
      const json = toJson(response, 'output');
      responses[status] = { description: 'Successful response', ...(json ? { content: { 'application/json': { schema: json } } } : {}) };
    }
    if (Object.keys(responses).length === 0) responses['200'] = { description: 'Successful response' };
    (paths[path] ??= {})[method] = {
      ...(schema.summary ? { summary: schema.summary } : {}),
      ...(schema.tags ? { tags: schema.tags } : {}),
      parameters,
      ...(body ? { requestBody: { required: true, content: { 'application/json': { schema: body } } } } : {}),
      responses,
    };
  }
  return {
    openapi: '3.0.3',
    info: { title: 'Cairn', version: CAIRN_VERSION, description: 'Letta V1 compatible agent memory server' },
    paths,
  };
}
