// A table-driven stand-in for fetch in component tests: each route answers
// with a Response built by the test, and every call is recorded.
import { vi } from 'vitest';

export type Handler = (req: { url: string; method: string; body: unknown; headers: Record<string, string> }) => Response | Promise<Response>;

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: { 'Content-Type': status >= 400 ? 'application/problem+json' : 'application/json', ...headers },
  });
}

export function fakeFetch(routes: Record<string, Handler>) {
  const calls: { method: string; url: string; body: unknown; headers: Record<string, string> }[] = [];
  const fn = vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = String(input);
    const method = (init.method ?? 'GET').toUpperCase();
    const headers = (init.headers ?? {}) as Record<string, string>;
    const body = typeof init.body === 'string' ? JSON.parse(init.body) : undefined;
    calls.push({ method, url, body, headers });
    const path = url.split('?')[0];
    const handler = routes[`${method} ${url}`] ?? routes[`${method} ${path}`];
    if (!handler) return json(404, { title: 'Not Found', status: 404 });
    return handler({ url, method, body, headers });
  });
  vi.stubGlobal('fetch', fn);
  return { calls, fn };
}
