import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Embedder } from './types.js';
import { EmbedderUnavailable } from './unavailable.js';
import { WordPieceTokenizer } from './wordpiece.js';
import { EmbeddingWorkerPool } from './worker-pool.js';

const require = createRequire(import.meta.url);

/** Where `local/<model>` handles look for their model, from the environment. */
export type LocalModelEnv = Partial<Record<'CAIRN_MODELS_DIR' | 'CAIRN_HOME' | 'HF_HUB_CACHE' | 'HF_HOME', string>>;

/** ONNX files of a sentence-transformers export, best first (the full-precision graph before a quantized one). */
const ONNX_FILES = ['onnx/model.onnx', 'model.onnx', 'onnx/model_quantized.onnx', 'model_quantized.onnx'];
/** BERT-family position limit when neither the config nor the tokenizer says. */
const DEFAULT_MAX_TOKENS = 512;

export interface LocalModel {
  dir: string;
  onnx: string;
  tokenizer: WordPieceTokenizer;
  pooling: 'mean' | 'cls';
}

function modelsDir(env: LocalModelEnv): string {
  return env.CAIRN_MODELS_DIR || join(env.CAIRN_HOME || join(homedir(), '.cairn'), 'models');
}

function hubDir(env: LocalModelEnv): string {
  return env.HF_HUB_CACHE || join(env.HF_HOME || join(homedir(), '.cache', 'huggingface'), 'hub');
}

/** A Hugging Face cache snapshot of `model` ("org/name", or "name" of any org): the one `refs/main` names, else the newest. */
function hubSnapshot(env: LocalModelEnv, model: string): string | undefined {
  const hub = hubDir(env);
  if (!existsSync(hub)) return undefined;
  const wanted = model.includes('/') ? [`models--${model.replace('/', '--')}`] : [];
  const repos = model.includes('/')
    ? wanted
    : readdirSync(hub).filter((name) => name.startsWith('models--') && name.endsWith(`--${model}`));
  for (const repo of repos) {
    const snapshots = join(hub, repo, 'snapshots');
    if (!existsSync(snapshots)) continue;
    const ref = join(hub, repo, 'refs', 'main');
    const main = existsSync(ref) ? readFileSync(ref, 'utf8').trim() : undefined;
    if (main && existsSync(join(snapshots, main))) return join(snapshots, main);
    const [newest] = readdirSync(snapshots, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
    if (newest) return join(snapshots, newest);
  }
  return undefined;
}

function readJson<T>(path: string): T | undefined {
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as T) : undefined;
}

/**
 * The files of `local/<model>`: `$CAIRN_MODELS_DIR/<model>` (default `~/.cairn/models/<model>`), else the Hugging
 * Face cache. Nothing is ever downloaded; a missing model is an `EmbedderUnavailable` naming where to put it.
 */
