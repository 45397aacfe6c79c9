import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { assertSafeBinding, secureModeRequested, type CairnConfig } from './config.js';
import { buildApp, type App } from './http/app.js';
import { createLlmProviders } from './llm/providers.js';
import { createServices, type Services } from './services/index.js';
import { databaseConfigFor, openDatabase } from './store/database.js';
import type { Dialect } from './store/dialect/types.js';

export interface Cairn {
  app: App;
  services: Services;
  dialect: Dialect;
  /** Stops accepting connections, lets in-flight requests finish, then closes the database. */
  close(): Promise<void>;
}

/** Opens the database (running migrations), wires the services and builds the HTTP app, without listening. */
export async function createCairn(config: CairnConfig, logger: Logger): Promise<Cairn> {
  const dialect = await openDatabase(databaseConfigFor(config), (error) =>
    logger.warn({ err: error }, 'database error outside a request'),
  );
  try {
    const services = createServices(dialect, config, logger);
    services.llm.set(
      createLlmProviders(config.llmEnv, {
        defaultHandle: config.defaultLlmHandle,
        logger: logger.child({ component: 'llm' }),
      }),
    );
    await services.tools.ensureBuiltinTools(dialect.isUniqueViolation);
    services.runtime.start(dialect.name === 'sqlite');
    const app = await buildApp({ services, logger, password: config.password, bodyLimitBytes: config.bodyLimitBytes });
    let closing: Promise<void> | undefined;
    return {
      app,
      services,
      dialect,
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
          await services.runtime.stop();
          await services.indexer.stop();
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
