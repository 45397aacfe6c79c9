/**
 * Query processing shared by archival and recall search: lower-cased word tokens without stop words. The
 * engines stem (FTS5 porter / PostgreSQL `english`); dropping stop words here keeps BM25's OR-query from
 * ranking by "the" and "did".
 */
const STOP_WORDS = new Set(
  (
    'a about after again all am an and any are as at be because been before being between both but by can could did do does doing down ' +
    'during each few for from further had has have having he her here hers herself him himself his how i if in into is it its itself ' +
    'just me more most my myself no nor not now of off on once only or other our ours ourselves out over own same she should so some ' +
    'such than that the their theirs them themselves then there these they this those through to too under until up very was we were ' +
    'what when where which while who whom why will with would you your yours yourself yourselves s t'
  ).split(' '),
);

/** A query is a question, not a document: beyond this many distinct terms the rest add cost, not recall. */
const MAX_TERMS = 64;

/** Lower-cased word tokens of `text`, in order, stop words removed (all of them kept if nothing else is left). */
export function queryTerms(text: string): string[] {
  const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  const content = words.filter((w) => !STOP_WORDS.has(w));
  return [...new Set(content.length > 0 ? content : words)].slice(0, MAX_TERMS);
}

/** Weighted reciprocal rank fusion: Σ wᵢ / (k + rankᵢ), ranks from 1. */
export function fuseRanks(lists: { weight: number; seqs: number[] }[], k = 60): Map<number, number> {
  const scores = new Map<number, number>();
  for (const { weight, seqs } of lists) {
    seqs.forEach((seq, index) => scores.set(seq, (scores.get(seq) ?? 0) + weight / (k + index + 1)));
  }
  return scores;
}
