import { homedir } from 'node:os';
import { join } from 'node:path';
import { LOCAL_EMBEDDING_HANDLE } from './domain/models.js';
import { DEFAULT_STALE_TIMING, staleTimingAfter, type StaleTiming } from './lib/heartbeat-sweep.js';
import { DEFAULT_PG_POOL, type PgPoolSettings } from './store/dialect/postgres-pool.js';

export interface CairnConfig {
  host: string;
  port: number;
  dataDir: string;
  /** `LETTA_PG_URI`: PostgreSQL instead of the embedded SQLite database. */
  pgUri: string | undefined;
  /** `LETTA_PG_POOL_SIZE`, `LETTA_PG_MAX_OVERFLOW`, `LETTA_PG_POOL_TIMEOUT`, `LETTA_PG_POOL_RECYCLE` (`pgPoolSettings`). */
  pgPool: PgPoolSettings;
  /** `LETTA_SERVER_PASSWORD`: when set, every route but health needs it. */
  password: string | undefined;
  /** Binding beyond loopback without a password needs this explicit opt-in. */
  allowInsecureRemote: boolean;
  logLevel: string;
  bodyLimitBytes: number;
  /** `CAIRN_RATE_LIMIT`: requests per minute per API key (or per address without one); 0, the default, is off. */
  rateLimitPerMinute: number;
  /** `CAIRN_AGENT_FILE_MAX_BYTES`: the largest `.af` upload `POST /v1/agents/import` reads. */
  agentFileMaxBytes: number;
  defaultLlmHandle: string;
  defaultEmbeddingHandle: string;
  /** The environment LLM providers are configured from (keys, base URLs, timeouts): `src/llm/settings.ts`. */
  llmEnv: NodeJS.ProcessEnv;
  /**
   * `CAIRN_STALE_AFTER_MS` (60 000): how long a run or an upload being parsed may go without its process's heartbeat
   * before another process sharing the database fails it as left behind by a dead process.
   */
  staleTiming: StaleTiming;
}

export interface ServeFlags {
  host?: string | undefined;
  port?: string | number | undefined;
  dataDir?: string | undefined;
  allowInsecureRemote?: boolean | undefined;
}

const truthy = (value: string | undefined) =>
  value !== undefined && ['1', 'true', 'yes', 'on'].includes(value.toLowerCase());

/** Node's timers hold at most 2^31 − 1 ms; a longer one fires at once. */
const MAX_TIMER_SECONDS = 2_147_483;

function wholeNumber(
  env: NodeJS.ProcessEnv,
  name: string,
  fallback: number,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  const value = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(value >= min && value <= max))
    throw new Error(`invalid ${name}: '${raw}' (a whole number from ${min} to ${max})`);
  return value;
}

/**
 * Letta's settings, with their meaning there (SQLAlchemy's pool): `size` connections are not closed for being idle,
 * up to `overflow` more open under load and close once idle, a request waits at most `timeout` seconds for a
 * connection, and a connection is replaced once it is `recycle` seconds old (`-1`: never).
 */
function pgPoolSettings(env: NodeJS.ProcessEnv): PgPoolSettings {
  const neverRecycle = env.LETTA_PG_POOL_RECYCLE?.trim() === '-1';
  return {
    size: wholeNumber(env, 'LETTA_PG_POOL_SIZE', DEFAULT_PG_POOL.size, 1),
    overflow: wholeNumber(env, 'LETTA_PG_MAX_OVERFLOW', DEFAULT_PG_POOL.overflow, 0),
    timeoutSeconds: wholeNumber(env, 'LETTA_PG_POOL_TIMEOUT', DEFAULT_PG_POOL.timeoutSeconds, 1, MAX_TIMER_SECONDS),
    recycleSeconds: neverRecycle
      ? 0
      : wholeNumber(env, 'LETTA_PG_POOL_RECYCLE', DEFAULT_PG_POOL.recycleSeconds, 1, MAX_TIMER_SECONDS),
  };
}

function rateLimit(value: string | undefined): number {
  if (value === undefined || value.trim() === '') return 0;
  if (!/^\d+$/.test(value.trim()))
    throw new Error(`invalid CAIRN_RATE_LIMIT: ${value} (requests per minute, 0 for none)`);
  return Number(value);
}

export function loadConfig(flags: ServeFlags = {}, env: NodeJS.ProcessEnv = process.env): CairnConfig {
  const port = Number(flags.port ?? env.PORT ?? 8283);
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new Error(`invalid port: ${String(flags.port ?? env.PORT)}`);
  return {
    host: flags.host ?? env.HOST ?? '127.0.0.1',
    port,
    dataDir: flags.dataDir ?? env.CAIRN_HOME ?? join(homedir(), '.cairn'),
    pgUri: env.LETTA_PG_URI || undefined,
    pgPool: pgPoolSettings(env),
    password: env.LETTA_SERVER_PASSWORD || undefined,
    allowInsecureRemote: flags.allowInsecureRemote ?? truthy(env.CAIRN_ALLOW_INSECURE_REMOTE),
    logLevel: env.LOG_LEVEL ?? 'info',
    bodyLimitBytes: Number(env.CAIRN_BODY_LIMIT_BYTES ?? 10 * 1024 * 1024),
    rateLimitPerMinute: rateLimit(env.CAIRN_RATE_LIMIT),
    agentFileMaxBytes: Number(env.CAIRN_AGENT_FILE_MAX_BYTES ?? 128 * 1024 * 1024),
    defaultLlmHandle: env.LETTA_DEFAULT_LLM_HANDLE ?? 'openai/gpt-4o-mini',
    defaultEmbeddingHandle: env.LETTA_DEFAULT_EMBEDDING_HANDLE ?? LOCAL_EMBEDDING_HANDLE,
    llmEnv: env,
    staleTiming: staleTimingAfter(wholeNumber(env, 'CAIRN_STALE_AFTER_MS', DEFAULT_STALE_TIMING.staleMs, 1_000)),
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
