import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findLocalModel, localOnnx } from '../../src/embedders/local-onnx.js';
import { waitForEmbeddings } from '../support/archival.js';
import { startCairn, testDialects, type TestCairn } from '../support/cairn.js';
import { http } from '../support/http.js';
import { meanUnit, writeTinyModel, type TinyModel } from '../support/tiny-onnx.js';

/**
 * `local/<model>` handles: a sentence-embedding ONNX model from a folder, run by onnxruntime-node in worker
 * threads. The model is one the test builds (tiny-onnx.ts), so the expected vectors are known exactly.
 */
const root = mkdtempSync(join(tmpdir(), 'cairn-onnx-'));
const models = join(root, 'models');
const hub = join(root, 'hub');
let tiny: TinyModel;
let cls: TinyModel;
beforeAll(() => {
  tiny = writeTinyModel(join(models, 'tiny'));
  cls = writeTinyModel(join(models, 'tiny-cls'), 'cls');
  // The Hugging Face cache layout: models--org--name/snapshots/<revision>, refs/main naming the revision.
  const repo = join(hub, 'models--acme--tiny-hub');
  writeTinyModel(join(repo, 'snapshots', 'aaa111'), 'mean', 5);
  writeTinyModel(join(repo, 'snapshots', 'bbb222'), 'mean', 9);
  mkdirSync(join(repo, 'refs'), { recursive: true });
  writeFileSync(join(repo, 'refs', 'main'), 'aaa111\n');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const env = () => ({ CAIRN_MODELS_DIR: models, HF_HUB_CACHE: hub });

describe('local ONNX embedder', () => {
  it('tokenises as BERT, mean-pools over the real tokens and normalises, in batches of mixed lengths', async () => {
    const embedder = localOnnx('local/tiny', 'tiny', env());
    const [cats, dog, unknown] = await embedder.embed(['The CATS sat on the mat.', 'Dog ran!', 'Café zebra']);
    const rows = (tokens: string[]) => ['[CLS]', ...tokens, '[SEP]'].map((t) => tiny.table[tiny.id(t)]!);
    const close = (actual: Float32Array, expected: number[]) =>
      expected.forEach((v, i) => expect(actual[i]).toBeCloseTo(v, 5));
    close(cats!, meanUnit(rows(['the', 'cat', '##s', 'sat', 'on', 'the', 'mat', '.'])));
    // Padding of the shorter rows in the batch does not count.
    close(dog!, meanUnit(rows(['dog', 'ran', '!'])));
    // Accents stripped after lower-casing; an unknown word is one [UNK].
    close(unknown!, meanUnit(rows(['cafe', '[UNK]'])));
    expect(Math.hypot(...cats!)).toBeCloseTo(1, 5);
    const [alone] = await embedder.embed(['Dog ran!']);
    close(alone!, Array.from(dog!));
  });

  it('truncates to the model length and pools the CLS token when the model says so', async () => {
    const long = Array.from({ length: 40 }, () => 'cat').join(' ');
    const [truncated] = await localOnnx('local/tiny', 'tiny', env()).embed([long]);
    // max_position_embeddings 16: [CLS], 14 tokens, [SEP].
    const expected = meanUnit([
      tiny.table[tiny.id('[CLS]')]!,
      ...Array.from({ length: 14 }, () => tiny.table[tiny.id('cat')]!),
      tiny.table[tiny.id('[SEP]')]!,
    ]);
    expected.forEach((v, i) => expect(truncated![i]).toBeCloseTo(v, 5));
    const [a, b] = await localOnnx('local/tiny-cls', 'tiny-cls', env()).embed(['the cat', 'a dog ran']);
    const clsRow = meanUnit([cls.table[cls.id('[CLS]')]!]);
    clsRow.forEach((v, i) => {
      expect(a![i]).toBeCloseTo(v, 5);
      expect(b![i]).toBeCloseTo(v, 5);
    });
  });

  it('finds a model in the Hugging Face cache by org/name or by name, at the revision refs/main names', () => {
    expect(findLocalModel('acme/tiny-hub', env()).dir).toBe(join(hub, 'models--acme--tiny-hub', 'snapshots', 'aaa111'));
    expect(findLocalModel('tiny-hub', env()).dir).toBe(join(hub, 'models--acme--tiny-hub', 'snapshots', 'aaa111'));
    expect(() => findLocalModel('nowhere', env())).toThrow(`put its ONNX export`);
    expect(() => findLocalModel('nowhere', env())).toThrow(join(models, 'nowhere'));
  });
});

describe.each(testDialects())('local ONNX models through the API [%s]', (dialect) => {
  let server: TestCairn;
  beforeAll(async () => {
    server = await startCairn(dialect, {}, env());
  });
  afterAll(() => server.close());
  const search = (agentId: string, query: string, mode: string) =>
    http(
      'GET',
      `${server.baseURL}/v1/agents/${agentId}/archival-memory/search?${new URLSearchParams({ query, mode, top_k: '2' })}`,
    );

  it('lists installed models, embeds passages in the background and searches their vectors', async () => {
    const handles = (await server.client.models.embeddings.list()).map((m) => m.handle);
    expect(handles).toEqual(expect.arrayContaining(['local/use-lite', 'local/tiny', 'local/tiny-cls']));
    const agent = await server.client.agents.create({
      name: 'Tiny',
      include_base_tools: false,
      embedding: 'local/tiny',
    });
    await server.client.agents.passages.create(agent.id, { text: 'the cat sat on the mat' });
    await server.client.agents.passages.create(agent.id, { text: 'dog ran' });
    await waitForEmbeddings(server, agent.id);
    const rows = await server.cairn.dialect.db.selectFrom('passage_vectors').select(['model', 'dim']).execute();
    expect(rows.filter((r) => r.model === 'local/tiny').map((r) => Number(r.dim))).toEqual([8, 8]);
    const found = await search(agent.id, 'cats on mats', 'vector');
    expect(found.status).toBe(200);
    expect(found.body.results[0].content).toBe('the cat sat on the mat');
  });

  it('answers a missing model with a 400 naming its folder; hybrid search falls back to full text', async () => {
    const agent = await server.client.agents.create({
      name: 'Missing',
      include_base_tools: false,
      embedding: 'local/not-installed',
    });
    await server.client.agents.passages.create(agent.id, { text: 'the launch code is tulip' });
    const vector = await search(agent.id, 'launch code', 'vector');
    expect(vector.status).toBe(400);
    expect(vector.body.detail).toContain(join(models, 'not-installed'));
    const hybrid = await search(agent.id, 'launch code', 'hybrid');
    expect(hybrid.status).toBe(200);
    expect(hybrid.body.results.map((r: { content: string }) => r.content)).toEqual(['the launch code is tulip']);
    expect(hybrid.headers.get('x-cairn-search-fallback')).toContain("'local/not-installed' is not installed");
  });
});
