import { badRequest } from '../lib/errors.js';
import { KNOWN_EMBEDDING_MODELS, LOCAL_EMBEDDING_HANDLE, parseHandle } from '../domain/models.js';
import { installedLocalModels, localOnnx, type LocalModelEnv } from './local-onnx.js';
import { localUseLite } from './local-use-lite.js';
import { listRemoteModels, ollamaEmbedder, openAiEmbedder } from './remote.js';
import type { Embedder } from './types.js';
import { EmbedderUnavailable } from './unavailable.js';

export type { Embedder } from './types.js';
export { EmbeddingError } from './types.js';
export { EmbedderUnavailable } from './unavailable.js';

/**
 * Where remote embedding providers are, from the environment:
 * - `openai/<model>`: `OPENAI_API_KEY`, optional `OPENAI_BASE_URL` or `OPENAI_API_BASE` (default https://api.openai.com/v1);
 * - `ollama/<model>`: `OLLAMA_BASE_URL` (default http://127.0.0.1:11434);
 * - `openai-compatible/<model>`: any `/v1/embeddings` server at `CAIRN_EMBEDDING_BASE_URL` (e.g.
 *   http://127.0.0.1:8080/v1), with optional `CAIRN_EMBEDDING_API_KEY`;
 * - `local/<model>` (other than `local/use-lite`): an ONNX sentence-embedding model in `CAIRN_MODELS_DIR` or the
 *   Hugging Face cache (`HF_HUB_CACHE`, `HF_HOME`), see local-onnx.ts.
 */
export type EmbeddingEnv = LocalModelEnv &
  Partial<
    Record<
      | 'OPENAI_API_KEY'
      | 'OPENAI_BASE_URL'
      | 'OPENAI_API_BASE'
      | 'OLLAMA_BASE_URL'
      | 'CAIRN_EMBEDDING_BASE_URL'
      | 'CAIRN_EMBEDDING_API_KEY',
      string
    >
  >;

const OPENAI_DEFAULT_URL = 'https://api.openai.com/v1';
const OLLAMA_DEFAULT_URL = 'http://127.0.0.1:11434';

/** Builds the embedder for a handle; an unknown or unconfigured provider is the caller's 400, never a fallback. */
export class Embedders {
  private readonly cache = new Map<string, Embedder>();

  constructor(private readonly env: EmbeddingEnv = process.env) {}

  get(handle: string): Embedder {
    let embedder = this.cache.get(handle);
    if (!embedder) {
      embedder = this.create(handle);
      this.cache.set(handle, embedder);
    }
    return embedder;
  }

  private create(handle: string): Embedder {
    if (handle === LOCAL_EMBEDDING_HANDLE) return localUseLite();
    const { provider, model } = parseHandle(handle, 'embedding');
    if (provider === 'local') return localOnnx(handle, model, this.env);
    const dim = KNOWN_EMBEDDING_MODELS[handle]?.dimension ?? undefined;
    switch (provider) {
      case 'openai':
        if (!this.env.OPENAI_API_KEY) throw unconfigured(handle, 'OPENAI_API_KEY');
        return openAiEmbedder(
          handle,
          model,
          {
            baseUrl: this.env.OPENAI_BASE_URL || this.env.OPENAI_API_BASE || OPENAI_DEFAULT_URL,
            apiKey: this.env.OPENAI_API_KEY,
          },
          dim,
        );
      case 'openai-compatible':
        if (!this.env.CAIRN_EMBEDDING_BASE_URL) throw unconfigured(handle, 'CAIRN_EMBEDDING_BASE_URL');
        return openAiEmbedder(
          handle,
          model,
          { baseUrl: this.env.CAIRN_EMBEDDING_BASE_URL, apiKey: this.env.CAIRN_EMBEDDING_API_KEY },
          dim,
        );
      case 'ollama':
        return ollamaEmbedder(handle, model, this.env.OLLAMA_BASE_URL || OLLAMA_DEFAULT_URL, dim);
      default:
        throw badRequest(
          `Unknown embedding provider '${provider}' in handle '${handle}': use local/use-lite, local/<model>, openai/…, ollama/… or openai-compatible/…`,
        );
    }
  }

  /**
   * Handles usable right now: USE-lite always, installed local ONNX models, remote ones whose provider is configured
   * and answering.
   */
  async usable(): Promise<string[]> {
    const handles = [LOCAL_EMBEDDING_HANDLE, ...installedLocalModels(this.env)];
    if (this.env.OPENAI_API_KEY)
      handles.push(...Object.keys(KNOWN_EMBEDDING_MODELS).filter((h) => h.startsWith('openai/')));
    const [ollama, compatible] = await Promise.all([
      this.env.OLLAMA_BASE_URL
        ? listRemoteModels(`${this.env.OLLAMA_BASE_URL.replace(/\/+$/, '')}/api/tags`, {}, (body) =>
            // Ollama does not mark embedding models; its embedding families are BERT-style encoders.
            ((body as { models?: { name?: string; details?: { family?: string } }[] } | null)?.models ?? [])
              .filter((m) => /embed|bert|minilm|bge|e5|gte/i.test(`${m?.name} ${m?.details?.family ?? ''}`))
              .map((m) => `ollama/${String(m.name).replace(/:latest$/, '')}`),
          )
        : [],
      this.env.CAIRN_EMBEDDING_BASE_URL
        ? listRemoteModels(
            `${this.env.CAIRN_EMBEDDING_BASE_URL.replace(/\/+$/, '')}/models`,
            this.env.CAIRN_EMBEDDING_API_KEY ? { authorization: `Bearer ${this.env.CAIRN_EMBEDDING_API_KEY}` } : {},
            (body) =>
              ((body as { data?: { id?: string }[] } | null)?.data ?? []).map(
                (m) => `openai-compatible/${String(m.id)}`,
              ),
          )
        : [],
    ]);
    return [...handles, ...ollama, ...compatible];
  }
}

function unconfigured(handle: string, variable: string): EmbedderUnavailable {
  return new EmbedderUnavailable(`Embedding handle '${handle}' is not usable: ${variable} is not set`);
}
