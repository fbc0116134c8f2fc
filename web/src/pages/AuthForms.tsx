import { useRef, useState, type FormEvent } from 'react';
import { Link, useSearchParams } from 'react-router';
import { ApiError, describeError } from '../api/client';
import { api } from '../api/tidings';
import { useAuth } from '../auth/AuthContext';
import {
  firstInvalid,
  validateLogin,
  validateSignup,
  type FieldErrors,
  type LoginField,
  type SignupField,
} from '../auth/validation';
import { PageHeading } from '../components/PageHeading';
import { TextField } from '../components/TextField';

/**
 * Sorts a server error onto the form: per-field problems next to their field,
 * a duplicate email next to the email, everything else above the button.
 */
/** "must be a valid email address" → "Must be a valid email address." */
export function asSentence(detail: string): string {
  const t = detail.trim();
  if (t === '') return t;
  const capital = t[0].toUpperCase() + t.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}

export function serverErrorsFor<F extends string>(
  err: unknown,
  fields: readonly F[],
): { fieldErrors: FieldErrors<F>; formError?: string } {
  if (!(err instanceof ApiError)) return { fieldErrors: {}, formError: describeError(err) };
  const fieldErrors: FieldErrors<F> = {};
  const leftovers: string[] = [];
  for (const [field, detail] of Object.entries(err.fieldErrors)) {
    if ((fields as readonly string[]).includes(field)) fieldErrors[field as F] = asSentence(detail);
    else leftovers.push(`${field}: ${detail}`);
  }
  if (err.status === 409 && (fields as readonly string[]).includes('email') && !fieldErrors['email' as F]) {
    fieldErrors['email' as F] = err.detail ? asSentence(err.detail) : 'An account with this email already exists. Try logging in.';
    return { fieldErrors };
  }
  if (Object.keys(fieldErrors).length > 0 && leftovers.length === 0) return { fieldErrors };
  return { fieldErrors, formError: leftovers.length ? leftovers.join(' ') : describeError(err) };
}

export function SignupPage({ signup = api.signup }: { signup?: typeof api.signup }) {
  const { signedIn } = useAuth();
  const [values, setValues] = useState({ name: '', email: '', password: '' });
  const [errors, setErrors] = useState<FieldErrors<SignupField>>({});
  const [formError, setFormError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const refs = {
    name: useRef<HTMLInputElement>(null),
    email: useRef<HTMLInputElement>(null),
    password: useRef<HTMLInputElement>(null),
  };
  const order: SignupField[] = ['name', 'email', 'password'];

  function set(field: SignupField, value: string) {
    setValues((v) => ({ ...v, [field]: value }));
    if (errors[field]) setErrors((e) => ({ ...e, [field]: undefined }));
  }

  function blur(field: SignupField) {
    if (values[field] === '') return;
    const e = validateSignup(values)[field];
    setErrors((prev) => ({ ...prev, [field]: e }));
  }

  async function submit(ev: FormEvent) {
    ev.preventDefault();
    if (busy) return;
    setFormError(undefined);
    const found = validateSignup(values);
    setErrors(found);
    const first = firstInvalid(order, found);
    if (first) {
      refs[first].current?.focus();
      return;
    }
    setBusy(true);
    try {
      const user = await signup({ name: values.name.trim(), email: values.email.trim(), password: values.password });
      signedIn(user);
    } catch (err) {
      const { fieldErrors, formError } = serverErrorsFor(err, order);
      setErrors(fieldErrors);
      setFormError(formError);
      const f = firstInvalid(order, fieldErrors);
      if (f) refs[f].current?.focus();
      setBusy(false);
    }
  }

  return (
    <div className="card auth-card">
      <PageHeading title="Create your account" />
      <p className="lede">Tidings keeps you close to your friends' news.</p>
      <form onSubmit={submit} noValidate aria-label="Sign up">
        <TextField
          ref={refs.name}
          label="Your name"
          name="name"
          autoComplete="name"
          value={values.name}
          onChange={(e) => set('name', e.target.value)}
          onBlur={() => blur('name')}
          error={errors.name}
          maxLength={200}
        />
        <TextField
          ref={refs.email}
          label="Email"
          name="email"
          type="email"
          autoComplete="email"
          inputMode="email"
          value={values.email}
          onChange={(e) => set('email', e.target.value)}
          onBlur={() => blur('email')}
          error={errors.email}
        />
        <TextField
          ref={refs.password}
          label="Password"
          name="password"
          type="password"
          autoComplete="new-password"
          hint="8 to 128 characters."
          value={values.password}
          onChange={(e) => set('password', e.target.value)}
          onBlur={() => blur('password')}
          error={errors.password}
        />
        {formError && (
          <p className="form-error" role="alert">
            {formError}
          </p>
        )}
        <button type="submit" className="button button--wide" disabled={busy}>
          {busy ? 'Creating account…' : 'Sign up'}
        </button>
      </form>
      <p className="auth-switch">
        Already have an account? <Link to="/login">Log in</Link>
      </p>
    </div>
  );
}

export function LoginPage({ login = api.login }: { login?: typeof api.login }) {
  const { signedIn } = useAuth();
  const [params] = useSearchParams();
  const [values, setValues] = useState({ email: '', password: '' });
  const [errors, setErrors] = useState<FieldErrors<LoginField>>({});
  const [formError, setFormError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const refs = { email: useRef<HTMLInputElement>(null), password: useRef<HTMLInputElement>(null) };
  const order: LoginField[] = ['email', 'password'];

  function set(field: LoginField, value: string) {
    setValues((v) => ({ ...v, [field]: value }));
    if (errors[field]) setErrors((e) => ({ ...e, [field]: undefined }));
  }

  async function submit(ev: FormEvent) {
    ev.preventDefault();
    if (busy) return;
    setFormError(undefined);
    const found = validateLogin(values);
    setErrors(found);
    const first = firstInvalid(order, found);
    if (first) {
      refs[first].current?.focus();
      return;
    }
    setBusy(true);
    try {
      const user = await login({ email: values.email.trim(), password: values.password });
      signedIn(user);
    } catch (err) {
      const { fieldErrors, formError } = serverErrorsFor(err, order);
      setErrors(fieldErrors);
      setFormError(formError);
      const f = firstInvalid(order, fieldErrors);
      if (f) refs[f].current?.focus();
      setBusy(false);
    }
  }

  return (
    <div className="card auth-card">
      <PageHeading title="Log in" />
      {params.get('expired') && (
        <p className="notice" role="status">
          Your session ended. Please log in again.
        </p>
      )}
      <form onSubmit={submit} noValidate aria-label="Log in">
        <TextField
          ref={refs.email}
          label="Email"
          name="email"
          type="email"
          autoComplete="username"
          inputMode="email"
          value={values.email}
          onChange={(e) => set('email', e.target.value)}
          error={errors.email}
        />
        <TextField
          ref={refs.password}
          label="Password"
          name="password"
          type="password"
          autoComplete="current-password"
          value={values.password}
          onChange={(e) => set('password', e.target.value)}
          error={errors.password}
        />
        {formError && (
          <p className="form-error" role="alert">
            {formError}
          </p>
        )}
        <button type="submit" className="button button--wide" disabled={busy}>
          {busy ? 'Logging in…' : 'Log in'}
        </button>
      </form>
      <p className="auth-switch">
        New to Tidings? <Link to={`/signup${params.get('next') ? `?next=${encodeURIComponent(params.get('next')!)}` : ''}`}>Create an account</Link>
      </p>
    </div>
  );
}
