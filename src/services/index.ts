import type { CairnConfig } from '../config.js';
import type { Dialect } from '../store/dialect/types.js';
import { createStores, type Stores } from '../store/index.js';
import { AgentService } from './agent.service.js';
import { BlockService } from './block.service.js';
import { IdentityService } from './identity.service.js';
import { MemoryEventBus } from './memory-events.js';
import { ToolService } from './tool.service.js';

export interface Services {
  stores: Stores;
  events: MemoryEventBus;
  agents: AgentService;
  blocks: BlockService;
  identities: IdentityService;
  tools: ToolService;
}

export function createServices(dialect: Dialect, config: Pick<CairnConfig, 'defaultLlmHandle' | 'defaultEmbeddingHandle'>): Services {
  const stores = createStores(dialect);
  const events = new MemoryEventBus();
  const blocks = new BlockService(stores, events);
  return {
    stores,
    events,
    blocks,
    agents: new AgentService(stores, blocks, events, { llmHandle: config.defaultLlmHandle, embeddingHandle: config.defaultEmbeddingHandle }),
    identities: new IdentityService(stores),
    tools: new ToolService(stores),
  };
}
