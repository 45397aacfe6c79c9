import { EmbeddingError, normalise, type Embedder } from './types.js';

/** Remote calls give up after this long; the passage stays queued and is retried. */
const TIMEOUT_MS = 30_000;

async function postJson(url: string, body: unknown, headers: Record<string, string>): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (error) {
    throw new EmbeddingError(
      `embedding request to ${url} failed: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const text = await response.text();
  // Never echo request headers (keys); the provider's own error text is safe and useful.
  if (!response.ok)
    throw new EmbeddingError(`embedding request to ${url} failed with HTTP ${response.status}: ${text.slice(0, 300)}`);
  try {
    return JSON.parse(text);
  } catch {
    throw new EmbeddingError(`embedding reply from ${url} is not JSON`);
  }
}

function checkVectors(handle: string, vectors: unknown, expected: number): Float32Array[] {
  if (
    !Array.isArray(vectors) ||
    vectors.length !== expected ||
    !vectors.every((v) => Array.isArray(v) && v.length > 0)
  ) {
    throw new EmbeddingError(`${handle}: expected ${expected} vectors in the reply`);
  }
  const dim = (vectors[0] as number[]).length;
  if (vectors.some((v: number[]) => v.length !== dim))
    throw new EmbeddingError(`${handle}: vectors of different dimensions in one reply`);
  return vectors.map((v: number[]) => normalise(v));
}

export interface OpenAiEndpoint {
  baseUrl: string;
  apiKey: string | undefined;
}

/** OpenAI's `POST /v1/embeddings`, also spoken by vLLM, LM Studio, llama.cpp, LiteLLM, TEI and others. */
export function openAiEmbedder(
  handle: string,
  model: string,
  endpoint: OpenAiEndpoint,
  dim: number | undefined,
): Embedder {
  const url = `${endpoint.baseUrl.replace(/\/+$/, '')}/embeddings`;
  const headers: Record<string, string> = endpoint.apiKey ? { authorization: `Bearer ${endpoint.apiKey}` } : {};
  return {
    handle,
    dim,
    async embed(texts) {
      if (texts.length === 0) return [];
      const reply = (await postJson(url, { model, input: texts, encoding_format: 'float' }, headers)) as {
        data?: { index?: number; embedding?: unknown }[];
      };
      if (!Array.isArray(reply.data)) throw new EmbeddingError(`${handle}: reply has no data array`);
      // `index` orders the items; servers may return them in any order.
      const ordered = [...reply.data].sort((a, b) => (a.index ?? 0) - (b.index ?? 0)).map((d) => d.embedding);
      return checkVectors(handle, ordered, texts.length);
    },
  };
}

/** Ollama's native `POST /api/embed` (batch input, `{embeddings: number[][]}`). */
export function ollamaEmbedder(handle: string, model: string, baseUrl: string, dim: number | undefined): Embedder {
  const url = `${baseUrl.replace(/\/+$/, '')}/api/embed`;
  return {
    handle,
    dim,
    async embed(texts) {
      if (texts.length === 0) return [];
      const reply = (await postJson(url, { model, input: texts }, {})) as { embeddings?: unknown };
      return checkVectors(handle, reply.embeddings, texts.length);
    },
  };
}

/** Lists model names from an endpoint for `GET /v1/models/embedding`; a provider that does not answer lists none. */
export async function listRemoteModels(
  url: string,
  headers: Record<string, string>,
  pick: (body: unknown) => string[],
): Promise<string[]> {
  try {
    const response = await fetch(url, { headers, signal: AbortSignal.timeout(2000) });
    if (!response.ok) return [];
    return pick(await response.json());
  } catch {
    return [];
  }
}
