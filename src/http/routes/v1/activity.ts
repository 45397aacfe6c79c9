import { z } from 'zod';
import { agentSummarySchema } from '../../../schemas/activity.js';
import { idOf, queryArray } from '../../../schemas/common.js';
import type { RouteModule } from '../types.js';

const tags = ['cairn'];

/**
 * Cairn extensions the memory inspector reads (`/v1/cairn/…`, a namespace Letta does not use): counts for a page of
 * agents in one request instead of three per agent, and a change marker it polls to show writes without a reload.
 */
export const activityRoutes: RouteModule = async (app) => {
  const { activity } = app.services;

  app.get(
    '/cairn/agent-summaries',
    {
      schema: {
        tags,
        summary: 'Counts of blocks, passages, messages and conversations per agent (Cairn extension)',
        querystring: z.object({ agent_id: queryArray(idOf('agent')).pipe(z.array(z.string()).max(500).optional()) }),
        response: { 200: z.array(agentSummarySchema) },
      },
    },
    async (request) => activity.summaries(request.query.agent_id ?? []),
  );

  app.get(
    '/cairn/activity',
    {
      schema: {
        tags,
        summary: 'A marker that changes whenever memory, messages or runs change (Cairn extension)',
        querystring: z.object({ agent_id: idOf('agent').optional() }),
        response: { 200: z.object({ marker: z.string() }) },
      },
    },
    async (request) => activity.marker(request.query.agent_id),
  );
};
