/**
 * Per-query trust between the full-text and the vector channel of a hybrid search. Pure: it reads the two
 * channels' ranked lists (with their scores) and says whether the vector channel's best answer should lead the
 * fused ranking.
 *
 * Weighted reciprocal rank fusion favours full text, because conversational memories are mostly asked about in
 * their own words (LoCoMo). A search phrased in other words breaks that: full text then ranks memories that share an
 * incidental word ("the roast chicken was dry" for "how long should the roast stay in the oven?") and RRF puts them
 * first, however clearly the vector channel prefers another memory. Two signals tell the cases apart per query:
 *
 * - lexical strength: the best full-text score as a share of the query's ceiling, the BM25 score of a passage
 *   holding every query term once at average length (Σ idf). A passage matching the query's rare words scores
 *   near 1; one matching a single incidental word scores a fraction.
 * - vector margin: how far the vector channel's best cosine stands above its `marginRank`-th (a clear winner, not
 *   the top of a flat crowd), and whether the vector channel also sees the full-text winner among its own best.
 *
 * When the vector channel has a clear winner and full text has only a weak match (or a winner the vector channel
 * does not rate), the vector winner leads; the rest of the fused order is kept. docs/benchmarks.md ("Retrieval
 * that finds meaning") has the measurements on LoCoMo and on Cairn's paraphrase set.
 */

export interface Scored {
  seq: number;
  score: number;
}

export interface ChannelEvidence {
  /** Full-text hits, best first; scores are BM25. */
  lexical: readonly Scored[];
  /** Σ idf of the query's terms (see above); undefined when the engine's own full-text index ranked. */
  lexicalCeiling: number | undefined;
  /** Vector hits, best first; scores are cosine similarities. */
  vector: readonly Scored[];
}

export const TRUST = {
  /** Cosine lead of the vector winner over the vector channel's `marginRank`-th hit that makes it a clear winner. */
  leadMargin: 0.08,
  marginRank: 5,
  /** Lexical strength from which a full-text winner holds the lead against a clear vector winner… */
  strongLexical: 0.7,
  /** …unless the vector channel does not rank that full-text winner among its best this many. */
  agreementDepth: 20,
};

export interface Trust {
  /** The best full-text score over the query's ceiling (1 when the ceiling is unknown); 0 without a full-text hit. */
  lexicalStrength: number;
  /** The vector winner's cosine lead over the `marginRank`-th hit; 0 with fewer hits than that. */
  vectorMargin: number;
  /** The passage that should lead the fused ranking, when the vector channel's winner should. */
  vectorLead: number | undefined;
}

export function assessTrust({ lexical, lexicalCeiling, vector }: ChannelEvidence): Trust {
  const best = lexical[0];
  const lexicalStrength = !best ? 0 : lexicalCeiling ? best.score / lexicalCeiling : 1;
  const winner = vector[0];
  const reference = vector[TRUST.marginRank - 1];
  const vectorMargin = winner && reference ? winner.score - reference.score : 0;
  let vectorLead: number | undefined;
  if (winner && best && winner.seq !== best.seq && vectorMargin > TRUST.leadMargin) {
    const rated = vector.slice(0, TRUST.agreementDepth).some((hit) => hit.seq === best.seq);
    if (lexicalStrength < TRUST.strongLexical || !rated) vectorLead = winner.seq;
  }
  return { lexicalStrength, vectorMargin, vectorLead };
}

/** `scores` with `seq` moved to the top (just above the best), everything else in its order. */
export function promote<T extends Scored>(scores: T[], seq: number): T[] {
  let top = 0;
  for (const s of scores) if (s.score > top) top = s.score;
  return scores.map((s) => (s.seq === seq ? { ...s, score: top * (1 + 1e-6) + Number.EPSILON } : s));
}
