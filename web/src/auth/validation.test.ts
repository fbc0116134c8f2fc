import { describe, expect, it } from 'vitest';
import { charLength } from '../text/charLength';
import {
  firstInvalid,
  validateLogin,
  validateSignup,
  validateEmail,
} from './validation';
// The table of addresses that signup (Go), the event schema and this form
// must all judge alike; events/contract_test.go runs it through the other two.
import emailCases from '../../../events/testdata/emails.json';

describe('validateEmail', () => {
  it.each(emailCases)('$address → valid: $valid ($note)', ({ address, valid }) => {
    expect(validateEmail(address) === undefined).toBe(valid);
  });

  it('trims surrounding spaces as the server does', () => {
    expect(validateEmail('  ann@example.com ')).toBeUndefined();
  });
});

describe('validateSignup', () => {
  it('accepts a good signup', () => {
    expect(validateSignup({ name: 'Ann Lee', email: 'ann@example.com', password: 'correct horse' })).toEqual({});
  });

  it('reports each bad field', () => {
    const e = validateSignup({ name: '   ', email: 'ann@', password: 'short' });
    expect(e.name).toMatch(/name/i);
    expect(e.email).toMatch(/email address like/i);
    expect(e.password).toMatch(/at least 8/);
  });

  it('enforces the API length limits', () => {
    expect(validateSignup({ name: 'a'.repeat(81), email: 'a@b.co', password: 'x'.repeat(8) }).name).toMatch(/80/);
    expect(validateSignup({ name: 'a'.repeat(80), email: 'a@b.co', password: 'x'.repeat(128) })).toEqual({});
    expect(validateSignup({ name: 'a', email: 'a@b.co', password: 'x'.repeat(129) }).password).toMatch(/128/);
    const long = `${'a'.repeat(250)}@b.co`;
    expect(validateSignup({ name: 'a', email: long, password: 'x'.repeat(8) }).email).toMatch(/too long/);
  });

  it('counts characters, not UTF-16 units', () => {
    expect(charLength('😀😀')).toBe(2);
    // 8 emoji are 16 UTF-16 units but only 8 characters: long enough, not too long
    expect(validateSignup({ name: 'Zoë', email: 'z@b.co', password: '😀'.repeat(8) }).password).toBeUndefined();
    expect(validateSignup({ name: 'Zoë', email: 'z@b.co', password: '😀'.repeat(7) }).password).toMatch(/at least 8/);
  });
});

describe('validateLogin', () => {
  it('needs both fields', () => {
    expect(validateLogin({ email: '', password: '' })).toEqual({
      email: expect.stringMatching(/enter your email/i),
      password: expect.stringMatching(/password/i),
    });
    expect(validateLogin({ email: 'a@b.co', password: 'x' })).toEqual({});
  });

  it('lets an account made under an older rule sign in', () => {
    expect(validateLogin({ email: 'a@[127.0.0.1]', password: 'x' })).toEqual({});
  });
});

describe('firstInvalid', () => {
  it('finds the first invalid field in form order', () => {
    expect(firstInvalid(['name', 'email', 'password'], { password: 'x', email: 'y' })).toBe('email');
    expect(firstInvalid(['name', 'email'], {})).toBeUndefined();
  });
});
