/**
 * Hamming distances from one query code to every code of an archive, for SQLite's vector prefilter
 * (sqlite-vector-index.ts). In JS the scan costs 4–9 ms per 100k codes of 512 bits; a WebAssembly SIMD kernel
 * (xor and popcount 16 bytes at a time) takes about 0.55 ms (bench/archival/hamming.mjs). The codes live in the kernel's linear
 * memory from the start, so a query copies only its own code in. Codes whose length is not a multiple of 128
 * bits, and runtimes without WASM SIMD, use the JS loop, which gives identical distances.
 */

/**
 * The kernel, assembled by `assemble` below (flat instructions, one per line, `$names` for locals and labels).
 * Memory: `count` codes of `chunks` × 16 bytes from `codes`, the query's code at `query`; one u16 distance per
 * code is written from `out`.
 */
const HAMMING_WAT = `
(module
  (import "env" "memory" (memory 0))
  (func (export "hamming") (param $codes i32) (param $count i32) (param $query i32) (param $out i32) (param $chunks i32)
    (local $stride i32) (local $end i32) (local $c i32) (local $blockEnd i32) (local $sum8 v128) (local $sum16 v128) (local $sum32 v128)
    local.get $chunks
    i32.const 4
    i32.shl
    local.set $stride
    local.get $codes
    local.get $count
    local.get $stride
    i32.mul
    i32.add
    local.set $end
    block $done
      local.get $count
      i32.eqz
      br_if $done
      loop $code
        i32.const 0
        i8x16.splat
        local.set $sum16
        i32.const 0
        local.set $c
        loop $block
          ;; Byte lanes count at most 8 per chunk: widen to 16 bits every 31 chunks (248 ≤ 255), before they wrap.
          local.get $c
          i32.const 496
          i32.add
          local.tee $blockEnd
          local.get $stride
          local.get $blockEnd
          local.get $stride
          i32.lt_u
          select
          local.set $blockEnd
          i32.const 0
          i8x16.splat
          local.set $sum8
          loop $chunk
            local.get $sum8
            local.get $codes
            local.get $c
            i32.add
            v128.load
            local.get $query
            local.get $c
            i32.add
            v128.load
            v128.xor
            i8x16.popcnt
            i8x16.add
            local.set $sum8
            local.get $c
            i32.const 16
            i32.add
            local.tee $c
            local.get $blockEnd
            i32.lt_u
            br_if $chunk
          end
          local.get $sum16
          local.get $sum8
          i16x8.extadd_pairwise_i8x16_u
          i16x8.add
          local.set $sum16
          local.get $c
          local.get $stride
          i32.lt_u
          br_if $block
        end
        local.get $out
        local.get $sum16
        i32x4.extadd_pairwise_i16x8_u
        local.tee $sum32
        i32x4.extract_lane 0
        local.get $sum32
        i32x4.extract_lane 1
        i32.add
        local.get $sum32
        i32x4.extract_lane 2
        i32.add
        local.get $sum32
        i32x4.extract_lane 3
        i32.add
        i32.store16
        local.get $out
        i32.const 2
        i32.add
        local.set $out
        local.get $codes
        local.get $stride
        i32.add
        local.tee $codes
        local.get $end
        i32.ne
        br_if $code
      end
    end
  )
)`;

/** What follows an instruction's name: a label to define or to branch to, a local, an integer, a lane index. */
type Immediate = 'block' | 'label' | 'local' | 'int' | 'lane';

/**
 * The instructions the kernel uses: opcode (SIMD ones after the 0xfd prefix, as LEB128), then their immediate,
 * or for memory instructions the log2 of their natural alignment (the offset is always 0).
 */
