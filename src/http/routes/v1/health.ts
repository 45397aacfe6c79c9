import { z } from 'zod';
import { HEALTH_VERSION } from '../../../version.js';
import type { RouteModule } from '../types.js';

const healthSchema = z.object({ version: z.string(), status: z.string() }).meta({ id: 'Health' });

export const healthRoutes: RouteModule = async (app) => {
  const health = { version: HEALTH_VERSION, status: 'ok' };
  app.get('/health/', { schema: { tags: ['health'], response: { 200: healthSchema } } }, async () => health);
  app.get('/ready/', { schema: { tags: ['health'], response: { 200: healthSchema } } }, async () => health);
};
