import { CairnError, databaseUnavailable, storageFull } from '../lib/errors.js';
import { LlmError } from '../llm/types.js';
import { type StopReason, type TurnError } from '../domain/turns.js';

const ERROR_TYPES: Record<string, string> = {
  rate_limit: 'llm_rate_limit',
  timeout: 'llm_timeout',
  authentication: 'llm_authentication',
  empty_response: 'llm_empty_response',
};

export function turnErrorFor(error: unknown): { stop: StopReason; error: TurnError } {
  if (error instanceof LlmError) {
    const stop: StopReason =
      error.kind === 'invalid_response' || error.kind === 'empty_response' ? 'invalid_llm_response' : 'llm_api_error';
    const status =
      error.kind === 'rate_limit'
        ? 429
        : error.kind === 'timeout'
          ? 504
          : error.kind === 'bad_request' || error.kind === 'context_window_exceeded'
            ? 400
            : 502;
    return {
      stop,
      error: {
        error_type: ERROR_TYPES[error.kind] ?? 'llm_error',
        message: `LLM error: ${error.message}`,
        detail: error.message,
        status,
      },
    };
  }
  // Cairn's own errors keep their status: a database that gave no connection in time is a 503 mid-turn as well,
  // and a turn whose messages could not be written to a full disk a 507.
  error = databaseUnavailable(error) ?? storageFull(error) ?? error;
  if (error instanceof CairnError)
    return {
      stop: 'error',
      error: { error_type: 'internal_error', message: error.message, detail: error.message, status: error.status },
    };
  return {
    stop: 'error',
    error: {
      error_type: 'internal_error',
      message: 'An unknown error occurred',
      detail: error instanceof Error ? error.message : String(error),
      status: 500,
    },
  };
}

/** A provider failure outside a turn is the caller's upstream problem, not a Cairn bug: its status and text. */
export function asRequestError(error: unknown): never {
  if (!(error instanceof LlmError)) throw error;
  const { status, message } = turnErrorFor(error).error;
  throw new CairnError(status, message, { 'x-should-retry': 'false' });
}
