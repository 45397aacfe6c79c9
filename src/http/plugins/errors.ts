import type { FastifyError, FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { CairnBodyError, CairnError, databaseUnavailable, storageFull } from '../../lib/errors.js';
import { SECRET_UNREADABLE_STATUS, SecretError } from '../../lib/secrets.js';

/** Maps Fastify's own request errors to Letta's statuses; anything unmapped is a server bug. */
const fastifyErrorStatus: Record<string, number> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 400,
  FST_ERR_CTP_EMPTY_JSON_BODY: 400,
  FST_ERR_CTP_BODY_TOO_LARGE: 413,
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 415,
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 400,
  FST_ERR_CTP_INVALID_TYPE: 400,
};

export const errorsPlugin = fp(
  async (app: FastifyInstance) => {
    app.setErrorHandler((error: FastifyError | CairnError | Error, request, reply) => {
      const unavailable = databaseUnavailable(error);
      if (unavailable) return reply.code(503).headers(unavailable.headers).send({ detail: unavailable.detail });
      const full = storageFull(error);
      if (full) {
        request.log.warn({ err: error }, 'a write failed: the disk is full');
        return reply.code(full.status).send({ detail: full.detail });
      }
      if (error instanceof CairnError) {
        const body = error instanceof CairnBodyError ? error.body : { detail: error.detail };
        return reply.code(error.status).headers(error.headers).send(body);
      }
      if (error instanceof SecretError) {
        request.log.warn({ err: error.message }, 'a stored secret cannot be decrypted');
        return reply
          .code(SECRET_UNREADABLE_STATUS)
          .send({ detail: `A stored secret cannot be decrypted by this server: ${error.message}` });
      }
      const code = 'code' in error ? String(error.code) : '';
      if (error instanceof SyntaxError || code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
        return reply.code(400).send({ detail: `Invalid JSON body: ${error.message}` });
      }
      // PostgreSQL refuses text it cannot store (a NUL from an uploaded file, say): the input's fault, not the server's.
      if (code === '22P05' || code === '22021')
        return reply.code(400).send({ detail: `Invalid input: ${error.message}` });
      // 54000: a value too large for PostgreSQL to index (a name of thousands of characters): too long, the input's fault.
      if (code === '54000')
        return reply.code(400).send({ detail: `Invalid input: a value is too long (${error.message})` });
      const mapped = fastifyErrorStatus[code];
      const status = mapped ?? ('statusCode' in error && typeof error.statusCode === 'number' ? error.statusCode : 500);
      if (status >= 500) {
        request.log.error({ err: error }, 'unhandled error');
        return reply.code(500).send({ detail: 'An unknown error occurred' });
      }
      return reply.code(status).send({ detail: error.message });
    });

    app.setNotFoundHandler((request, reply) => {
      reply.code(404).send({ detail: `Not Found: ${request.method} ${request.url.split('?')[0]}` });
    });
  },
  { name: 'errors' },
);
