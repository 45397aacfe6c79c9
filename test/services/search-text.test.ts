import { describe, expect, it } from 'vitest';
import { queryPeriod } from '../../src/services/search-text.js';

describe('queryPeriod', () => {
  it('reads a day, a month, a season or a year, as inclusive naive dates', () => {
    expect(queryPeriod('What did Nate do for Joanna on 25 May, 2022?')).toEqual({
      start: '2022-05-25',
      end: '2022-05-25',
    });
    expect(queryPeriod('what happened on May 25th 2022')).toEqual({ start: '2022-05-25', end: '2022-05-25' });
    expect(queryPeriod('Which city was Calvin visiting in August 2023?')).toEqual({
      start: '2023-08-01',
      end: '2023-08-31',
    });
    expect(queryPeriod('What state did Joanna visit in summer 2021?')).toEqual({
      start: '2021-06-01',
      end: '2021-08-31',
    });
    expect(queryPeriod('plans for winter 2023')).toEqual({ start: '2023-12-01', end: '2024-02-29' });
    expect(queryPeriod('Which country did James visit in 2021?')).toEqual({ start: '2021-01-01', end: '2021-12-31' });
  });

  it('extends the end by the days events are told later, and spans several periods', () => {
    expect(queryPeriod('in August 2023', 7)).toEqual({ start: '2023-08-01', end: '2023-09-07' });
    expect(queryPeriod('between March 2022 and 2 May 2022')).toEqual({ start: '2022-03-01', end: '2022-05-02' });
  });

  it('reads an impossible day as its month, and names no period without a year', () => {
    expect(queryPeriod('on 31 February 2023')).toEqual({ start: '2023-02-01', end: '2023-02-28' });
    expect(queryPeriod('When did Melanie go camping in June?')).toBeUndefined();
    expect(queryPeriod('May I ask what you did?')).toBeUndefined();
  });
});
