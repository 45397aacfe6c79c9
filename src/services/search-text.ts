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

const MONTHS = [
  'january',
  'february',
  'march',
  'april',
  'may',
  'june',
  'july',
  'august',
  'september',
  'october',
  'november',
  'december',
];
/** First and last month (0-based, the last may run into the next year) of each season, northern hemisphere. */
const SEASONS: Record<string, [number, number]> = {
  spring: [2, 4],
  summer: [5, 7],
  autumn: [8, 10],
  fall: [8, 10],
  winter: [11, 13],
};
const MONTH = MONTHS.join('|');
const YEAR = '((?:19|20)\\d\\d)';
const DAY = '(\\d{1,2})(?:st|nd|rd|th)?';

/** Matchers from the most to the least precise; each returns [first day, day after the last] as UTC ms. */
const PERIODS: [RegExp, (m: RegExpMatchArray) => [number, number] | undefined][] = [
  [
    new RegExp(`\\b${DAY}\\s+(?:of\\s+)?(${MONTH}),?\\s+${YEAR}\\b`, 'g'),
    (m) => oneDay(Number(m[3]), MONTHS.indexOf(m[2]!), Number(m[1])),
  ],
  [
    new RegExp(`\\b(${MONTH})\\s+${DAY},?\\s+${YEAR}\\b`, 'g'),
    (m) => oneDay(Number(m[3]), MONTHS.indexOf(m[1]!), Number(m[2])),
  ],
  [
    new RegExp(`\\b(${MONTH}),?\\s+(?:of\\s+)?${YEAR}\\b`, 'g'),
    (m) => [Date.UTC(Number(m[2]), MONTHS.indexOf(m[1]!), 1), Date.UTC(Number(m[2]), MONTHS.indexOf(m[1]!) + 1, 1)],
  ],
  [
    new RegExp(`\\b(spring|summer|autumn|fall|winter)\\s+(?:of\\s+)?${YEAR}\\b`, 'g'),
    (m) => {
      const [first, last] = SEASONS[m[1]!]!;
      return [Date.UTC(Number(m[2]), first, 1), Date.UTC(Number(m[2]), last + 1, 1)];
    },
  ],
  [new RegExp(`\\b${YEAR}\\b`, 'g'), (m) => [Date.UTC(Number(m[1]), 0, 1), Date.UTC(Number(m[1]) + 1, 0, 1)]],
];

function oneDay(year: number, month: number, day: number): [number, number] | undefined {
  const start = Date.UTC(year, month, day);
  return new Date(start).getUTCDate() === day ? [start, start + 86_400_000] : undefined;
}

/**
 * The calendar period a query names ("in August 2023", "on 25 May, 2022", "summer 2021", "in 2022"), as
 * inclusive naive dates; several periods give the span covering them all. `laterDays` extends the end: memories
 * report events after they happen ("last Friday I…"). Periods without a year ("in June") are left out: which
 * June is ambiguous.
 */
export function queryPeriod(text: string, laterDays = 0): { start: string; end: string } | undefined {
  const lower = text.toLowerCase();
  const taken: [number, number][] = [];
  let start = Infinity;
  let end = -Infinity;
  for (const [pattern, period] of PERIODS) {
    for (const m of lower.matchAll(pattern)) {
      const at = m.index!;
      // "May 2022" inside "25 May, 2022" is the same mention, already read more precisely.
      if (taken.some(([a, b]) => at < b && at + m[0].length > a)) continue;
      const found = period(m);
      if (!found) continue;
      taken.push([at, at + m[0].length]);
      start = Math.min(start, found[0]);
      end = Math.max(end, found[1]);
    }
  }
  if (start === Infinity) return undefined;
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  return { start: day(start), end: day(end + (laterDays - 1) * 86_400_000) };
}
