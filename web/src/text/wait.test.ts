import { describe, expect, it } from 'vitest';
import { waitText } from './wait';

describe('waitText', () => {
  it.each([
    [0, '1 second'],
    [1, '1 second'],
    [30, '30 seconds'],
    [60, '1 minute'],
    [895, '15 minutes'],
    [900, '15 minutes'],
    [3600, '1 hour'],
    [5400, '2 hours'],
  ])('%i s → %s', (s, text) => {
    expect(waitText(s)).toBe(text);
  });
});
