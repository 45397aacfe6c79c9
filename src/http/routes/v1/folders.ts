import multipart from '@fastify/multipart';
import { z } from 'zod';
import { MAX_UPLOAD_BYTES } from '../../../domain/files.js';
import { badRequest, CairnError } from '../../../lib/errors.js';
import { agentIdParams, agentStateSchema } from '../../../schemas/agent.js';
import { passageSchema } from '../../../schemas/archival.js';
import { pageQuery } from '../../../schemas/common.js';
import {
  agentFilesPageSchema,
  fileIdOf,
  fileMetadataSchema,
  folderCreateSchema,
  folderIdOf,
  folderSchema,
  foldersMetadataSchema,
  folderUpdateSchema,
  includeContentQuery,
  listAgentFilesQuery,
  listFilesQuery,
  listFoldersQuery,
  metadataQuery,
  uploadQuery,
} from '../../../schemas/folder.js';
import { isModernClient } from '../../client-kind.js';
import type { RouteModule } from '../types.js';

/**
 * Folders and their old name, sources: one surface mounted twice (`/folders/{folder_id}…`, `/sources/{source_id}…`),
 * plus the agent routes that attach folders and open their files. Uploads are multipart (`file`), at most 50 MB.
 */
export const folderRoutes: RouteModule = async (app) => {
  const { folders, agents } = app.services;
  // One byte over the limit is enough to know a file is too large; the stream stops there.
  await app.register(multipart, { limits: { fileSize: MAX_UPLOAD_BYTES + 1, files: 1 }, throwFileSizeLimit: false });

  for (const [base, param, tag] of [
    ['folders', 'folder_id', 'folders'],
    ['sources', 'source_id', 'sources'],
  ] as const) {
    const tags = [tag];
    const folderParams = z.object({ [param]: folderIdOf() }) as z.ZodObject<Record<typeof param, z.ZodString>>;
    const fileParams = folderParams.extend({ file_id: fileIdOf() });
    const folderIdIn = (params: Record<string, string>) => params[param]!;

    app.get(`/${base}/count`, { schema: { tags, response: { 200: z.number() } } }, async () => folders.count());

    app.get(
      `/${base}/metadata`,
      { schema: { tags, querystring: metadataQuery, response: { 200: foldersMetadataSchema } } },
      async (request) => folders.metadata(request.query.include_detailed_per_source_metadata),
    );

    app.get(
      `/${base}/name/:name`,
      { schema: { tags, params: z.object({ name: z.string() }), response: { 200: z.string() } } },
      async (request) => folders.idByName(request.params.name),
    );

    app.get(
      `/${base}/`,
      { schema: { tags, querystring: listFoldersQuery, response: { 200: z.array(folderSchema) } } },
      async (request) => {
        const { name, ...page } = request.query;
        return folders.list({ name }, { ...page, order: page.order ?? 'asc' });
      },
    );

    app.post(
      `/${base}/`,
      { schema: { tags, body: folderCreateSchema, response: { 200: folderSchema } } },
      async (request) => folders.create(request.body),
    );

    app.get(
      `/${base}/:${param}`,
      { schema: { tags, params: folderParams, response: { 200: folderSchema } } },
      async (request) => folders.retrieve(folderIdIn(request.params)),
    );

    app.patch(
      `/${base}/:${param}`,
      { schema: { tags, params: folderParams, body: folderUpdateSchema, response: { 200: folderSchema } } },
      async (request) => folders.update(folderIdIn(request.params), request.body),
    );

    app.delete(`/${base}/:${param}`, { schema: { tags, params: folderParams } }, async (request) => {
      await folders.delete(folderIdIn(request.params));
      return null;
    });

    app.post(
      `/${base}/:${param}/upload`,
      { schema: { tags, params: folderParams, querystring: uploadQuery, response: { 200: fileMetadataSchema } } },
      async (request, reply) => {
        if (!request.isMultipart())
          throw new CairnError(415, "Upload a file as multipart/form-data in the 'file' field");
        const part = await request.file();
        if (!part || part.fieldname !== 'file') throw badRequest("The upload has no 'file' field");
        const bytes = await part.toBuffer();
        if (part.file.truncated)
          throw new CairnError(413, `File '${part.filename}' is larger than the 50 MB upload limit`);
        const { file, skipped } = await folders.upload(folderIdIn(request.params), {
          fileName: part.filename,
          contentType: part.mimetype,
          bytes,
          duplicateHandling: request.query.duplicate_handling,
          name: request.query.name,
        });
        if (skipped) void reply.header('x-upload-result', 'skipped');
        return file;
      },
    );

    app.get(
      `/${base}/:${param}/agents`,
      { schema: { tags, params: folderParams, querystring: pageQuery(50), response: { 200: z.array(z.string()) } } },
      async (request) =>
        folders.agentIds(folderIdIn(request.params), { ...request.query, order: request.query.order ?? 'asc' }),
    );

    app.get(
      `/${base}/:${param}/passages`,
      {
        schema: { tags, params: folderParams, querystring: pageQuery(100), response: { 200: z.array(passageSchema) } },
      },
      async (request) =>
        folders.passages(folderIdIn(request.params), { ...request.query, order: request.query.order ?? 'asc' }),
    );

    app.get(
      `/${base}/:${param}/files`,
      {
        schema: {
          tags,
          params: folderParams,
          querystring: listFilesQuery,
          response: { 200: z.array(fileMetadataSchema) },
        },
      },
      async (request) => {
        const { include_content, ...page } = request.query;
        return folders.listFiles(folderIdIn(request.params), include_content, { ...page, order: page.order ?? 'asc' });
      },
    );

    app.get(
      `/${base}/:${param}/files/:file_id`,
      { schema: { tags, params: fileParams, querystring: includeContentQuery, response: { 200: fileMetadataSchema } } },
      async (request) =>
        folders.retrieveFile(folderIdIn(request.params), request.params.file_id, request.query.include_content),
    );

    app.delete(`/${base}/:${param}/:file_id`, { schema: { tags, params: fileParams } }, async (request) => {
      await folders.deleteFile(folderIdIn(request.params), request.params.file_id);
      return null;
    });

    // ---- an agent's folders ----------------------------------------------------------------------------------

    const attachParams = agentIdParams.extend({ [param]: folderIdOf() }) as z.ZodObject<
      { agent_id: z.ZodString } & Record<typeof param, z.ZodString>
    >;
    for (const action of ['attach', 'detach'] as const) {
      app.patch(
        `/agents/:agent_id/${base}/${action}/:${param}`,
        { schema: { tags, params: attachParams, response: { 200: agentStateSchema.nullable() } } },
        async (request) => {
          const agentId = request.params.agent_id;
          if (action === 'attach') await folders.attach(agentId, folderIdIn(request.params));
          else await folders.detach(agentId, folderIdIn(request.params));
          // 1.0 clients get null, legacy ones the agent (reference §1.7).
          return isModernClient(request) ? null : agents.get(agentId, 'all');
        },
      );
    }

    app.get(
      `/agents/:agent_id/${base}`,
      {
        schema: { tags, params: agentIdParams, querystring: pageQuery(100), response: { 200: z.array(folderSchema) } },
      },
      async (request) =>
        folders.agentFolders(request.params.agent_id, { ...request.query, order: request.query.order ?? 'asc' }),
    );
  }

  // ---- an agent's files ------------------------------------------------------------------------------------

  const tags = ['agents'];
  const agentFileParams = agentIdParams.extend({ file_id: fileIdOf() });

  app.get(
    '/agents/:agent_id/files',
    {
      schema: {
        tags,
        params: agentIdParams,
        querystring: listAgentFilesQuery,
        response: { 200: agentFilesPageSchema },
      },
    },
    async (request) => {
      const { cursor, is_open, ...page } = request.query;
      return folders.agentFiles(request.params.agent_id, {
        isOpen: is_open,
        page: { ...page, after: page.after ?? cursor, order: page.order ?? 'asc' },
      });
    },
  );

  app.patch(
    '/agents/:agent_id/files/close-all',
    { schema: { tags, params: agentIdParams, response: { 200: z.array(z.string()) } } },
    async (request) => folders.closeAll(request.params.agent_id),
  );

  app.patch(
    '/agents/:agent_id/files/:file_id/open',
    { schema: { tags, params: agentFileParams, response: { 200: z.array(z.string()) } } },
    async (request) => folders.openFile(request.params.agent_id, request.params.file_id),
  );

  app.patch(
    '/agents/:agent_id/files/:file_id/close',
    { schema: { tags, params: agentFileParams } },
    async (request) => {
      await folders.closeFile(request.params.agent_id, request.params.file_id);
      return { message: `File id=${request.params.file_id} successfully closed` };
    },
  );
};
