import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { ACTOR_HEADER, actingAs, actorFromHeaders } from '../../services/actor.js';

/**
 * Each request runs as the actor its headers name, so block history records who wrote without routes passing it.
 * `preValidation`, not `onRequest`: the body is read in between, on the socket's own async context, which would
 * otherwise be the one the handler continues in.
 */
export const actorPlugin = fp(
  async (app: FastifyInstance) => {
    app.addHook('preValidation', (request, _reply, done) => {
      const claimed = request.headers[ACTOR_HEADER];
      actingAs(
        actorFromHeaders(typeof claimed === 'string' ? claimed : undefined, request.headers['user-agent']),
        done,
      );
    });
  },
  { name: 'actor' },
);
