import { APICallError, InvalidResponseDataError, JSONParseError, TypeValidationError } from '@ai-sdk/provider';
import { LlmError } from './types.js';

/**
 * How providers say "the prompt is too long". OpenAI: `context_length_exceeded` / "maximum context length is N tokens";
 * Anthropic: "prompt is too long: N tokens > M maximum", "input length and `max_tokens` exceed context limit";
 * vLLM/OpenRouter reuse OpenAI's text; llama.cpp: `exceed_context_size_error` / "exceeds the available context size";
 * LM Studio: "context length"/"context overflow"; Google-style proxies: "exceeds the maximum number of tokens".
 */
const CONTEXT_OVERFLOW = [
  /context[_ ]length[_ ]exceeded/i,
  /maximum context length/i,
  /prompt is too long/i,
  /exceeds? (the )?context (limit|window|size|length)/i,
  /exceed_context_size_error/i,
  /exceeds the available context size/i,
  /context (window|overflow|length) (is )?(exceeded|too (small|long))/i,
  /input length and `?max_tokens`? exceed context limit/i,
  /exceeds the maximum number of tokens/i,
  /too many tokens in (the )?(prompt|request|input)/i,
];

export const isContextOverflowText = (text: string) => CONTEXT_OVERFLOW.some((re) => re.test(text));

export interface ClassifiedError {
  error: LlmError;
  /** Worth another attempt (429, 5xx, overload, network) when nothing has been streamed yet. */
  retryable: boolean;
  /** What the provider asked for (`retry-after-ms` / `retry-after`), in milliseconds. */
  retryAfterMs?: number | undefined;
}

/** The provider's own message from an error body: `{error:{message}}` (OpenAI), `{type:"error",error:{message}}` (Anthropic). */
function providerMessage(body: unknown): { message?: string; type?: string } {
  if (!body || typeof body !== 'object') return {};
  const record = body as { message?: unknown; type?: unknown; code?: unknown; error?: unknown };
  if (record.error && typeof record.error === 'object') return providerMessage(record.error);
  if (typeof record.error === 'string') return { message: record.error };
  return {
    ...(typeof record.message === 'string' ? { message: record.message } : {}),
    ...(typeof record.code === 'string'
      ? { type: record.code }
      : typeof record.type === 'string'
        ? { type: record.type }
        : {}),
  };
}

function parseBody(text: string | undefined): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export function retryAfterMs(headers: Record<string, string> | undefined): number | undefined {
  if (!headers) return undefined;
  const ms = Number(headers['retry-after-ms']);
  if (headers['retry-after-ms'] !== undefined && Number.isFinite(ms) && ms >= 0) return ms;
  const value = headers['retry-after'];
  if (value === undefined) return undefined;
  const secs = Number(value);
  if (Number.isFinite(secs) && secs >= 0) return secs * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** Errors by HTTP status, once the provider's message is known. */
function byStatus(
  provider: string,
  status: number | undefined,
  message: string,
  type: string | undefined,
  headers?: Record<string, string>,
): ClassifiedError {
  const text = `${provider}: ${message}`;
  if (isContextOverflowText(message) || (type !== undefined && isContextOverflowText(type)))
    return { error: new LlmError('context_window_exceeded', text, status), retryable: false };
  if (status === 401 || status === 403 || /authentication|permission/.test(type ?? ''))
    return { error: new LlmError('authentication', text, status), retryable: false };
  if (status === 429 || /rate_limit/.test(type ?? ''))
    return {
      error: new LlmError('rate_limit', text, status ?? 429),
      retryable: true,
      retryAfterMs: retryAfterMs(headers),
    };
  if (status === 408 || (status ?? 0) >= 500 || /overloaded|server_error|api_error/.test(type ?? '')) {
    return { error: new LlmError('server', text, status), retryable: true, retryAfterMs: retryAfterMs(headers) };
  }
  // A stream's error event of a type not recognised above.
  if (status === undefined) return { error: new LlmError('server', text), retryable: false };
  // A success status with a body that could not be read (not JSON, empty, an HTML page from a proxy) is the
  // provider's fault, not a bad request of ours: Letta's `invalid_llm_response`, a 502 on a synchronous send.
  if (status >= 200 && status < 300)
    return {
      error: new LlmError('invalid_response', `${provider}: unexpected response: ${message}`, status),
      retryable: false,
    };
  return { error: new LlmError('bad_request', text, status), retryable: false };
}

/** A provider's HTTP error answer outside a model call (a model listing, a key check), classified like a call's. */
export function classifyHttpFailure(
  provider: string,
  status: number,
  bodyText: string,
  headers?: Record<string, string>,
): ClassifiedError {
  const body = parseBody(bodyText);
  const { message, type } = providerMessage(body);
  const detail = message ?? (typeof body === 'string' && body ? body.slice(0, 500) : `HTTP ${status}`);
  return byStatus(provider, status, detail, type, headers);
}

/** Maps whatever a provider call threw (or a stream's `error` part carried) onto the seam's error kinds. */
export function classifyError(error: unknown, provider: string): ClassifiedError {
  if (error instanceof LlmError) return { error, retryable: false };
  if (APICallError.isInstance(error)) {
    const body = error.data ?? parseBody(error.responseBody);
    const { message, type } = providerMessage(body);
    const detail = message ?? (typeof body === 'string' && body ? body.slice(0, 500) : error.message);
    if (error.statusCode === undefined) {
      // No HTTP answer at all: connection refused, reset, DNS. Worth retrying, and the URL helps the operator.
      return {
        error: new LlmError('server', `${provider}: could not reach ${error.url}: ${error.message}`, undefined, {
          cause: error,
        }),
        retryable: error.isRetryable,
      };
    }
    return byStatus(provider, error.statusCode, detail, type, error.responseHeaders);
  }
  if (
    TypeValidationError.isInstance(error) ||
    JSONParseError.isInstance(error) ||
    InvalidResponseDataError.isInstance(error)
  ) {
    return {
      error: new LlmError('invalid_response', `${provider}: unexpected response: ${error.message}`, undefined, {
        cause: error,
      }),
      retryable: false,
    };
  }
  if (error && typeof error === 'object' && !(error instanceof Error)) {
    // A stream's error event: the provider's error object, without an HTTP status.
    const { message, type } = providerMessage(error);
    if (message || type) return byStatus(provider, undefined, message ?? type ?? 'error', type);
  }
  const message = error instanceof Error ? error.message : String(error);
  return { error: new LlmError('server', `${provider}: ${message}`, undefined, { cause: error }), retryable: false };
}
