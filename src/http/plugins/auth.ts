import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';

export interface AuthOptions {
  /** When unset the server is open, as Letta is without secure mode. */
  password: string | undefined;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Served without the password (the memory inspector's page, which then asks for it). */
    public?: boolean;
  }
}

/** Letta exempts health and readiness so that probes and clients' version checks work without a key. */
const OPEN_PATHS = new Set(['/v1/health', '/v1/health/', '/v1/ready', '/v1/ready/', '/openapi.json']);

export const authPlugin = fp<AuthOptions>(
  async (app: FastifyInstance, options) => {
    const { password } = options;
    if (!password) return;
    const expected = digest(password);
    app.addHook('onRequest', async (request, reply) => {
      if (OPEN_PATHS.has(request.url.split('?')[0] ?? '') || request.routeOptions.config.public === true) return;
      const presented = presentedPassword(request);
      if (presented === undefined || !timingSafeEqual(digest(presented), expected)) {
        // Git asks its credential helper only after a Basic challenge.
        if (request.url.startsWith('/v1/git/')) reply.header('www-authenticate', 'Basic realm="Cairn"');
        return reply.code(401).send({ detail: 'Unauthorized' });
      }
    });
  },
  { name: 'auth' },
);

/** Hashing first makes both sides the same length, so the comparison time says nothing about the password. */
export function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

export function presentedPassword(request: FastifyRequest): string | undefined {
  const authorization = request.headers.authorization;
  if (authorization?.startsWith('Bearer ')) return authorization.slice('Bearer '.length);
  // Git clients (Letta Code's memfs) send the key as the password of `letta:<key>`; the user name is not checked.
  if (authorization?.startsWith('Basic ')) {
    const pair = Buffer.from(authorization.slice('Basic '.length), 'base64').toString('utf8');
    const colon = pair.indexOf(':');
    return colon >= 0 ? pair.slice(colon + 1) : undefined;
  }
  const bare = request.headers['x-bare-password'];
  if (typeof bare === 'string' && bare.startsWith('password ')) return bare.slice('password '.length);
  return undefined;
}
