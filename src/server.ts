import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { assertSafeBinding, secureModeRequested, type CairnConfig } from './config.js';
import { MemoryEventBus } from './domain/memory-events.js';
import { Embedders } from './embedders/index.js';
import { buildApp, type App } from './http/app.js';
import { createLlmProviders } from './llm/providers.js';
import type { LlmProviders } from './llm/types.js';
import { Runtime } from './runtime/index.js';
import { createSearchIndexes, type SearchIndexes } from './search/index.js';
import { ActivityService } from './services/activity.service.js';
import { AgentFileService } from './services/agent-file.service.js';
import { AgentService } from './services/agent.service.js';
import { ArchivalService } from './services/archival.service.js';
import { BlockHistoryService } from './services/block-history.service.js';
import { BlockService } from './services/block.service.js';
import { CaptureService } from './services/capture.service.js';
import { ConversationService } from './services/conversation.service.js';
import { EmbeddingIndexer } from './services/embedding-indexer.js';
import { FileParser } from './services/file-parser.js';
import { FolderService } from './services/folder.service.js';
import { GitMemoryService } from './services/git-memory.service.js';
import { GitRepositoryCache } from './services/git-memory-repo.js';
import { IdentityService } from './services/identity.service.js';
import type { Services } from './services/index.js';
import { MessageService } from './services/message.service.js';
import { ModelService } from './services/model.service.js';
import { FallbackNotices } from './services/query-embedding.js';
import { RecallService } from './services/recall.service.js';
import { RunService } from './services/run.service.js';
import { StepService } from './services/step.service.js';
import { GroupService } from './services/group.service.js';
import { ProviderService } from './services/provider.service.js';
import { archivalPort, recallPort } from './services/runtime-ports.js';
import { TagService } from './services/tag.service.js';
import { ToolService } from './services/tool.service.js';
import { databaseConfigFor, openDatabase } from './store/database.js';
import { MessageVectorStore } from './store/message-vector.store.js';
import { embeddingHandleOf } from './domain/models.js';
import type { Dialect } from './store/dialect/types.js';
import { createStores, type Stores } from './store/index.js';
import { loadSecretBox } from './lib/secrets.js';
import { McpServerService } from './services/mcp-server.service.js';
import { LazyMcpClient } from './tools/mcp/client.js';
import { mcpSettingsFromEnv } from './tools/mcp/config.js';
import { McpToolExecutor } from './tools/mcp/executor.js';
import { CustomToolExecutor } from './tools/custom-executor.js';
import { pythonSandboxFromEnv, ToolSandbox } from './tools/runners/index.js';

/** Letta's files nest a few levels (tool schemas a few more); far deeper JSON is hostile, not an agent. */
const AGENT_FILE_MAX_DEPTH = 100;

export interface Cairn {
  app: App;
  services: Services;
  /** The database's stores, for tests and benchmarks that seed or inspect it; no route is given them. */
  stores: Stores;
  dialect: Dialect;
  search: SearchIndexes;
  embedders: Embedders;
  /** Background embedding of archival passages and recall messages. */
  indexer: EmbeddingIndexer;
  llm: LlmProviders;
  /** Stops accepting connections, lets in-flight requests finish, then closes the database. */
  close(): Promise<void>;
}

/**
 * The composition root: the one place that builds the database's stores and search indexes, the services, the
 * runtime and the HTTP app, and wires them together. Nothing below it constructs a service or a store.
 */
