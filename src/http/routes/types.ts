import type { FastifyPluginAsync, RawServerDefault } from 'fastify';
import type { ZodTypeProvider } from '../zod.js';

export type RouteModule = FastifyPluginAsync<Record<never, never>, RawServerDefault, ZodTypeProvider>;
