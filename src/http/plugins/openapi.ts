import type { FastifyInstance, RouteOptions } from 'fastify';
import fp from 'fastify-plugin';
import { z } from 'zod';
import { detailSchema } from '../../schemas/common.js';
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
      if (
        !route.schema ||
        (route.url.endsWith('/') && route.url.length > 1 && routes.some((r) => r.url === route.url.slice(0, -1)))
      )
        return;
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

/**
 * zod emits each schema with an `id` as a local `definitions` entry and a `#/definitions/…` ref; OpenAPI wants them
 * once under `components.schemas`. The first rendering of an id wins (input and output forms agree for Cairn's ids).
 */
class Components {
  readonly schemas: Record<string, JsonSchema> = {};

  toJson(schema: unknown, io: 'input' | 'output'): JsonSchema | undefined {
    if (!(schema instanceof z.ZodType)) return undefined;
    const json = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'openapi-3.0' }) as JsonSchema;
    for (const key of ['definitions', '$defs'] as const) {
      const defs = json[key] as Record<string, JsonSchema> | undefined;
      if (!defs) continue;
      delete json[key];
      for (const [name, def] of Object.entries(defs)) this.schemas[name] ??= retarget(def);
    }
    return retarget(json);
  }
}

function retarget<T>(value: T): T {
  if (Array.isArray(value)) return value.map(retarget) as T;
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    out[key] =
      key === '$ref' && typeof inner === 'string'
        ? inner.replace(/^#\/(definitions|\$defs)\//, '#/components/schemas/')
        : retarget(inner);
  }
  return out as T;
}

function buildDocument(routes: CollectedRoute[]) {
  const components = new Components();
  const errorResponse = {
    description: 'Error: `detail` is a message, or for 422 a list of `{type, loc, msg}` naming the field',
    content: { 'application/json': { schema: components.toJson(detailSchema, 'output') } },
  };
  const paths: Record<string, Record<string, unknown>> = {};
  for (const { method, url, schema } of routes) {
    const path = url.replace(/:(\w+)/g, '{$1}');
    const parameters: unknown[] = [];
    for (const [part, location] of [
      ['params', 'path'],
      ['querystring', 'query'],
    ] as const) {
      const json = components.toJson(schema[part], 'input');
      const properties = (json?.properties ?? {}) as Record<string, JsonSchema>;
      const required = new Set((json?.required as string[] | undefined) ?? []);
      for (const [name, property] of Object.entries(properties)) {
        const isArray = property.type === 'array';
        parameters.push({
          name,
          in: location,
          required: location === 'path' || required.has(name),
          schema: property,
          // Query arrays repeat the key (`tags=a&tags=b`), OpenAPI's form/explode default, stated for clarity.
          ...(isArray ? { style: 'form', explode: true } : {}),
        });
      }
    }
    const body = components.toJson(schema.body, 'input');
    const responses: Record<string, unknown> = {};
    for (const [status, response] of Object.entries((schema.response ?? {}) as Record<string, unknown>)) {
      const json = components.toJson(response, 'output');
      responses[status] = {
        description: 'Successful response',
        ...(json ? { content: { 'application/json': { schema: json } } } : {}),
      };
    }
    if (Object.keys(responses).length === 0) responses['200'] = { description: 'Successful response' };
    responses.default = errorResponse;
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
    components: { schemas: components.schemas },
  };
}
