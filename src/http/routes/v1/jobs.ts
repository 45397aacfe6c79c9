import { z } from 'zod';
import { missing } from '../../../domain/errors.js';
import { idOf, pageQuery, queryBool, queryOptionalBool, queryString } from '../../../schemas/common.js';
import type { RouteModule } from '../types.js';

const tags = ['jobs'];
const jobIdParams = z.object({ job_id: idOf('job') });
const listJobsQuery = pageQuery(100).extend({
  source_id: queryString(),
  order_by: queryString(),
  active: queryBool(false),
  ascending: queryOptionalBool(),
});

/**
 * Letta's jobs are file uploads and provider batches, neither of which Cairn runs (its agent runs are `/v1/runs`),
 * so the lists are empty and every job id is unknown. letta-mcp-server lists them to show background work.
 */
export const jobRoutes: RouteModule = async (app) => {
  app.get('/jobs/', { schema: { tags, querystring: listJobsQuery } }, async () => []);
  app.get('/jobs/active', { schema: { tags, querystring: listJobsQuery } }, async () => []);
  app.get('/jobs/:job_id', { schema: { tags, params: jobIdParams } }, async (request) => {
    throw missing('Job', request.params.job_id);
  });
  app.delete('/jobs/:job_id', { schema: { tags, params: jobIdParams } }, async (request) => {
    throw missing('Job', request.params.job_id);
  });
  app.patch('/jobs/:job_id/cancel', { schema: { tags, params: jobIdParams } }, async (request) => {
    throw missing('Job', request.params.job_id);
  });
};
