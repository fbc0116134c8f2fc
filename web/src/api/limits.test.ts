// The forms' checks agree with the limits the API contract declares
// (limits.ts is generated from it): a value at the limit passes, one past it
// fails.
import { limits } from './limits';
import {
  MAX_PICTURE_BYTES,
  MAX_POST_CHARS,
  validateEmail,
  validateName,
  validateNewPassword,
  validatePicture,
  validatePostText,
} from '../auth/validation';

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
    const at = (n: number) => 'a'.repeat(n - '@example.com'.length) + '@example.com';
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
