import { homedir } from 'node:os';
import { join } from 'node:path';
import { LOCAL_EMBEDDING_HANDLE } from './services/model-config.js';

export interface CairnConfig {
  host: string;
  port: number;
  dataDir: string;
  /** `LETTA_PG_URI`: PostgreSQL instead of the embedded SQLite database. */
  pgUri: string | undefined;
  /** `LETTA_SERVER_PASSWORD`: when set, every route but health needs it. */
  password: string | undefined;
  /** Binding beyond loopback without a password needs this explicit opt-in. */
  allowInsecureRemote: boolean;
  logLevel: string;
  bodyLimitBytes: number;
  defaultLlmHandle: string;
  defaultEmbeddingHandle: string;
  /** The environment LLM providers are configured from (keys, base URLs, timeouts): `src/llm/settings.ts`. */
  llmEnv: NodeJS.ProcessEnv;
}

export interface ServeFlags {
  host?: string | undefined;
  port?: string | number | undefined;
  dataDir?: string | undefined;
  allowInsecureRemote?: boolean | undefined;
}

const truthy = (value: string | undefined) => value !== undefined && ['1', 'true', 'yes', 'on'].includes(value.toLowerCase());

export function loadConfig(flags: ServeFlags = {}, env: NodeJS.ProcessEnv = process.env): CairnConfig {
  const port = Number(flags.port ?? env.PORT ?? 8283);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error(`invalid port: ${String(flags.port ?? env.PORT)}`);
  return {
    host: flags.host ?? env.HOST ?? '127.0.0.1',
    port,
    dataDir: flags.dataDir ?? env.CAIRN_HOME ?? join(homedir(), '.cairn'),
    pgUri: env.LETTA_PG_URI || undefined,
    password: env.LETTA_SERVER_PASSWORD || undefined,
    allowInsecureRemote: flags.allowInsecureRemote ?? truthy(env.CAIRN_ALLOW_INSECURE_REMOTE),
    logLevel: env.LOG_LEVEL ?? 'info',
    bodyLimitBytes: Number(env.CAIRN_BODY_LIMIT_BYTES ?? 10 * 1024 * 1024),
    defaultLlmHandle: env.LETTA_DEFAULT_LLM_HANDLE ?? 'openai/gpt-4o-mini',
    defaultEmbeddingHandle: env.LETTA_DEFAULT_EMBEDDING_HANDLE ?? LOCAL_EMBEDDING_HANDLE,
    llmEnv: env,
  };
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

/** Without a password Cairn is open, so it refuses to listen beyond this machine unless told to explicitly. */
export function assertSafeBinding(config: CairnConfig): void {
  if (config.password || config.allowInsecureRemote || LOOPBACK.test(config.host)) return;
  throw new Error(
    `refusing to listen on ${config.host} without a password: set LETTA_SERVER_PASSWORD, or pass --allow-insecure-remote (CAIRN_ALLOW_INSECURE_REMOTE=true) to expose an open server`,
  );
}

/** `SECURE=true` / `LETTA_SERVER_SECURE=true` without a password: Letta generates one and prints it. */
export function secureModeRequested(env: NodeJS.ProcessEnv = process.env): boolean {
  return truthy(env.SECURE) || truthy(env.LETTA_SERVER_SECURE);
}
