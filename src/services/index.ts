import pino, { type Logger } from 'pino';
import type { CairnConfig } from '../config.js';
import { Embedders } from '../embedders/index.js';
import type { Dialect } from '../store/dialect/types.js';
import { createStores, type Stores } from '../store/index.js';
import { AgentService } from './agent.service.js';
import { ArchivalService } from './archival.service.js';
import { BlockService } from './block.service.js';
import { IdentityService } from './identity.service.js';
import { EmbeddingIndexer } from './embedding-indexer.js';
import { MemoryEventBus } from './memory-events.js';
import { RecallService } from './recall.service.js';
import { MessageVectorStore } from '../store/message-vector.store.js';
import { ToolService } from './tool.service.js';
import { ProviderSlot, Runtime } from '../runtime/index.js';
import { archivalPort, recallPort } from '../runtime/ports.js';
import { ConversationService } from './conversation.service.js';
import { MessageService } from './message.service.js';
import { RunService } from './run.service.js';

export interface Services {
  stores: Stores;
  events: MemoryEventBus;
  agents: AgentService;
  blocks: BlockService;
  identities: IdentityService;
  tools: ToolService;
  embedders: Embedders;
  /** Background embedding of archival passages and recall messages; `stop()` it before closing the database. */
  indexer: EmbeddingIndexer;
  archival: ArchivalService;
  recall: RecallService;
  /** The LLM providers the runtime calls; set at startup. */
  llm: ProviderSlot;
  runtime: Runtime;
  messages: MessageService;
  runs: RunService;
  conversations: ConversationService;
}

export function createServices(
  dialect: Dialect,
  config: Pick<CairnConfig, 'defaultLlmHandle' | 'defaultEmbeddingHandle'>,
  logger: Logger = pino({ level: 'silent' }),
): Services {
  const stores = createStores(dialect);
  const events = new MemoryEventBus();
  const embedders = new Embedders(process.env);
  const messageVectors = new MessageVectorStore(dialect.db, dialect, config.defaultEmbeddingHandle);
  const indexer = new EmbeddingIndexer(stores, embedders, logger.child({ component: 'embedding' }), {}, [
    messageVectors,
  ]);
  const archival = new ArchivalService(
    stores,
    embedders,
    indexer,
    config.defaultEmbeddingHandle,
    logger.child({ component: 'archival' }),
  );
  events.subscribe(archival);
  indexer.start();
  const blocks = new BlockService(stores, events);
  const recall = new RecallService(
    stores,
    embedders,
    config.defaultEmbeddingHandle,
    logger.child({ component: 'recall' }),
  );
  events.subscribe(recall);
  const llm = new ProviderSlot();
  const runtime = new Runtime({
    stores,
    blocks,
    events,
    providers: () => llm.get(),
    archival: () => archivalPort(archival),
    recall: recallPort(recall),
    constraints: dialect,
    logger: logger.child({ component: 'runtime' }),
  });
  return {
    stores,
    events,
    blocks,
    agents: new AgentService(stores, blocks, events, {
      llmHandle: config.defaultLlmHandle,
      embeddingHandle: config.defaultEmbeddingHandle,
    }),
    identities: new IdentityService(stores),
    tools: new ToolService(stores),
    embedders,
    indexer,
    archival,
    recall,
    llm,
    runtime,
    messages: new MessageService(stores, runtime.prompts),
    runs: new RunService(stores, runtime.turns),
    conversations: new ConversationService(stores, runtime.prompts),
  };
}
