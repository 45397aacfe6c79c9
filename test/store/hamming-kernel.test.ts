import { describe, expect, it } from 'vitest';
import { HammingKernel } from '../../src/search/hamming-kernel.js';

describe('hamming kernel', () => {
  let seed = 1;
  const word = () => {
    // xorshift32: reproducible and fast enough for a few hundred thousand words.
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return seed >>> 0;
  };

  // 4096 and 8192 bits pass 31 chunks, where the kernel's byte lanes must be widened before they wrap.
  it.each([128, 512, 768, 1024, 1536, 3072, 4096, 8192, 96])('WASM and JS distances agree for %i-bit codes', (bits) => {
    const words = bits / 32;
    const count = 257;
    const wasm = new HammingKernel().codes(count, words);
    const js = new HammingKernel(false).codes(count, words);
    expect(wasm.constructor.name).toBe(words % 4 === 0 ? 'WasmCodes' : 'JsCodes');
    for (let i = 0; i < count * words; i++) wasm.codes[i] = js.codes[i] = word();
    // Extremes too: a code identical to the query (0) and its complement (every bit differs).
    for (let w = 0; w < words; w++) {
      wasm.query[w] = js.query[w] = word();
      wasm.codes[w] = js.codes[w] = js.query[w]!;
      wasm.codes[words + w] = js.codes[words + w] = ~js.query[w]! >>> 0;
    }
    const expected = Array.from(js.distances());
    expect(expected[0]).toBe(0);
    expect(expected[1]).toBe(bits);
    expect(Array.from(wasm.distances())).toEqual(expected);
    // A second query on the same codes: only the query changes between scans.
    for (let w = 0; w < words; w++) wasm.query[w] = js.query[w] = word();
    expect(Array.from(wasm.distances())).toEqual(Array.from(js.distances()));
  });
});
