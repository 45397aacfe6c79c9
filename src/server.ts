import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { assertSafeBinding, secureModeRequested, type CairnConfig } from './config.js';
import { MemoryEventBus } from './domain/memory-events.js';
import { Embedders } from './embedders/index.js';
import { buildApp, type App } from './http/app.js';
import { byokBaseUrlsFromEnv } from './llm/byok.js';
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
import { GroupChatService } from './services/group-chat.service.js';
import { ProviderService } from './services/provider.service.js';
import { archivalPort, recallPort } from './services/runtime-ports.js';
import { TagService } from './services/tag.service.js';
import { ToolService } from './services/tool.service.js';
import { databaseConfigFor, openDatabase, type DatabaseConfig } from './store/database.js';
import { MessageVectorStore } from './store/message-vector.store.js';
import { embeddingHandleOf } from './domain/models.js';
import type { Dialect } from './store/dialect/types.js';
import { createStores, type Stores } from './store/index.js';
import {
  configuredSecretKey,
  LETTA_SECRET_KEY_ENV,
  loadSecretBox,
  SECRET_KEY_ENV,
  SECRET_KEY_FILE,
  type SecretBox,
} from './lib/secrets.js';
import { McpServerService } from './services/mcp-server.service.js';
import { LazyMcpClient } from './tools/mcp/client.js';
import { mcpSettingsFromEnv } from './tools/mcp/config.js';
import { McpToolExecutor } from './tools/mcp/executor.js';
import { CustomToolExecutor } from './tools/custom-executor.js';
import { pythonSandboxFromEnv, ToolSandbox } from './tools/runners/index.js';
import { DEFAULT_ORG_ID, TenancyService } from './services/tenancy.service.js';
import { TenantRegistry, type Tenant } from './services/tenants.js';
import { TenancyStore } from './store/tenancy.store.js';
import { dropTenantDatabase, tenantDatabaseConfig } from './store/tenant-database.js';

/** Letta's files nest a few levels (tool schemas a few more); far deeper JSON is hostile, not an agent. */
const AGENT_FILE_MAX_DEPTH = 100;

