import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { CairnError } from '../../lib/errors.js';
import { digest, presentedPassword } from './auth.js';

export interface RateLimitOptions {
  /** Requests per minute per key; 0 turns the limit off. */
  perMinute: number;
}

const EXEMPT = new Set(['/v1/health', '/v1/health/', '/v1/ready', '/v1/ready/']);

/**
 * The key a request is counted under: the credential it presents (hashed, so no key sits in memory in clear), or
 * its address when it presents none. Counting wrong credentials too makes guessing a password as slow as the limit.
 */
function keyOf(request: FastifyRequest): string {
  const presented = presentedPassword(request);
  return presented === undefined ? `ip:${request.ip}` : `key:${digest(presented).toString('hex').slice(0, 32)}`;
}

/**
 * A per-key request budget answering 429 with `retry-after`, in memory per process: with several processes behind
 * a balancer each enforces it on its own share, which bounds a key at N times the limit.
 */
export const rateLimitPlugin = fp<RateLimitOptions>(
  async (app: FastifyInstance, options) => {
    if (options.perMinute <= 0) return;
    await app.register(rateLimit, { global: false });
    // An app-wide onRequest hook, added before the auth plugin's: a flood of bad credentials is refused before any
    // password check (a route-level hook would run after it).
    app.addHook(
      'onRequest',
      app.rateLimit({
        max: options.perMinute,
        timeWindow: 60_000,
        keyGenerator: keyOf,
        allowList: (request) => EXEMPT.has(request.url.split('?')[0] ?? ''),
        // What this returns is thrown, so Cairn's error handler gives it Letta's `{detail}` shape.
        errorResponseBuilder: (_request, context) =>
          new CairnError(429, `Rate limit exceeded: ${context.max} requests per minute; retry in ${context.after}`),
      }),
    );
  },
  { name: 'rate-limit' },
);
