import { z } from 'zod';
import { resolveIncludes } from '../../../services/agent.service.js';
import { agentStateSchema, linkedAgentsQuery } from '../../../schemas/agent.js';
import { blockSchema } from '../../../schemas/block.js';
import {
  identityCreateSchema,
  identityIdParams,
  identityPropertySchema,
  identitySchema,
  identityUpdateSchema,
  listIdentitiesQuery,
} from '../../../schemas/identity.js';
import { isModernClient } from '../../client-kind.js';
import type { RouteModule } from '../types.js';

const tags = ['identities'];

export const identityRoutes: RouteModule = async (app) => {
  const { identities, agents, blocks } = app.services;

  app.get(
    '/identities/',
    { schema: { tags, querystring: listIdentitiesQuery, response: { 200: z.array(identitySchema) } } },
    async (request) => identities.list(request.query),
  );
  app.get('/identities/count', { schema: { tags, response: { 200: z.number().int() } } }, async () =>
    identities.count(),
  );
  app.post(
    '/identities/',
    { schema: { tags, body: identityCreateSchema, response: { 200: identitySchema } } },
    async (request) => identities.create(request.body),
  );
  app.put(
    '/identities/',
    { schema: { tags, body: identityCreateSchema, response: { 200: identitySchema } } },
    async (request) => identities.upsert(request.body),
  );
  app.get(
    '/identities/:identity_id',
    { schema: { tags, params: identityIdParams, response: { 200: identitySchema } } },
    async (request) => identities.get(request.params.identity_id),
  );
  app.patch(
    '/identities/:identity_id',
    { schema: { tags, params: identityIdParams, body: identityUpdateSchema, response: { 200: identitySchema } } },
    async (request) => identities.update(request.params.identity_id, request.body),
  );
  app.put(
    '/identities/:identity_id/properties',
    {
      schema: {
        tags,
        params: identityIdParams,
        body: z.array(identityPropertySchema),
        response: { 200: identitySchema },
      },
    },
    async (request) => identities.replaceProperties(request.params.identity_id, request.body),
  );
  app.delete('/identities/:identity_id', { schema: { tags, params: identityIdParams } }, async (request) => {
    await identities.delete(request.params.identity_id);
    return null;
  });
  app.get(
    '/identities/:identity_id/agents',
    {
      schema: {
        tags,
        params: identityIdParams,
        querystring: linkedAgentsQuery,
        response: { 200: z.array(agentStateSchema) },
      },
    },
    async (request) =>
      agents.listLinked(
        { identityId: request.params.identity_id },
        request.query,
        resolveIncludes(isModernClient(request), request.query.include, request.query.include_relationships),
      ),
  );
  app.get(
    '/identities/:identity_id/blocks',
    { schema: { tags, params: identityIdParams, response: { 200: z.array(blockSchema) } } },
    async (request) => blocks.listForIdentity(request.params.identity_id),
  );
};
