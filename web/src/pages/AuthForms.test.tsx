import { QueryClientProvider } from '@tanstack/react-query';
import { render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { MemoryRouter, Route, Routes } from 'react-router';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AuthProvider } from '../auth/AuthContext';
import { newQueryClient } from '../query/client';
import { fakeFetch, json } from '../testing/fakeFetch';
import { LoginPage, SignupPage } from './AuthForms';

afterEach(() => vi.unstubAllGlobals());

function renderAt(path: string, element: React.ReactNode) {
  return render(
    <QueryClientProvider client={newQueryClient()}>
      <AuthProvider loadMe={() => Promise.reject(new Error('not used'))}>
        <MemoryRouter initialEntries={[path]}>
          <Routes>
            <Route path={path} element={element} />
            {path !== '/login' && <Route path="/login" element={<LoginPage />} />}
          </Routes>
        </MemoryRouter>
      </AuthProvider>
    </QueryClientProvider>,
  );
}

describe('SignupPage', () => {
  it('validates inline and focuses the first bad field without calling the server', async () => {
    const { calls } = fakeFetch({});
    renderAt('/signup', <SignupPage />);
    const user = userEvent.setup();
    await user.type(screen.getByLabelText('Email'), 'not-an-email');
    await user.click(screen.getByRole('button', { name: 'Sign up' }));
    const name = screen.getByLabelText('Your name');
    expect(name).toHaveAccessibleDescription(/tell us your name/i);
    expect(name).toHaveAttribute('aria-invalid', 'true');
    expect(name).toHaveFocus();
    expect(screen.getByLabelText('Email')).toHaveAccessibleDescription(/email address like/i);
    expect(screen.getByLabelText('Password')).toHaveAccessibleDescription(/8 to 128 characters\. Choose a password/i);
    expect(calls).toHaveLength(0);
  });

  it('clears a field error as the person fixes it', async () => {
    fakeFetch({});
    renderAt('/signup', <SignupPage />);
    const user = userEvent.setup();
    await user.click(screen.getByRole('button', { name: 'Sign up' }));
    expect(screen.getByText('Tell us your name.')).toBeInTheDocument();
    await user.type(screen.getByLabelText('Your name'), 'A');
    expect(screen.queryByText('Tell us your name.')).not.toBeInTheDocument();
  });

  it('shows the server field errors next to the right fields', async () => {
    const { calls } = fakeFetch({
      'POST /api/signup': () =>
        json(400, {
          type: 'https://tidings.dev/problems/validation',
          title: 'Invalid input',
          status: 400,
          errors: [{ field: 'email', detail: 'must be a valid email address' }, { field: 'name', detail: 'is reserved' }],
        }),
    });
    renderAt('/signup', <SignupPage />);
    const user = userEvent.setup();
    await user.type(screen.getByLabelText('Your name'), 'Admin');
    await user.type(screen.getByLabelText('Email'), 'admin@example.com');
    await user.type(screen.getByLabelText('Password'), 'long enough pw');
    await user.click(screen.getByRole('button', { name: 'Sign up' }));
    await waitFor(() => expect(screen.getByLabelText('Email')).toHaveAccessibleDescription('Must be a valid email address.'));
    expect(screen.getByLabelText('Your name')).toHaveAccessibleDescription('Is reserved.');
    expect(screen.getByLabelText('Your name')).toHaveFocus();
    expect(calls[0].headers['X-Requested-With']).toBe('tidings');
    expect(calls[0].body).toEqual({ name: 'Admin', email: 'admin@example.com', password: 'long enough pw' });
  });

  it('puts a duplicate email (409) next to the email field', async () => {
    fakeFetch({
      'POST /api/signup': () =>
        json(409, {
          title: 'Conflict',
          status: 409,
          detail: 'An account with this email already exists.',
          errors: [{ field: 'email', detail: 'is already registered' }],
        }),
    });
    renderAt('/signup', <SignupPage />);
    const user = userEvent.setup();
    await user.type(screen.getByLabelText('Your name'), 'Ann');
    await user.type(screen.getByLabelText('Email'), 'ann@example.com');
    await user.type(screen.getByLabelText('Password'), 'long enough pw');
    await user.click(screen.getByRole('button', { name: 'Sign up' }));
    await waitFor(() =>
      expect(screen.getByLabelText('Email')).toHaveAccessibleDescription('An account with this email already exists — log in instead?'),
    );
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
    // One step to log in instead, with the address already filled in (handed over in history state, not the URL).
    const link = screen.getByRole('link', { name: 'Log in with this email' });
    expect(link).toHaveAttribute('href', '/login');
    await user.click(link);
    expect(await screen.findByRole('heading', { level: 1, name: 'Log in' })).toBeInTheDocument();
    expect(screen.getByLabelText('Email')).toHaveValue('ann@example.com');
  });
});

describe('LoginPage', () => {
  it('shows bad credentials as a form error, not on a field', async () => {
    fakeFetch({ 'POST /api/login': () => json(401, { title: 'Unauthorized', status: 401, detail: 'Invalid email or password' }) });
    renderAt('/login', <LoginPage />);
    const user = userEvent.setup();
    await user.type(screen.getByLabelText('Email'), 'ann@example.com');
    await user.type(screen.getByLabelText('Password'), 'wrong password');
    await user.click(screen.getByRole('button', { name: 'Log in' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('Invalid email or password');
    expect(screen.getByLabelText('Email')).not.toHaveAttribute('aria-invalid');
    // The pressed button was disabled meanwhile; the focus goes to the form, not to the page's top.
    await waitFor(() => expect(screen.getByLabelText('Email')).toHaveFocus());
  });

  it('says how long to wait after too many attempts', async () => {
    fakeFetch({
      'POST /api/login': () => json(429, { title: 'Too Many Requests', status: 429 }, { 'Retry-After': '1' }),
    });
    renderAt('/login', <LoginPage />);
    const user = userEvent.setup();
    await user.type(screen.getByLabelText('Email'), 'ann@example.com');
    await user.type(screen.getByLabelText('Password'), 'whatever1');
    await user.click(screen.getByRole('button', { name: 'Log in' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('Too many attempts. Try again in 1 second.');
  });
});
