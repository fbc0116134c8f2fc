// The forms' checks agree with the limits the API contract declares
// (limits.ts is generated from it): a value at the limit passes, one past it
// fails.
import { limits } from './limits';
import { validateEmail, validateName, validateNewPassword } from '../auth/validation';
import { MAX_PICTURE_BYTES, MAX_POST_CHARS, validatePicture, validatePostText } from '../posts/rules';

const chars = (n: number) => 'é'.repeat(n); // one code point, two UTF-16 units

describe('the forms use the API contract’s limits', () => {
  it('name', () => {
    expect(validateName(chars(limits.Name.maxLength))).toBeUndefined();
    expect(validateName(chars(limits.Name.maxLength + 1))).toBeDefined();
  });

  it('password', () => {
    expect(validateNewPassword(chars(limits.Password.minLength - 1))).toBeDefined();
    expect(validateNewPassword(chars(limits.Password.minLength))).toBeUndefined();
    expect(validateNewPassword(chars(limits.Password.maxLength))).toBeUndefined();
    expect(validateNewPassword(chars(limits.Password.maxLength + 1))).toBeDefined();
  });

  it('email', () => {
    // A full-length address that is otherwise valid: a 64-character local part, labels under 64.
    const at = (n: number) => {
      const domain = `${'b'.repeat(61)}.${'c'.repeat(61)}.${'d'.repeat(n - 64 - 1 - 2 * 62 - 4)}.com`;
      return `${'a'.repeat(64)}@${domain}`;
    };
    expect(validateEmail(at(limits.Email.maxLength))).toBeUndefined();
    expect(validateEmail(at(limits.Email.maxLength + 1))).toBeDefined();
  });

  it('post text', () => {
    expect(MAX_POST_CHARS).toBe(limits.PostText.maxLength);
    expect(validatePostText(chars(limits.PostText.maxLength))).toBeUndefined();
    expect(validatePostText(chars(limits.PostText.maxLength + 1))).toBeDefined();
  });

  it('picture size', () => {
    expect(MAX_PICTURE_BYTES).toBe(limits.Picture.maxLength);
    expect(validatePicture({ type: 'image/png', size: limits.Picture.maxLength })).toBeUndefined();
    expect(validatePicture({ type: 'image/png', size: limits.Picture.maxLength + 1 })).toBeDefined();
  });
});
