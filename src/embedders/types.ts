/** Turns texts into vectors of one model. Vectors are L2-normalised, so cosine distance is 1 − dot product. */
export interface Embedder {
  /** The `provider/model` handle; stored with every vector this embedder makes. */
  readonly handle: string;
  /** Known up front for known models; otherwise learned from the first vector and checked on every later one. */
  readonly dim: number | undefined;
  embed(texts: string[]): Promise<Float32Array[]>;
}

/** An embedding request that failed (provider down, bad key, unexpected reply). Passages stay queued and retry. */
export class EmbeddingError extends Error {
  override readonly name = 'EmbeddingError';
}

export function normalise(values: ArrayLike<number>): Float32Array {
  const vector = Float32Array.from(values);
  let norm = 0;
  for (const v of vector) norm += v * v;
  norm = Math.sqrt(norm);
  if (!Number.isFinite(norm) || norm === 0) throw new EmbeddingError('embedding is all zeros or not finite');
  for (let i = 0; i < vector.length; i++) vector[i]! /= norm;
  return vector;
}
