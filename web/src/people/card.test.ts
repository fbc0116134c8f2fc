import { describe, expect, it } from 'vitest';
import { cardDetails, joinedText } from './card';

describe('person card details', () => {
  it('tells namesakes apart by friends in common and the month they joined', () => {
    expect(cardDetails({ mutualFriends: 2, joined: '2026-03' })).toBe('2 friends in common · Joined March 2026');
    expect(cardDetails({ mutualFriends: 1, joined: '2025-12' })).toBe('1 friend in common · Joined December 2025');
    expect(cardDetails({ mutualFriends: 0, joined: '2026-01' })).toBe('No friends in common · Joined January 2026');
  });

  it('leaves out a month it cannot read', () => {
    expect(joinedText('2026-13')).toBe('');
    expect(cardDetails({ mutualFriends: 0, joined: 'soon' })).toBe('No friends in common');
  });
});
