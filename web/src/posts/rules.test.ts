import { describe, expect, it } from 'vitest';
import { validatePicture, validatePostText } from './rules';

describe('post and picture rules', () => {
  it('checks post text', () => {
    expect(validatePostText('  ')).toBe('Write something or add a picture.');
    // A picture alone is a post.
    expect(validatePostText('  ', true)).toBeUndefined();
    expect(validatePostText('hello')).toBeUndefined();
    expect(validatePostText('x'.repeat(5000))).toBeUndefined();
    // 5000 is allowed, so the message must not say "under 5000".
    expect(validatePostText('x'.repeat(5001))).toBe('Use at most 5000 characters (now 5001).');
  });

  it('checks picture type and size', () => {
    expect(validatePicture({ type: 'image/png', size: 1000 })).toBeUndefined();
    expect(validatePicture({ type: 'image/svg+xml', size: 1000 })).toMatch(/PNG, JPEG/);
    expect(validatePicture({ type: 'image/jpeg', size: 10 * 1024 * 1024 + 1 })).toMatch(/10 MB/);
    expect(validatePicture({ type: 'image/gif', size: 0 })).toMatch(/empty/);
  });
});
