import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { z } from 'zod';
import { CairnError } from '../../../lib/errors.js';
import { agentIdParams } from '../../../schemas/agent.js';
import type { RouteModule } from '../types.js';

const tags = ['git'];

/** A memory repository is a few dozen small files; a push far larger than this is not memory. */
const MAX_PUSH_BYTES = 32 * 1024 * 1024;

const REQUEST_TYPES = ['application/x-git-upload-pack-request', 'application/x-git-receive-pack-request'];

const infoRefsQuery = z.object({ service: z.enum(['git-upload-pack', 'git-receive-pack']).optional() });

/**
 * Git smart HTTP for Letta Code's memfs (`$LETTA_MEMFS_BASE_URL/v1/git/{agent_id}/state.git`), behind Cairn's
 * normal auth (Letta Code sends `Authorization: Basic letta:<key>`). The legacy remote without `/state.git` is
 * served too, as Letta's server does. Request bodies are streams: git may gzip them.
 */
export const gitRoutes: RouteModule = async (app) => {
  const git = app.services.gitMemory;
  app.addContentTypeParser(REQUEST_TYPES, (_request, payload, done) => done(null, payload));

  for (const base of ['/git/:agent_id/state.git', '/git/:agent_id']) {
    app.get(
      `${base}/info/refs`,
      {
        schema: {
          tags,
          summary: "A memory repository's refs for git clone, fetch and push (Cairn extension)",
          params: agentIdParams,
          querystring: infoRefsQuery,
        },
      },
      async (request, reply) => {
        const service = request.query.service;
        if (!service) throw new CairnError(400, "git's dumb HTTP protocol is not served; use git 1.6.6 or later");
        const body = await git.advertise(request.params.agent_id, service, header(request.headers['git-protocol']));
        return reply.header('cache-control', 'no-cache').type(`application/x-${service}-advertisement`).send(body);
      },
    );

    app.post(
      `${base}/git-upload-pack`,
      {
        schema: { tags, summary: 'Sends memory commits to git fetch (Cairn extension)', params: agentIdParams },
      },
      async (request, reply) => {
        const input = requestStream(request.raw, request.body);
        const output = await git.uploadPack(request.params.agent_id, input, header(request.headers['git-protocol']));
        return reply.header('cache-control', 'no-cache').type('application/x-git-upload-pack-result').send(output);
      },
    );

    app.post(
      `${base}/git-receive-pack`,
      {
        schema: { tags, summary: 'Applies a git push to the memory blocks (Cairn extension)', params: agentIdParams },
      },
      async (request, reply) => {
        const body = await readAll(requestStream(request.raw, request.body), MAX_PUSH_BYTES);
        const result = await git.receivePack(request.params.agent_id, body);
        return reply.header('cache-control', 'no-cache').type('application/x-git-receive-pack-result').send(result);
      },
    );
  }
};

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * The request body as sent, inflated when git gzipped it. A body another parser read (JSON, form data) was not sent
 * by git: it is refused before any of it reaches git's protocol.
 */
function requestStream(raw: IncomingMessage, body: unknown): Readable {
  if (body !== undefined && !(body instanceof Readable))
    throw new CairnError(415, `a git service request is sent as ${REQUEST_TYPES.join(' or ')}`);
  const stream = body instanceof Readable ? body : raw;
  if (raw.headers['content-encoding'] !== 'gzip') return stream;
  const gunzip = createGunzip();
  stream.on('error', (error) => gunzip.destroy(error));
  return stream.pipe(gunzip);
}

async function readAll(stream: Readable, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of stream) {
      size += (chunk as Buffer).length;
      if (size > limit) throw new CairnError(413, `a push is limited to ${limit} bytes`);
      chunks.push(chunk as Buffer);
    }
  } catch (error) {
    if (error instanceof CairnError) throw error;
    throw new CairnError(400, 'the request body could not be read (bad gzip?)');
  }
  return Buffer.concat(chunks);
}
