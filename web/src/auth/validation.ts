// Client-side checks that mirror the API's rules, so most mistakes are
// caught before a round trip. The server stays the judge.

// The contract's email rule ($defs/email in events/schemas/defs.v1.json),
// copied here by `go test ./events -run WebEmailRule -update` and checked
// equal by that test. Its patterns use only syntax that ECMAScript (with the
// u flag) and Go read alike.
import emailRule from './email-rule.json';
import { charLength } from '../text/charLength';

export type FieldErrors<F extends string> = Partial<Record<F, string>>;

const EMAIL_PATTERNS = emailRule.patterns.map((p) => new RegExp(p, 'u'));


export function validateEmail(email: string): string | undefined {
  const e = email.trim();
  if (e === '') return 'Enter your email address.';
  if (charLength(e) > emailRule.maxLength) return 'That email address is too long.';
  if (!EMAIL_PATTERNS.every((re) => re.test(e))) return 'Enter an email address like name@example.com.';
  return undefined;
}

export function validateNewPassword(password: string): string | undefined {
  if (password === '') return 'Choose a password.';
  const n = charLength(password);
  if (n < 8) return 'Use at least 8 characters.';
  if (n > 128) return 'Use at most 128 characters.';
  return undefined;
}

export function validateName(name: string): string | undefined {
  const n = charLength(name.trim());
  if (n === 0) return 'Tell us your name.';
  if (n > 80) return 'Use at most 80 characters.';
  return undefined;
}

export type SignupField = 'email' | 'password' | 'name';
export type LoginField = 'email' | 'password';

function compact<F extends string>(errors: FieldErrors<F>): FieldErrors<F> {
  const out: FieldErrors<F> = {};
  for (const [k, v] of Object.entries(errors) as [F, string | undefined][]) if (v) out[k] = v;
  return out;
}

export function validateSignup(v: { email: string; password: string; name: string }): FieldErrors<SignupField> {
  return compact<SignupField>({
    name: validateName(v.name),
    email: validateEmail(v.email),
    password: validateNewPassword(v.password),
  });
}

// Login checks only that an address is given: an account made under an
// older, looser rule must still be able to sign in, and the server answers
// the same 401 for an unknown address anyway.
export function validateLogin(v: { email: string; password: string }): FieldErrors<LoginField> {
  return compact<LoginField>({
    email: v.email.trim() === '' ? 'Enter your email address.' : undefined,
    password: v.password === '' ? 'Enter your password.' : undefined,
  });
}

/** The first field, in form order, that has an error: it gets the focus. */
export function firstInvalid<F extends string>(order: readonly F[], errors: FieldErrors<F>): F | undefined {
  return order.find((f) => errors[f]);
}
