import { describe, expect, it } from 'vitest';
import { diffLines } from '../../web/src/diff.js';

const render = (before: string, after: string) =>
  diffLines(before, after).map((l) => `${l.kind === 'added' ? '+' : l.kind === 'removed' ? '-' : ' '}${l.text}`);

describe("the inspector's history diff", () => {
  it('keeps common lines and shows removals before additions', () => {
    expect(
      render('Name: Ada\nLikes tea\nLives in London', 'Name: Ada\nLikes coffee\nLives in London\nHas a cat'),
    ).toEqual([' Name: Ada', '-Likes tea', '+Likes coffee', ' Lives in London', '+Has a cat']);
  });

  it('diffs from nothing (a first version) and to nothing', () => {
    expect(render('', 'a\nb')).toEqual(['-', '+a', '+b']);
    expect(render('a', 'a')).toEqual([' a']);
  });

  it('shows very long values whole on both sides instead of building a huge table', () => {
    const long = Array.from({ length: 2001 }, (_, i) => `line ${i}`).join('\n');
    const lines = diffLines(long, `${long}\nmore`);
    expect(lines.filter((l) => l.kind === 'removed')).toHaveLength(2001);
    expect(lines.filter((l) => l.kind === 'added')).toHaveLength(2002);
  });
});
