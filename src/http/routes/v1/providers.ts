import { z } from 'zod';
import { idOf, pageQuery, queryString } from '../../../schemas/common.js';
import type { RouteModule } from '../types.js';

const tags = ['providers'];

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

  app.get(
    '/providers/:provider_id',
    { schema: { tags, params: z.object({ provider_id: idOf('provider') }) } },
    async (request) => providers.get(request.params.provider_id),
  );
};
