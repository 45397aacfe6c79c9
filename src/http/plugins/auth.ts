import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { CairnError } from '../../lib/errors.js';
import type { Services } from '../../services/index.js';
import { DEFAULT_ADMIN, type Principal, type TenancyService } from '../../services/tenancy.service.js';
import type { TenantRegistry } from '../../services/tenants.js';

export interface AuthOptions {
  /** `LETTA_SERVER_PASSWORD`: the admin credential of the default organisation. */
  password: string | undefined;
  tenancy: TenancyService;
  tenants: TenantRegistry;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Served without the password (the memory inspector's page, which then asks for it). */
    public?: boolean;
  }
  interface FastifyRequest {
    /** Who the request acts as: its credential's user, or the one its `user_id` header picks. */
    principal: Principal;
    tenantServices: Services;
  }
}

/** Letta exempts health and readiness so that probes and clients' version checks work without a key. */
const OPEN_PATHS = new Set(['/v1/health', '/v1/health/', '/v1/ready', '/v1/ready/', '/openapi.json']);

/** An open path serves anyone as the default organisation, with no right to manage anything. */
const ANONYMOUS: Principal = { ...DEFAULT_ADMIN, admin: false };

/**
 * Who a request is, and which organisation's services it gets. The password, when set, is the default
 * organisation's admin; an API key acts as its user. Once either exists every request needs one of them; with
 * neither the server is open, as Letta is without secure mode (and config.ts keeps it on loopback).
 */
export const authPlugin = fp<AuthOptions>(
  async (app: FastifyInstance, options) => {
    const { password, tenancy, tenants } = options;
    const expected = password ? digest(password) : undefined;

    const principalOf = async (request: FastifyRequest): Promise<Principal | undefined> => {
      const presented = presentedPassword(request);
      if (presented !== undefined) {
        if (expected && timingSafeEqual(digest(presented), expected)) return DEFAULT_ADMIN;
        const keyed = await tenancy.authenticate(presented);
        if (keyed) return keyed;
      }
      if (OPEN_PATHS.has(request.url.split('?')[0] ?? '') || request.routeOptions.config.public === true)
        return ANONYMOUS;
      if (expected || (await tenancy.hasActiveKeys())) return undefined;
      return DEFAULT_ADMIN;
    };

    app.decorateRequest('principal', null as unknown as Principal);
    app.decorateRequest('tenantServices', null as unknown as Services);
    app.addHook('onRequest', async (request, reply) => {
      const principal = await principalOf(request);
      if (!principal) {
        // Git asks its credential helper only after a Basic challenge.
        if (request.url.startsWith('/v1/git/')) reply.header('www-authenticate', 'Basic realm="Cairn"');
        return reply.code(401).send({ detail: 'Unauthorized' });
      }
      const claimed = request.headers['user_id'];
      request.principal = await tenancy.actingAs(principal, typeof claimed === 'string' ? claimed : undefined);
      request.tenantServices = await tenants.services(request.principal.organizationId);
    });
    // `preValidation`, as the actor plugin explains: the handler continues in the context this hook's callback
    // starts, not in the one of `onRequest`, which the body's reading leaves.
    app.addHook('preValidation', (request, _reply, done) => {
      tenants.run(request.tenantServices, done);
    });
  },
  { name: 'auth' },
);

/** Refuses a caller without the right to manage organisations, users and keys. */
export function requireAdmin(request: FastifyRequest): void {
  if (!request.principal.admin) throw new CairnError(403, 'Forbidden: this needs an admin key or the server password');
}

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