export interface Cairn {
  app: App;
  /** The default organisation's services (the routes get the request's organisation's). */
  services: Services;
  /** Organisations, users and API keys. */
  tenancy: TenancyService;
  tenants: TenantRegistry;
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
 * What every organisation's tenant shares: embedders, the tool sandboxes and the secret box are process-wide. The LLM
 * providers are not: each organisation's BYOK providers resolve only for its own agents.
 */
interface Shared {
  embedders: Embedders;
  secretBox: SecretBox;
  toolSandbox: ToolSandbox;
}

/** One organisation's database, with the stores, indexes, services, runtime and background work over it. */
interface OpenTenant extends Tenant {
  llm: LlmProviders;
  stores: Stores;
  dialect: Dialect;
  search: SearchIndexes;
  indexer: EmbeddingIndexer;
}

/**
 * One organisation's part of the composition root: its database's stores and search indexes, its services, its
 * runtime and background work, over the providers and sandboxes every organisation shares.
 */
async function openTenant(
  config: CairnConfig,
  logger: Logger,
  database: DatabaseConfig,
  { embedders, secretBox, toolSandbox }: Shared,
): Promise<OpenTenant> {
  const llm = createLlmProviders(config.llmEnv, {
    defaultHandle: config.defaultLlmHandle,
    logger: logger.child({ component: 'llm' }),
  });
  const dialect = await openDatabase(database, (error) =>
    logger.warn({ err: error }, 'database error outside a request'),
  );
  try {
    const search = createSearchIndexes({ engineIndexesVectors: dialect.search.hasVectorIndex });
    const stores = createStores(dialect, search);
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
    const providers = new ProviderService(llm, stores, secretBox, {
      isUniqueViolation: dialect.isUniqueViolation,
      logger: logger.child({ component: 'providers' }),
      defaultBaseUrls: byokBaseUrlsFromEnv(config.llmEnv),
    });
    await providers.load();
    const services: Services = {
      agents,
      agentFiles: new AgentFileService(
        stores,
        agents,
        blocks,
        archival,
        runtime.prompts,
        {
          maxBytes: config.agentFileMaxBytes,
          maxDepth: AGENT_FILE_MAX_DEPTH,
        },
        { box: secretBox, disableStdio: mcpSettings.disableStdio },
        folders,
      ),
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
      groups: new GroupService(stores, runtime.turns, logger.child({ component: 'groups' }), blocks),
      groupChats: new GroupChatService(stores, runtime.turns, logger.child({ component: 'group-chats' })),
      conversations: new ConversationService(stores, runtime.prompts),
      models: new ModelService(llm, embedders, providers),
      providers,
      folders,
      gitMemory,
      activity: new ActivityService(stores),
      runtime,
    };
    await services.tools.ensureBuiltinTools();
    indexer.start();
    runtime.start(dialect.name === 'sqlite', config.staleTiming);
    await folders.startSweeper(dialect.name === 'sqlite', config.staleTiming);
    return {
      services,
      stores,
      dialect,
      search,
      indexer,
      llm,
      close: async () => {
        await runtime.stop();
        // After the runtime: a turn still finishing may be calling an MCP tool.
        await mcpClient.close();
        await folders.close();
        await gitMemory.close();
        await indexer.stop();
        await dialect.close();
      },
    };
  } catch (error) {
    await dialect.close();
    throw error;
  }
}

/**
 * The composition root: the one place that builds the stores and search indexes, the services, the runtime and the
 * HTTP app, and wires them together. Nothing below it constructs a service or a store. The main database is the
 * default organisation's tenant and holds the control plane (organisations, users, keys); every other
 * organisation's tenant opens on its first request (docs/decisions.md, "Organisations: a database each").
 */
export async function createCairn(config: CairnConfig, logger: Logger): Promise<Cairn> {
  const mainDatabase = databaseConfigFor(config);
  const embedders = new Embedders(config.llmEnv);
  const secretBox = await loadSecretBox({ env: config.llmEnv, dataDir: config.dataDir });
  // Each interpreter starts on first use, so a server whose agents have no custom tools boots none.
  const toolSandbox = new ToolSandbox({
    python: pythonSandboxFromEnv(config.llmEnv.CAIRN_TOOL_SANDBOX),
    subprocess: { venvRoot: join(config.dataDir, 'tool-venvs'), hiddenPaths: [config.dataDir] },
  });
  const shared: Shared = { embedders, secretBox, toolSandbox };
  const main = await openTenant(config, logger, mainDatabase, shared);
  const { services, stores, dialect, search, indexer, llm } = main;
  // A shared database with a key per data dir works until a second machine joins; then secrets stop opening.
  if (dialect.name === 'postgres' && !configuredSecretKey(config.llmEnv))
    logger.warn(
      { keyFile: join(config.dataDir, SECRET_KEY_FILE) },
      `PostgreSQL without ${SECRET_KEY_ENV} (or ${LETTA_SECRET_KEY_ENV}): secrets are sealed with this data dir's key ` +
        'file, so Cairn processes that do not share the data dir cannot read them. Give every process the same key.',
    );
  let tenants: TenantRegistry | undefined;
  try {
    const tenancy = new TenancyService(new TenancyStore(dialect.db), dialect.isUniqueViolation);
    await tenancy.ensureDefaults();
    tenants = new TenantRegistry({
      defaultOrganizationId: DEFAULT_ORG_ID,
      defaultTenant: main,
      open: async (organizationId) => {
        await tenancy.organization(organizationId);
        const database = await tenantDatabaseConfig(mainDatabase, dialect, organizationId);
        return openTenant(config, logger.child({ organization: organizationId }), database, shared);
      },
      destroy: (organizationId) => dropTenantDatabase(mainDatabase, dialect, organizationId),
    });
    const app = await buildApp({
      tenants,
      tenancy,
      logger,
      password: config.password,
      bodyLimitBytes: config.bodyLimitBytes,
      rateLimitPerMinute: config.rateLimitPerMinute,
    });
    const registry = tenants;
    let closing: Promise<void> | undefined;
    return {
      app,
      services,
      tenancy,
      tenants: registry,
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
          await registry.close();
          await main.close();
          await toolSandbox.close();
        })()),
    };
  } catch (error) {
    await tenants?.close();
    await main.close();
    await toolSandbox.close();
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
