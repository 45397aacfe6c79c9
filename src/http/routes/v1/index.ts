import type { RouteModule } from '../types.js';
import { agentRoutes } from './agents.js';
import { archivalRoutes } from './archival.js';
import { archiveRoutes } from './archives.js';
import { embeddingModelRoutes } from './embedding-models.js';
import { blockRoutes } from './blocks.js';
import { blockHistoryRoutes } from './block-history.js';
import { activityRoutes } from './activity.js';
import { coreMemoryRoutes } from './core-memory.js';
import { healthRoutes } from './health.js';
import { identityRoutes } from './identities.js';
import { tagRoutes } from './tags.js';
import { messageRoutes } from './messages.js';
import { modelRoutes } from './models.js';
import { runRoutes } from './runs.js';
import { conversationRoutes } from './conversations.js';
import { captureRoutes } from './capture.js';
import { toolRoutes } from './tools.js';

/** Every `/v1` route module; each feature adds its own file and one line here. */
export const v1Routes: RouteModule = async (app) => {
  await app.register(healthRoutes);
  await app.register(agentRoutes);
  await app.register(coreMemoryRoutes);
  await app.register(blockRoutes);
  await app.register(blockHistoryRoutes);
  await app.register(activityRoutes);
  await app.register(identityRoutes);
  await app.register(tagRoutes);
  await app.register(archivalRoutes);
  await app.register(archiveRoutes);
  await app.register(embeddingModelRoutes);
  await app.register(modelRoutes);
  await app.register(messageRoutes);
  await app.register(runRoutes);
  await app.register(conversationRoutes);
  await app.register(captureRoutes);
  await app.register(toolRoutes);
};
