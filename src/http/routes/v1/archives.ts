import { z } from 'zod';
import { resolveIncludes } from '../../../services/agent.service.js';
import { toArchive } from '../../../services/archival.service.js';
import { agentIdParams, agentStateSchema, INCLUDE_VALUES } from '../../../schemas/agent.js';
import {
  archiveCreateSchema,
  archiveIdParams,
  archiveSchema,
  archiveUpdateSchema,
  listArchivesQuery,
  passageBatchCreateSchema,
  passageCreateSchema,
  passageSchema,
} from '../../../schemas/archival.js';
import { idOf, pageQuery, queryArray } from '../../../schemas/common.js';
import { isModernClient } from '../../client-kind.js';
import type { RouteModule } from '../types.js';

const tags = ['archives'];

/** Archives: named passage stores that agents share (`/archives…`, `/agents/{id}/archives/attach|detach`). */
export const archiveRoutes: RouteModule = async (app) => {
  const { archival, agents } = app.services;

  app.post(
    '/archives/',
    { schema: { tags, body: archiveCreateSchema, response: { 200: archiveSchema } } },
    async (request) => archival.createArchive(request.body),
  );

  app.get(
    '/archives/',
    { schema: { tags, querystring: listArchivesQuery, response: { 200: z.array(archiveSchema) } } },
    async (request) => {
      const { name, agent_id, ...page } = request.query;
      return archival.listArchives({ name, agentId: agent_id }, { ...page, order: page.order ?? 'desc' });
    },
  );

  app.get(
    '/archives/:archive_id',
    { schema: { tags, params: archiveIdParams, response: { 200: archiveSchema } } },
    async (request) => toArchive(await archival.requireArchive(request.params.archive_id)),
  );

  app.patch(
    '/archives/:archive_id',
    { schema: { tags, params: archiveIdParams, body: archiveUpdateSchema, response: { 200: archiveSchema } } },
    async (request) => archival.updateArchive(request.params.archive_id, request.body),
  );

  app.delete('/archives/:archive_id', { schema: { tags, params: archiveIdParams } }, async (request) => {
    await archival.deleteArchive(request.params.archive_id);
    return null;
  });

  const agentsQuery = pageQuery(50).extend({ include: queryArray(z.enum(INCLUDE_VALUES)) });
  app.get(
    '/archives/:archive_id/agents',
    {
      schema: { tags, params: archiveIdParams, querystring: agentsQuery, response: { 200: z.array(agentStateSchema) } },
    },
    async (request) => {
      const { include, ...page } = request.query;
      return agents.listLinked(
        { archiveId: request.params.archive_id },
        // Oldest attachment first, as this route has always answered (Letta's default is newest first).
        { ...page, order: page.order ?? 'asc' },
        resolveIncludes(isModernClient(request), include),
      );
    },
  );

  app.post(
    '/archives/:archive_id/passages',
    { schema: { tags, params: archiveIdParams, body: passageCreateSchema, response: { 200: passageSchema } } },
    async (request) => {
      const [passage] = await archival.insertIntoArchive(request.params.archive_id, [request.body]);
      return passage!;
    },
  );

  app.post(
    '/archives/:archive_id/passages/batch',
    {
      schema: {
        tags,
        params: archiveIdParams,
        body: passageBatchCreateSchema,
        response: { 200: z.array(passageSchema) },
      },
    },
    async (request) => archival.insertIntoArchive(request.params.archive_id, request.body.passages),
  );

  app.delete(
    '/archives/:archive_id/passages/:passage_id',
    { schema: { tags, params: archiveIdParams.extend({ passage_id: idOf('passage') }) } },
    async (request) => {
      await archival.deleteFromArchive(request.params.archive_id, request.params.passage_id);
      return null;
    },
  );

  const attachParams = agentIdParams.extend({ archive_id: idOf('archive') });
  for (const action of ['attach', 'detach'] as const) {
    app.patch(
      `/agents/:agent_id/archives/${action}/:archive_id`,
      { schema: { tags, params: attachParams } },
      async (request) => {
        const { agent_id, archive_id } = request.params;
        if (action === 'attach') await archival.attach(agent_id, archive_id);
        else await archival.detach(agent_id, archive_id);
        return null;
      },
    );
  }
};