const INSTRUCTIONS: Record<string, [number[], Immediate | number | undefined]> = {
  block: [[0x02], 'block'],
  loop: [[0x03], 'block'],
  end: [[0x0b], undefined],
  br_if: [[0x0d], 'label'],
  select: [[0x1b], undefined],
  'local.get': [[0x20], 'local'],
  'local.set': [[0x21], 'local'],
  'local.tee': [[0x22], 'local'],
  'i32.store16': [[0x3b], 1],
  'i32.const': [[0x41], 'int'],
  'i32.eqz': [[0x45], undefined],
  'i32.ne': [[0x47], undefined],
  'i32.lt_u': [[0x49], undefined],
  'i32.add': [[0x6a], undefined],
  'i32.mul': [[0x6c], undefined],
  'i32.shl': [[0x74], undefined],
  'v128.load': [[0xfd, 0x00], 4],
  'i8x16.splat': [[0xfd, 0x0f], undefined],
  'i32x4.extract_lane': [[0xfd, 0x1b], 'lane'],
  'v128.xor': [[0xfd, 0x51], undefined],
  'i8x16.popcnt': [[0xfd, 0x62], undefined],
  'i8x16.add': [[0xfd, 0x6e], undefined],
  'i16x8.extadd_pairwise_i8x16_u': [[0xfd, 0x7d], undefined],
  'i32x4.extadd_pairwise_i16x8_u': [[0xfd, 0x7f], undefined],
  'i16x8.add': [[0xfd, 0x8e, 0x01], undefined],
};
const VALTYPES: Record<string, number> = { i32: 0x7f, v128: 0x7b };

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    const byte = n & 0x7f;
    n >>>= 7;
    out.push(n === 0 ? byte : byte | 0x80);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) return [...out, byte];
    out.push(byte | 0x80);
  }
}

const vector = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, items: number[][]): number[] => {
  const body = vector(items);
  return [id, ...uleb(body.length), ...body];
};
const name = (s: string): number[] => vector([...Buffer.from(s)].map((b) => [b]));

/**
 * Assembles the one shape of module HAMMING_WAT has: an imported memory and one exported function whose body is
 * flat instructions, one per line. Anything else throws, so an edit outside that subset cannot go unnoticed.
 */
function assemble(wat: string): Uint8Array {
  const declarations = [...wat.matchAll(/\((param|local) (\$\w+) (\w+)\)/g)];
  const locals = declarations.map((d) => d[2]!);
  const type = (d: RegExpMatchArray) => VALTYPES[d[3]!] ?? fail(`type ${d[3]}`);
  const params = declarations.filter((d) => d[1] === 'param').map(type);
  const localTypes = declarations.filter((d) => d[1] === 'local').map(type);
  const exported = /\(export "(\w+)"\)/.exec(wat)?.[1] ?? fail('no export');
  const labels: string[] = [];
  const code: number[] = [];
  for (const line of wat.split('\n').map((l) => l.replace(/;;.*/, '').trim())) {
    if (line === '' || line.startsWith('(') || line.startsWith(')')) continue;
    const [op, arg, ...extra] = line.split(/\s+/);
    const [opcode, immediate] = INSTRUCTIONS[op!] ?? fail(line);
    const takesArg = typeof immediate === 'string';
    if (extra.length > 0 || takesArg !== (arg !== undefined)) fail(line);
    code.push(...opcode);
    if (typeof immediate === 'number') code.push(immediate, 0);
    else if (immediate === 'block') {
      code.push(0x40);
      labels.push(arg!);
    } else if (immediate === 'label') code.push(...uleb(labels.length - 1 - labels.lastIndexOf(arg!)));
    else if (immediate === 'local') code.push(...uleb(locals.indexOf(arg!)));
    else if (immediate === 'int') code.push(...sleb(Number(arg)));
    else if (immediate === 'lane') code.push(Number(arg));
    else if (op === 'end') labels.pop();
    if ((immediate === 'label' && !labels.includes(arg!)) || (immediate === 'local' && !locals.includes(arg!)))
      fail(line);
    if ((immediate === 'int' || immediate === 'lane') && !Number.isInteger(Number(arg))) fail(line);
  }
  if (labels.length > 0) fail('unclosed block');
  const body = [...vector(localTypes.map((t) => [1, t])), ...code, 0x0b];
  return Uint8Array.from([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, [[0x60, ...vector(params.map((t) => [t])), 0x00]]),
    ...section(2, [[...name('env'), ...name('memory'), 0x02, 0x00, 0x00]]),
    ...section(3, [[0x00]]),
    ...section(7, [[...name(exported), 0x00, 0x00]]),
    ...section(10, [[...uleb(body.length), ...body]]),
  ]);
}

