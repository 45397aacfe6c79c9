import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A tiny sentence-embedding model in the layout sentence-transformers publishes (tokenizer.json, config.json,
 * onnx/model.onnx, optionally 1_Pooling/config.json), built here byte by byte: the ONNX graph is one Gather of a
 * token embedding table (`last_hidden_state[b, t] = table[input_ids[b, t]]`), so a test can compute exactly what
 * mean or CLS pooling must give.
 */

// ---- protobuf encoding (just what ModelProto needs) ---------------------------------------------------------
function varint(value: number | bigint): number[] {
  let v = BigInt(value);
  const out: number[] = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out.push(byte);
  } while (v > 0n);
  return out;
}
const tag = (field: number, wire: number) => varint((field << 3) | wire);
const int = (field: number, value: number) => [...tag(field, 0), ...varint(value)];
const bytes = (field: number, data: Uint8Array | number[]) => [...tag(field, 2), ...varint(data.length), ...data];
const str = (field: number, text: string) => bytes(field, [...Buffer.from(text, 'utf8')]);
const msg = (field: number, parts: number[]) => bytes(field, parts);

const FLOAT = 1;
const INT64 = 7;

function valueInfo(field: number, name: string, elemType: number, dims: (number | string)[]): number[] {
  const shape = dims.flatMap((d) => msg(1, typeof d === 'number' ? int(1, d) : str(2, d)));
  return msg(field, [...str(1, name), ...msg(2, msg(1, [...int(1, elemType), ...msg(2, shape)]))]);
}

function gatherModel(table: Float32Array, vocab: number, dim: number): Uint8Array {
  const raw = new Uint8Array(table.buffer, table.byteOffset, table.byteLength);
  const initializer = msg(5, [
    ...int(1, vocab),
    ...int(1, dim),
    ...int(2, FLOAT),
    ...str(8, 'embeddings'),
    ...bytes(9, raw),
  ]);
  const node = msg(1, [
    ...str(1, 'embeddings'),
    ...str(1, 'input_ids'),
    ...str(2, 'last_hidden_state'),
    ...str(4, 'Gather'),
  ]);
  const graph = [
    ...node,
    ...str(2, 'tiny'),
    ...initializer,
    ...valueInfo(11, 'input_ids', INT64, ['batch', 'sequence']),
    ...valueInfo(11, 'attention_mask', INT64, ['batch', 'sequence']),
    ...valueInfo(11, 'token_type_ids', INT64, ['batch', 'sequence']),
    ...valueInfo(12, 'last_hidden_state', FLOAT, ['batch', 'sequence', dim]),
  ];
  return Uint8Array.from([
    ...int(1, 8),
    ...str(2, 'cairn-test'),
    ...msg(7, graph),
    ...msg(8, [...str(1, ''), ...int(2, 13)]),
  ]);
}

export const TINY_VOCAB = [
  '[PAD]',
  '[UNK]',
  '[CLS]',
  '[SEP]',
  'the',
  'cat',
  'dog',
  'sat',
  'ran',
  'on',
  'mat',
  '##s',
  '.',
  '!',
  'cafe',
];
export const TINY_DIM = 8;

export interface TinyModel {
  dir: string;
  /** The token embedding table, row per vocabulary entry. */
  table: Float32Array[];
  id(token: string): number;
}

/** Writes the model into `dir` (created); `pooling: 'cls'` adds sentence-transformers' pooling config. */
export function writeTinyModel(dir: string, pooling: 'mean' | 'cls' = 'mean', seed = 3): TinyModel {
  let rng = seed;
  const random = () => {
    rng = (rng * 1103515245 + 12345) % 2 ** 31;
    return rng / 2 ** 31 - 0.5;
  };
  const flat = Float32Array.from({ length: TINY_VOCAB.length * TINY_DIM }, random);
  mkdirSync(join(dir, 'onnx'), { recursive: true });
  writeFileSync(join(dir, 'onnx', 'model.onnx'), gatherModel(flat, TINY_VOCAB.length, TINY_DIM));
  writeFileSync(
    join(dir, 'tokenizer.json'),
    JSON.stringify({
      version: '1.0',
      truncation: null,
      normalizer: {
        type: 'BertNormalizer',
        clean_text: true,
        handle_chinese_chars: true,
        strip_accents: null,
        lowercase: true,
      },
      pre_tokenizer: { type: 'BertPreTokenizer' },
      post_processor: { type: 'BertProcessing', sep: ['[SEP]', 3], cls: ['[CLS]', 2] },
      model: {
        type: 'WordPiece',
        unk_token: '[UNK]',
        continuing_subword_prefix: '##',
        max_input_chars_per_word: 100,
        vocab: Object.fromEntries(TINY_VOCAB.map((t, i) => [t, i])),
      },
    }),
  );
  writeFileSync(
    join(dir, 'config.json'),
    JSON.stringify({ model_type: 'bert', hidden_size: TINY_DIM, max_position_embeddings: 16 }),
  );
  if (pooling === 'cls') {
    mkdirSync(join(dir, '1_Pooling'), { recursive: true });
    writeFileSync(
      join(dir, '1_Pooling', 'config.json'),
      JSON.stringify({
        word_embedding_dimension: TINY_DIM,
        pooling_mode_cls_token: true,
        pooling_mode_mean_tokens: false,
      }),
    );
  }
  const table = TINY_VOCAB.map((_, i) => flat.slice(i * TINY_DIM, (i + 1) * TINY_DIM));
  return { dir, table, id: (token) => TINY_VOCAB.indexOf(token) };
}

/** The unit vector of the mean of `rows`. */
export function meanUnit(rows: Float32Array[]): number[] {
  const mean = Array.from({ length: rows[0]!.length }, (_, d) => rows.reduce((s, r) => s + r[d]!, 0) / rows.length);
  const norm = Math.hypot(...mean);
  return mean.map((v) => v / norm);
}
