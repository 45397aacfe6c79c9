import { z } from 'zod';
import { blockIdParams, blockSchema } from '../../../schemas/block.js';
import { blockHistoryEntrySchema, blockHistoryQuery, blockVersionParams } from '../../../schemas/block-history.js';
import type { RouteModule } from '../types.js';

const tags = ['blocks'];

/**
 * Cairn extensions: Letta's OpenAPI has no block history or checkpoint route (its ORM's history is internal), so
 * these follow the shape of Cairn's other block routes. Every write of a block is an entry, newest first.
 */
export const blockHistoryRoutes: RouteModule = async (app) => {
  const history = app.services.blockHistory;

  app.get(
    '/blocks/:block_id/history',
    {
      schema: {
        tags,
        summary: "A block's change history, newest first (Cairn extension)",
        params: blockIdParams,
        querystring: blockHistoryQuery,
        response: { 200: z.array(blockHistoryEntrySchema) },
      },
    },
    async (request) => history.list(request.params.block_id, request.query),
  );

  app.post(
    '/blocks/:block_id/history/:version/restore',
    {
      schema: {
        tags,
        summary: "Writes a version's value, limit and description back (Cairn extension)",
        params: blockVersionParams,
        response: { 200: blockSchema },
      },
    },
    async (request) => history.restore(request.params.block_id, request.params.version),
  );
};
