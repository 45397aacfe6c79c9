import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type RawServerDefault } from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { CairnError } from '../lib/errors.js';
import type { Services } from '../services/index.js';
import type { TenancyService } from '../services/tenancy.service.js';
import type { TenantRegistry } from '../services/tenants.js';
import { actorPlugin } from './plugins/actor.js';
import { authPlugin } from './plugins/auth.js';
import { lazyChildLogger } from './request-logger.js';
import { refuseLongQueryString } from './request-limits.js';
import { errorsPlugin } from './plugins/errors.js';
import { openapiPlugin } from './plugins/openapi.js';
import { rateLimitPlugin } from './plugins/rate-limit.js';
import { uiPlugin } from './plugins/ui.js';
import { mcpRoutes } from '../mcp/http.js';
import { v1Routes } from './routes/v1/index.js';
import { zodValidatorCompiler, type ZodTypeProvider } from './zod.js';

export interface AppOptions {
  /** The tenants' services; `tenants.current` is what routes see. */
  tenants: TenantRegistry;
  tenancy: TenancyService;
  logger: Logger;
  password: string | undefined;
  bodyLimitBytes: number;
  /** Requests per minute per key (0: no limit). */
  rateLimitPerMinute: number;
}

declare module 'fastify' {
  interface FastifyInstance {
    services: Services;
    tenancy: TenancyService;
    tenants: TenantRegistry;
  }
}

export type App = FastifyInstance<
  RawServerDefault,
  IncomingMessage,
  ServerResponse,
  FastifyBaseLogger,
  ZodTypeProvider
>;

/**
 * A NUL character in a query or path is refused: PostgreSQL's text type cannot hold one (SQLite can, so the two
 * would differ). Bodies keep Letta's behaviour, where the services strip NULs from the texts they store.
 */
const nulRefused = () => new CairnError(400, 'Invalid input: text may not contain NUL (\\u0000) characters');
const hasNul = (values: unknown): boolean =>
  typeof values === 'object' &&
  values !== null &&
  Object.values(values).some((v) =>
    (Array.isArray(v) ? v : [v]).some((x) => typeof x === 'string' && x.includes('\0')),
  );

export async function buildApp(options: AppOptions): Promise<App> {
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    // Request lines are logged at debug from our own hook; per-request info logs would dominate CPU at load.
    logController: new LogController({ disableRequestLogging: true }),
    childLoggerFactory: lazyChildLogger,
    bodyLimit: options.bodyLimitBytes,
    // Letta clients call some collections with a trailing slash and some without; serve both, never redirect.
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 500 },
    forceCloseConnections: 'idle',
  }).withTypeProvider<ZodTypeProvider>();

  app.setValidatorCompiler(zodValidatorCompiler);
  // Responses are plain JSON of objects the services built from typed rows; the zod response schemas document them.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  app.decorate('services', options.tenants.current);
  app.decorate('tenancy', options.tenancy);
  app.decorate('tenants', options.tenants);

  // Clients send `Content-Type: application/json` with an empty body on some void calls; treat it as no body.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch (error) {
      done(error as Error, undefined);
    }
  });

  app.addHook('onRequest', refuseLongQueryString);

  app.addHook('preValidation', async (request) => {
    if (hasNul(request.query) || hasNul(request.params)) throw nulRefused();
  });

  app.addHook('onResponse', async (request, reply) => {
    request.log.debug(
      { method: request.method, url: request.url, status: reply.statusCode, ms: reply.elapsedTime },
      'request',
    );
  });

  await app.register(errorsPlugin);
  await app.register(rateLimitPlugin, { perMinute: options.rateLimitPerMinute });
  await app.register(authPlugin, { password: options.password, tenancy: options.tenancy, tenants: options.tenants });
  await app.register(actorPlugin);
  await app.register(openapiPlugin);
  await app.register(v1Routes, { prefix: '/v1' });
  await app.register(mcpRoutes);
  await app.register(uiPlugin);
  return app;
}
