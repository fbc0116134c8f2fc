import { createRef, useState, type ChangeEvent, type FormEvent, type RefObject } from 'react';
import { Link, useLocation, useSearchParams } from 'react-router';
import { ApiError, describeError } from '../api/client';
import { api } from '../api/tidings';
import type { User } from '../api/types';
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
import { asSentence } from '../text/sentence';

export const DUPLICATE_EMAIL = 'An account with this email already exists — log in instead?';

/** What the signup page hands the login page: the address, in history state, never in the URL. */
interface LoginState {
  email?: string;
}


/**
 * Sorts a server error onto the form: per-field problems next to their field,
 * a duplicate email next to the email, everything else above the button.
 */
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
  if (err.status === 409 && (fields as readonly string[]).includes('email')) {
    // Whatever the server's wording ("is already registered"), say what to do next.
    fieldErrors['email' as F] = DUPLICATE_EMAIL;
    return { fieldErrors };
  }
  if (Object.keys(fieldErrors).length > 0 && leftovers.length === 0) return { fieldErrors };
  return { fieldErrors, formError: leftovers.length ? leftovers.join(' ') : describeError(err) };
}

/**
 * The state and flow both auth forms share: typing clears a field's error,
 * submit validates, focuses the first bad field, sends, and sorts a server
 * error onto the form (focusing the field it names). send gets the values as
 * typed; success signs the person in.
 */
function useAuthForm<F extends string>(
  order: readonly F[],
  initial: Record<F, string>,
  validate: (values: Record<F, string>) => FieldErrors<F>,
  send: (values: Record<F, string>) => Promise<User>,
) {
  const { signedIn } = useAuth();
  const [values, setValues] = useState(initial);
  const [errors, setErrors] = useState<FieldErrors<F>>({});
  const [formError, setFormError] = useState<string>();
  const [busy, setBusy] = useState(false);
  // One ref per field, made once: the inputs the focus moves to.
  const [refs] = useState(
    () => Object.fromEntries(order.map((f) => [f, createRef<HTMLInputElement>()])) as Record<F, RefObject<HTMLInputElement | null>>,
  );

  function set(field: F, value: string) {
    setValues((v) => ({ ...v, [field]: value }));
    if (errors[field]) setErrors((e) => ({ ...e, [field]: undefined }));
  }

  /**
   * Checks a field the person has left, once they have typed something. A
   * server's error stays until they change the field: typing clears it, and
   * leaving the field (say, to follow "Log in with this email") must not.
   */
  function blur(field: F) {
    if (values[field] === '') return;
    const e = validate(values)[field];
    setErrors((prev) => ({ ...prev, [field]: e ?? prev[field] }));
  }

  function focusFirst(found: FieldErrors<F>): boolean {
    const first = firstInvalid(order, found);
    if (first) refs[first].current?.focus();
    return first !== undefined;
  }

  async function submit(ev: FormEvent) {
    ev.preventDefault();
    if (busy) return;
    setFormError(undefined);
    const found = validate(values);
    setErrors(found);
    if (focusFirst(found)) return;
    setBusy(true);
    try {
      signedIn(await send(values));
    } catch (err) {
      const { fieldErrors, formError } = serverErrorsFor(err, order);
      setErrors(fieldErrors);
      setFormError(formError);
      setBusy(false);
      // The button just pressed was disabled and lost the focus: it goes to the
      // field to fix, or the first one when the answer names none (a wrong password).
      if (!focusFirst(fieldErrors)) refs[order[0]].current?.focus();
    }
  }

  /** What ties a TextField to a field: its input, value, typing and error. */
  function field(f: F) {
    return {
      ref: refs[f],
      name: f,
      value: values[f],
      onChange: (e: ChangeEvent<HTMLInputElement>) => set(f, e.target.value),
      error: errors[f],
    };
  }

  return { formError, busy, field, blur, submit };
}

/** The end of an auth form: the form-wide error, then the submit button. */
function SubmitRow({ formError, busy, label, busyLabel }: { formError?: string; busy: boolean; label: string; busyLabel: string }) {
  return (
    <>
      {formError && (
        <p className="form-error" role="alert">
          {formError}
        </p>
      )}
      <button type="submit" className="button button--wide" disabled={busy}>
        {busy ? busyLabel : label}
      </button>
    </>
  );
}

const signupOrder: readonly SignupField[] = ['name', 'email', 'password'];
const loginOrder: readonly LoginField[] = ['email', 'password'];

export function SignupPage({ signup = api.signup }: { signup?: typeof api.signup }) {
  const { formError, busy, field, blur, submit } = useAuthForm(
    signupOrder,
    { name: '', email: '', password: '' },
    validateSignup,
    (v) => signup({ name: v.name.trim(), email: v.email.trim(), password: v.password }),
  );

  const email = field('email');
  return (
    <div className="card auth-card">
      <PageHeading title="Create your account" />
      <p className="lede">Tidings keeps you close to your friends' news.</p>
      <form onSubmit={submit} noValidate aria-label="Sign up">
        <TextField
          {...field('name')}
          label="Your name"
          autoComplete="name"
          onBlur={() => blur('name')}
          maxLength={200}
        />
        <TextField {...email} label="Email" type="email" autoComplete="email" inputMode="email" onBlur={() => blur('email')} />
        {email.error === DUPLICATE_EMAIL && (
          <p className="field__action">
            <Link to="/login" state={{ email: email.value.trim() } satisfies LoginState}>
              Log in with this email
            </Link>
          </p>
        )}
        <TextField
          {...field('password')}
          label="Password"
          type="password"
          autoComplete="new-password"
          hint="8 to 128 characters."
          onBlur={() => blur('password')}
        />
        <SubmitRow formError={formError} busy={busy} label="Sign up" busyLabel="Creating account…" />
      </form>
      <p className="auth-switch">
        Already have an account? <Link to="/login">Log in</Link>
      </p>
    </div>
  );
}

export function LoginPage({ login = api.login }: { login?: typeof api.login }) {
  const [params] = useSearchParams();
  const handed = (useLocation().state as LoginState | null)?.email;
  const { formError, busy, field, submit } = useAuthForm(loginOrder, { email: typeof handed === 'string' ? handed : '', password: '' }, validateLogin, (v) =>
    login({ email: v.email.trim(), password: v.password }),
  );

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
          {...field('email')}
          label="Email"
          type="email"
          autoComplete="username"
          inputMode="email"
        />
        <TextField
          {...field('password')}
          label="Password"
          type="password"
          autoComplete="current-password"
        />
        <SubmitRow formError={formError} busy={busy} label="Log in" busyLabel="Logging in…" />
      </form>
      <p className="auth-switch">
        New to Tidings? <Link to={`/signup${params.get('next') ? `?next=${encodeURIComponent(params.get('next')!)}` : ''}`}>Create an account</Link>
      </p>
    </div>
  );
}