export function findLocalModel(model: string, env: LocalModelEnv): LocalModel {
  const own = join(modelsDir(env), model);
  const dir = existsSync(own) ? own : (hubSnapshot(env, model) ?? own);
  const onnx = ONNX_FILES.map((f) => join(dir, f)).find((f) => existsSync(f));
  const tokenizerPath = join(dir, 'tokenizer.json');
  if (!onnx || !existsSync(tokenizerPath)) {
    throw new EmbedderUnavailable(
      `Embedding model 'local/${model}' is not installed: put its ONNX export (tokenizer.json and onnx/model.onnx, as sentence-transformers publishes them) in ${own}, or in the Hugging Face cache (${hubDir(env)}); nothing is downloaded`,
    );
  }
  const config = readJson<{ max_position_embeddings?: number }>(join(dir, 'config.json')) ?? {};
  const tokenizerConfig = readJson<{ model_max_length?: number }>(join(dir, 'tokenizer_config.json')) ?? {};
  const json = readJson<{ truncation?: { max_length?: number } | null }>(tokenizerPath)!;
  const limits = [config.max_position_embeddings, tokenizerConfig.model_max_length, json.truncation?.max_length].filter(
    (n): n is number => typeof n === 'number' && n > 2 && n < 1e6,
  );
  let tokenizer: WordPieceTokenizer;
  try {
    tokenizer = new WordPieceTokenizer(json, limits.length ? Math.min(...limits) : DEFAULT_MAX_TOKENS);
  } catch (error) {
    throw new EmbedderUnavailable(
      `Embedding model 'local/${model}' in ${dir} cannot be used: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  // sentence-transformers' pooling module says CLS (bge) or mean (MiniLM, e5, nomic); mean when absent.
  const pooling = readJson<{ pooling_mode_cls_token?: boolean }>(join(dir, '1_Pooling', 'config.json'));
  return { dir, onnx, tokenizer, pooling: pooling?.pooling_mode_cls_token ? 'cls' : 'mean' };
}

/** `local/<name>` handles of the models installed in the models folder (the Hugging Face cache is not listed). */
export function installedLocalModels(env: LocalModelEnv): string[] {
  const dir = modelsDir(env);
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter(
      (d) =>
        d.isDirectory() &&
        existsSync(join(dir, d.name, 'tokenizer.json')) &&
        ONNX_FILES.some((f) => existsSync(join(dir, d.name, f))),
    )
    .map((d) => `local/${d.name}`);
}

/**
 * The worker (worker-pool.ts): onnxruntime-node on one intra-op thread per worker (two workers share the two
 * cores). It takes token ids, feeds the inputs the graph declares, and pools the last hidden state as the model
 * was trained (mean over the attention mask, or the CLS token); a graph that outputs `sentence_embedding` is
 * taken as it is. Vectors are L2-normalised by the pool.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const ort = require(workerData.ort);
const ready = ort.InferenceSession.create(workerData.onnx, { intraOpNumThreads: 1, interOpNumThreads: 1, executionProviders: ['cpu'] });
parentPort.on('message', async ({ id, input }) => {
  try {
    const session = await ready;
    const rows = input.ids;
    const batch = rows.length;
    const length = Math.max(...rows.map((r) => r.length));
    const ids = new BigInt64Array(batch * length);
    const mask = new BigInt64Array(batch * length);
    rows.forEach((row, b) => row.forEach((token, i) => { ids[b * length + i] = BigInt(token); mask[b * length + i] = 1n; }));
    const shape = [batch, length];
    const feeds = {};
    for (const name of session.inputNames) {
      if (name === 'input_ids') feeds[name] = new ort.Tensor('int64', ids, shape);
      else if (name === 'attention_mask') feeds[name] = new ort.Tensor('int64', mask, shape);
      else if (name === 'token_type_ids') feeds[name] = new ort.Tensor('int64', new BigInt64Array(batch * length), shape);
      else throw new Error('unexpected model input ' + name);
    }
    const out = await session.run(feeds);
    let flat, dim;
    if (out.sentence_embedding) {
      dim = out.sentence_embedding.dims[1];
      flat = Float32Array.from(out.sentence_embedding.data);
    } else {
      const hidden = out.last_hidden_state || out[session.outputNames[0]];
      dim = hidden.dims[2];
      const data = hidden.data;
      flat = new Float32Array(batch * dim);
      for (let b = 0; b < batch; b++) {
        const n = workerData.pooling === 'cls' ? 1 : rows[b].length;
        for (let t = 0; t < n; t++) {
          const at = (b * length + t) * dim;
          for (let d = 0; d < dim; d++) flat[b * dim + d] += data[at + d] / n;
        }
      }
    }
    parentPort.postMessage({ id, flat, dim }, [flat.buffer]);
  } catch (error) {
    parentPort.postMessage({ id, error: String(error && error.stack || error) });
  }
});
`;

/** One pool per model file, shared by every Cairn instance in the process. */
const pools = new Map<string, EmbeddingWorkerPool<{ ids: number[][] }>>();

function onnxRuntime(): string {
  try {
    return require.resolve('onnxruntime-node');
  } catch {
    throw new EmbedderUnavailable(
      "Local ONNX embedding models need the optional dependency 'onnxruntime-node', which is not installed",
    );
  }
}

/** `local/<model>`: a sentence-embedding ONNX model from a local folder, run offline in worker threads. */
export function localOnnx(handle: string, model: string, env: LocalModelEnv): Embedder {
  const found = findLocalModel(model, env);
  const ort = onnxRuntime();
  let pool = pools.get(found.onnx);
  if (!pool) {
    pool = new EmbeddingWorkerPool(
      {
        source: WORKER_SOURCE,
        workerData: { ort, onnx: found.onnx, pooling: found.pooling },
        slice: (input, start, end) => ({ ids: input.ids.slice(start, end) }),
        size: (input) => input.ids.length,
      },
      `${handle} embedding`,
    );
    pools.set(found.onnx, pool);
  }
  const shared = pool;
  return {
    handle,
    dim: undefined,
    // Tokenising reads at most the model's length of each text: microseconds a text, so it stays here.
    embed: (texts) => shared.embed({ ids: texts.map((t) => found.tokenizer.encode(t).ids) }),
  };
}
