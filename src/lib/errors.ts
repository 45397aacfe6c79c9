/**
 * The one error type services throw. The HTTP layer renders it as `{"detail": …}` with its status;
 * everything else that escapes a handler is a bug and becomes an opaque 500.
 */
export class CairnError extends Error {
  constructor(
    readonly status: number,
    readonly detail: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(typeof detail === 'string' ? detail : JSON.stringify(detail));
    this.name = 'CairnError';
  }
}

/**
 * An error Letta renders in a shape of its own rather than `{detail}`: the LLM-provider failures, which its server
 * answers with `{"error": {"type", "message", "detail"}}`.
 */
export class CairnBodyError extends CairnError {
  constructor(
    status: number,
    readonly body: Record<string, unknown>,
  ) {
    super(status, body);
  }
}

export const notFound = (detail: string) => new CairnError(404, detail);
export const badRequest = (detail: string) => new CairnError(400, detail);
/** A conflict that will not clear by itself: tell the SDK not to retry it. */
export const conflict = (detail: unknown) => new CairnError(409, detail, { 'x-should-retry': 'false' });

/** FastAPI-shaped validation error: `{"detail":[{type, loc, msg, input}]}`. */
export interface ValidationIssue {
  type: string;
  loc: (string | number)[];
  msg: string;
  input?: unknown;
}

export function unprocessable(issues: ValidationIssue[]): CairnError {
  return new CairnError(422, issues);
}

export function invalidField(loc: (string | number)[], msg: string, input?: unknown): CairnError {
  return unprocessable([{ type: 'value_error', loc, msg, input }]);
}

/** Socket errors and PostgreSQL's shutdown/connection SQLSTATEs (class 08, 57P01–57P03): the server is unreachable. */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  '57P01',
  '57P02',
  '57P03',
]);
const UNREACHABLE_MESSAGES =
  /^(Connection terminated unexpectedly|Client has encountered a connection error and is not queryable|Connection terminated)$/;

/**
 * A database that went away (restarted, unreachable) is a 503 the SDKs retry, not a 500 that reads as a bug: the
 * request may succeed once it is back, and Cairn reconnects on its own. Undefined for any other error.
 */
export function databaseUnavailable(error: unknown): CairnError | undefined {
  if (!(error instanceof Error)) return undefined;
  const code = 'code' in error ? String(error.code) : '';
  if (!UNREACHABLE_CODES.has(code) && !code.startsWith('08') && !UNREACHABLE_MESSAGES.test(error.message))
    return undefined;
  return new CairnError(503, `The database is unavailable (${code || error.message}). Try again.`, {
    'retry-after': '1',
  });
}

/** SQLite's and the file system's ways of saying the disk (or the user's quota) is full. */
const STORAGE_FULL_CODES = new Set(['SQLITE_FULL', 'ENOSPC', 'EDQUOT']);

/**
 * A full disk is Letta-style 507 Insufficient Storage, not a 500: nothing was written (SQLite rolls the
 * transaction back), what was stored before is intact, and the same request succeeds once space is freed. The
 * cause chain is searched because a write may be wrapped by the layer that attempted it. Undefined otherwise.
 */
export function storageFull(error: unknown): CairnError | undefined {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = 'code' in e ? String(e.code) : '';
    if (STORAGE_FULL_CODES.has(code))
      return new CairnError(507, `Insufficient storage: the server's disk is full (${code}). Nothing was written.`);
  }
  return undefined;
}