export async function createCairn(config: CairnConfig, logger: Logger): Promise<Cairn> {
  const dialect = await openDatabase(databaseConfigFor(config), (error) =>
    logger.warn({ err: error }, 'database error outside a request'),
  );
  try {
    const search = createSearchIndexes({ engineIndexesVectors: dialect.search.hasVectorIndex });
    const stores = createStores(dialect, search);
    const llm = createLlmProviders(config.llmEnv, {
      defaultHandle: config.defaultLlmHandle,
      logger: logger.child({ component: 'llm' }),
    });
    const embedders = new Embedders(config.llmEnv);
    const events = new MemoryEventBus();
    const messageVectors = new MessageVectorStore(dialect.db, dialect, (agent) =>
      embeddingHandleOf(agent, config.defaultEmbeddingHandle),
    );
    const indexer = new EmbeddingIndexer(stores, embedders, logger.child({ component: 'embedding' }), {}, [
      messageVectors,
    ]);
    const fallbacks = new FallbackNotices(logger.child({ component: 'search' }));
    const archival = new ArchivalService(stores, embedders, indexer, config.defaultEmbeddingHandle, fallbacks);
    // Archival reacts to agent creation and deletion before the runtime compiles the new agent's prompt.
    events.subscribe(archival);
    const blocks = new BlockService(stores, events);
    const recall = new RecallService(stores, embedders, config.defaultEmbeddingHandle, fallbacks);
    // Recall requeues an agent's messages when its embedding model changes.
    events.subscribe(recall);
    const secretBox = await loadSecretBox({ env: config.llmEnv, dataDir: config.dataDir });
    // Each interpreter starts on first use, so a server whose agents have no custom tools boots none.
    const toolSandbox = new ToolSandbox({
      python: pythonSandboxFromEnv(config.llmEnv.CAIRN_TOOL_SANDBOX),
      subprocess: { venvRoot: join(config.dataDir, 'tool-venvs'), hiddenPaths: [config.dataDir] },
    });
    const mcpSettings = mcpSettingsFromEnv(config.llmEnv);
    const mcpClient = new LazyMcpClient({ settings: mcpSettings, logger: logger.child({ component: 'mcp-client' }) });
    const folders = new FolderService(
      stores,
      archival,
      events,
      new FileParser(),
      config.defaultEmbeddingHandle,
      logger.child({ component: 'folders' }),
    );
    const runtime = new Runtime({
      stores,
      blocks,
      events,
      providers: llm,
      archival: archivalPort(archival),
      recall: recallPort(recall),
      files: folders,
      constraints: dialect,
      logger: logger.child({ component: 'runtime' }),
      toolExecutors: [new CustomToolExecutor(toolSandbox, secretBox), new McpToolExecutor(mcpClient, secretBox)],
      // Read when a tool runs, by which time `services` exists.
      agentStates: { get: (agentId) => services.agents.get(agentId, 'all') },
    });
    const agents = new AgentService(
      stores,
      blocks,
      events,
      { llmHandle: config.defaultLlmHandle, embeddingHandle: config.defaultEmbeddingHandle },
      secretBox,
      folders,
    );
    const gitMemory = new GitMemoryService(
      stores,
      blocks,
      events,
      new GitRepositoryCache(),
      logger.child({ component: 'git-memory' }),
    );
    const services: Services = {
      agents,
      agentFiles: new AgentFileService(stores, agents, blocks, archival, runtime.prompts, {
        maxBytes: config.agentFileMaxBytes,
        maxDepth: AGENT_FILE_MAX_DEPTH,
      }),
      blocks,
      blockHistory: new BlockHistoryService(stores, blocks),
      identities: new IdentityService(stores),
      tags: new TagService(stores),
      tools: new ToolService(stores, toolSandbox, dialect.isUniqueViolation),
      mcpServers: new McpServerService(stores, mcpClient, secretBox, {
        disableStdio: mcpSettings.disableStdio,
        isUniqueViolation: dialect.isUniqueViolation,
        logger: logger.child({ component: 'mcp-servers' }),
      }),
      archival,
      recall,
      capture: new CaptureService(stores),
      messages: new MessageService(stores, runtime.prompts),
      runs: new RunService(stores, runtime.turns),
      steps: new StepService(stores),
      groups: new GroupService(stores, runtime.turns, logger.child({ component: 'groups' })),
      conversations: new ConversationService(stores, runtime.prompts),
      models: new ModelService(llm, embedders),
      providers: new ProviderService(llm),
      folders,
      gitMemory,
      activity: new ActivityService(stores),
      runtime,
    };
    await services.tools.ensureBuiltinTools();
    indexer.start();
    runtime.start(dialect.name === 'sqlite');
    if (dialect.name === 'sqlite') await folders.failInterrupted();
    const app = await buildApp({
      services,
      logger,
      password: config.password,
      bodyLimitBytes: config.bodyLimitBytes,
      rateLimitPerMinute: config.rateLimitPerMinute,
    });
    let closing: Promise<void> | undefined;
    return {
      app,
      services,
      stores,
      dialect,
      search,
      embedders,
      indexer,
      llm,
      close: () =>
        (closing ??= (async () => {
          // Node closes only the connections idle at the moment of close(); one whose request was still in flight
          // turns idle when it is answered and would hold shutdown for its keep-alive timeout. Sweep until done.
          const sweep = setInterval(() => app.server.closeIdleConnections(), 50);
          try {
            await app.close();
          } finally {
            clearInterval(sweep);
          }
          await runtime.stop();
          // After the runtime: a turn still finishing may be calling an MCP tool.
          await mcpClient.close();
          await toolSandbox.close();
          await folders.close();
          await gitMemory.close();
          await indexer.stop();
          await dialect.close();
        })()),
    };
  } catch (error) {
    await dialect.close();
    throw error;
  }
}

export async function serve(config: CairnConfig, logger: Logger): Promise<Cairn> {
  if (!config.password && secureModeRequested()) {
    config = { ...config, password: randomBytes(24).toString('base64url') };
    // Printed once, as Letta does, so an operator who asked for secure mode without a password can connect.
    process.stderr.write(`cairn: secure mode without LETTA_SERVER_PASSWORD; generated password: ${config.password}\n`);
  }
  assertSafeBinding(config);
  const cairn = await createCairn(config, logger);
  await cairn.app.listen({ host: config.host, port: config.port });
  logger.info(
    {
      host: config.host,
      port: config.port,
      database: config.pgUri ? 'postgres' : 'sqlite',
      secured: Boolean(config.password),
    },
    'cairn listening',
  );

  const shutdown = (signal: string) => {
    logger.info({ signal }, 'shutting down');
    cairn.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  return cairn;
}
