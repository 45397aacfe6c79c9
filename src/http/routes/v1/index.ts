import type { RouteModule } from '../types.js';
import { agentRoutes } from './agents.js';
import { blockRoutes } from './blocks.js';
import { coreMemoryRoutes } from './core-memory.js';
import { healthRoutes } from './health.js';
import { identityRoutes } from './identities.js';
import { tagRoutes } from './tags.js';

/** Every `/v1` route module; each feature adds its own file and one line here. */
export const v1Routes: RouteModule = async (app) => {
  await app.register(healthRoutes);
  await app.register(agentRoutes);
  await app.register(coreMemoryRoutes);
  await app.register(blockRoutes);
  await app.register(identityRoutes);
  await app.register(tagRoutes);
};
