import { z } from 'zod';
import { orderSchema, queryLimit, queryString } from '../../../schemas/common.js';
import type { RouteModule } from '../types.js';

const listTagsQuery = z.object({
  before: queryString(),
  after: queryString(),
  limit: queryLimit(50),
  order: z.preprocess((v) => (v === '' ? undefined : v), orderSchema.optional()),
  name: queryString(),
  query_text: queryString(),
});

export const tagRoutes: RouteModule = async (app) => {
  app.get(
    '/tags/',
    { schema: { tags: ['tags'], querystring: listTagsQuery, response: { 200: z.array(z.string()) } } },
    async (request) => {
      const { before, after, limit, order, name, query_text } = request.query;
      return app.services.tags.list({ before, after, limit, order, name: name ?? query_text });
    },
  );
};
