import { z } from 'zod';
import { idOf, pageQuery, queryString } from '../../../schemas/common.js';
import { providerCheckSchema, providerCreateSchema, providerUpdateSchema } from '../../../schemas/provider.js';
import type { RouteModule } from '../types.js';

const tags = ['providers'];
const providerIdParams = z.object({ provider_id: idOf('provider') });

export const providerRoutes: RouteModule = async (app) => {
  const { providers } = app.services;

  app.get(
    '/providers/',
    {
      schema: {
        tags,
        querystring: pageQuery(50).extend({
          name: queryString(),
          provider_type: queryString(),
          order_by: queryString(),
        }),
      },
    },
    async (request) => providers.list({ name: request.query.name, providerType: request.query.provider_type }),
  );

  app.post('/providers/', { schema: { tags, body: providerCreateSchema } }, async (request) =>
    providers.create(request.body),
  );

  // Before `/providers/:provider_id`, which has no POST, so the two never compete; kept apart for the reader.
  app.post('/providers/check', { schema: { tags, body: providerCheckSchema } }, async (request) =>
    providers.check(request.body),
  );

  app.get('/providers/:provider_id', { schema: { tags, params: providerIdParams } }, async (request) =>
    providers.get(request.params.provider_id),
  );

  app.patch(
    '/providers/:provider_id',
    { schema: { tags, params: providerIdParams, body: providerUpdateSchema } },
    async (request) => providers.update(request.params.provider_id, request.body),
  );

  app.delete('/providers/:provider_id', { schema: { tags, params: providerIdParams } }, async (request) =>
    providers.delete(request.params.provider_id),
  );

  app.post('/providers/:provider_id/check', { schema: { tags, params: providerIdParams } }, async (request) =>
    providers.checkExisting(request.params.provider_id),
  );

  app.patch('/providers/:provider_id/refresh', { schema: { tags, params: providerIdParams } }, async (request) =>
    providers.refresh(request.params.provider_id),
  );
};