function fail(what: string): never {
  throw new Error(`hamming kernel: cannot assemble ${what}`);
}

// lib ES2023 has no WebAssembly declarations (they come with lib.dom): the part used here.
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
interface Wasm {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
  Memory: new (descriptor: { initial: number }) => WasmMemory;
}
type Kernel = (codes: number, count: number, query: number, out: number, chunks: number) => void;
const WebAssemblyApi = (globalThis as { WebAssembly?: Wasm }).WebAssembly;

/** `count` codes of `words` 32-bit words, and the query code to measure them against. */
export interface HammingCodes {
  /** Filled by the caller, code i at words [i × words, (i + 1) × words). */
  readonly codes: Uint32Array;
  /** The query's code, written by the caller before `distances`. */
  readonly query: Uint32Array;
  /** The distance from `query` to each code; the array is reused (overwritten) by the next call. */
  distances(): Uint16Array;
}

/**
 * The compiled Hamming kernel: compiled once per instance (a vector prefilter owns one), or null where this runtime
 * cannot compile it (no WebAssembly or no SIMD) and the JS loop serves instead.
 */
export class HammingKernel {
  private readonly module: object | null;

  /** `wasm` false forces the JS loop, for comparison. */
  constructor(wasm = true) {
    this.module = wasm ? compileKernel() : null;
  }

  /** `count` codes of `words` words, in the kernel's memory when it can take them. */
  codes(count: number, words: number): HammingCodes {
    if (this.module && count > 0 && words % 4 === 0) {
      try {
        return new WasmCodes(this.module, count, words);
      } catch {
        // Address space for WebAssembly memories is finite; the JS loop needs none.
      }
    }
    return new JsCodes(count, words);
  }
}

function compileKernel(): object | null {
  try {
    return WebAssemblyApi ? new WebAssemblyApi.Module(assemble(HAMMING_WAT)) : null;
  } catch {
    return null;
  }
}

class WasmCodes implements HammingCodes {
  readonly codes: Uint32Array;
  readonly query: Uint32Array;
  private readonly out: Uint16Array;
  private readonly kernel: Kernel;

  constructor(
    module: object,
    private readonly count: number,
    private readonly words: number,
  ) {
    const codeBytes = count * words * 4;
    const bytes = codeBytes + words * 4 + count * 2;
    // Sized once: a memory that never grows keeps these views valid. Appends build a new one.
    const memory = new WebAssemblyApi!.Memory({ initial: Math.ceil(bytes / 65536) });
    this.kernel = new WebAssemblyApi!.Instance(module, { env: { memory } }).exports.hamming as Kernel;
    this.codes = new Uint32Array(memory.buffer, 0, count * words);
    this.query = new Uint32Array(memory.buffer, codeBytes, words);
    this.out = new Uint16Array(memory.buffer, codeBytes + words * 4, count);
  }

  distances(): Uint16Array {
    this.kernel(0, this.count, this.query.byteOffset, this.out.byteOffset, this.words / 4);
    return this.out;
  }
}

class JsCodes implements HammingCodes {
  readonly codes: Uint32Array;
  readonly query: Uint32Array;
  private readonly out: Uint16Array;

  constructor(
    private readonly count: number,
    private readonly words: number,
  ) {
    this.codes = new Uint32Array(count * words);
    this.query = new Uint32Array(words);
    this.out = new Uint16Array(count);
  }

  distances(): Uint16Array {
    const { codes, query, words, out } = this;
    for (let i = 0, o = 0; i < this.count; i++, o += words) {
      let d = 0;
      for (let w = 0; w < words; w++) d += popcount(codes[o + w]! ^ query[w]!);
      out[i] = d;
    }
    return out;
  }
}

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}
