import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError, describeError, problemFromResponse, request, setUnauthorizedListener, uploadMultipart } from './client';
import { api } from './tidings';

function problem(status: number, body: object, headers: Record<string, string> = {}) {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/problem+json', ...headers },
  });
}

afterEach(() => {
  vi.unstubAllGlobals();
  setUnauthorizedListener(null);
});

describe('request', () => {
  it('sends the CSRF header on unsafe methods only', async () => {
    const fetchMock = vi.fn(async () => new Response('{"id":"1","email":"a@b.co","name":"A"}', { status: 200 }));
    vi.stubGlobal('fetch', fetchMock);
    await request('GET', '/api/me');
    await request('POST', '/api/login', { body: { email: 'a@b.co', password: 'x' } });
    await request('DELETE', '/api/friends/9');
    const headersOf = (i: number) => (fetchMock.mock.calls[i] as unknown as [string, RequestInit])[1].headers as Record<string, string>;
    expect(headersOf(0)['X-Requested-With']).toBeUndefined();
    expect(headersOf(1)['X-Requested-With']).toBe('tidings');
    expect(headersOf(1)['Content-Type']).toBe('application/json');
    expect(headersOf(2)['X-Requested-With']).toBe('tidings');
    const init = (fetchMock.mock.calls[1] as unknown as [string, RequestInit])[1];
    expect(JSON.parse(init.body as string)).toEqual({ email: 'a@b.co', password: 'x' });
  });

  it('turns problem+json into an ApiError with per-field errors', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () =>
        problem(400, {
          type: 'https://tidings.dev/problems/validation',
          title: 'Invalid input',
          status: 400,
          detail: 'Check the fields',
          errors: [
            { field: 'email', detail: 'must be a valid email address' },
            { field: 'email', detail: 'second message is ignored' },
            { field: 'password', detail: 'must be 8-128 characters' },
          ],
        }),
      ),
    );
    const err = await request('POST', '/api/signup', { body: {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    const e = err as ApiError;
    expect(e.status).toBe(400);
    expect(e.type).toBe('https://tidings.dev/problems/validation');
    expect(e.fieldErrors).toEqual({ email: 'must be a valid email address', password: 'must be 8-128 characters' });
    expect(describeError(e)).toBe('Check the fields');
  });

  it('reads Retry-After on 429', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => problem(429, { title: 'Too Many Requests', status: 429 }, { 'Retry-After': '30' })));
    const e = (await request('POST', '/api/login', { body: {} }).catch((x: unknown) => x)) as ApiError;
    expect(e.retryAfter).toBe(30);
    expect(describeError(e)).toBe('Too many attempts. Try again in 30 seconds.');
  });

  it('never shows an HTML error page or a server stack', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => new Response('<html>502 Bad Gateway<pre>goroutine 1 [running]</pre></html>', { status: 502, headers: { 'Content-Type': 'text/html' } })),
    );
    const e = (await request('GET', '/api/posts').catch((x: unknown) => x)) as ApiError;
    expect(e.status).toBe(502);
    expect(describeError(e)).toMatch(/having trouble/);
    expect(describeError(e)).not.toMatch(/goroutine|html/i);
  });

  it('shows friendly words for 5xx even when the problem has a detail', () => {
    const e = problemFromResponse(500, 'application/problem+json', null, '{"title":"Internal","detail":"pq: relation does not exist"}');
    expect(describeError(e)).not.toMatch(/pq:/);
  });

  it('reports a network failure as status 0', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => Promise.reject(new TypeError('Failed to fetch'))));
    const e = (await request('GET', '/api/me').catch((x: unknown) => x)) as ApiError;
    expect(e.status).toBe(0);
    expect(describeError(e)).toMatch(/can't reach tidings/i);
  });

  it('tolerates malformed problem bodies', () => {
    expect(problemFromResponse(404, 'application/problem+json', null, '{not json').title).toBe("We couldn't find that.");
    expect(problemFromResponse(403, 'application/json', null, '"just a string"').status).toBe(403);
    const weird = problemFromResponse(400, 'application/problem+json', null, '{"errors":[null,{"field":1},{"field":"name","detail":"too long"}]}');
    expect(weird.fieldErrors).toEqual({ name: 'too long' });
  });

  it('tells the session layer about a 401, except where one is expected', async () => {
    const heard = vi.fn();
    setUnauthorizedListener(heard);
    vi.stubGlobal('fetch', vi.fn(async () => problem(401, { title: 'Unauthorized', status: 401 })));
    await request('GET', '/api/posts').catch(() => {});
    expect(heard).toHaveBeenCalledTimes(1);
    await api.me().catch(() => {});
    await api.login({ email: 'a@b.co', password: 'nope nope' }).catch(() => {});
    expect(heard).toHaveBeenCalledTimes(1);
  });

  it('returns undefined for 204', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => new Response(null, { status: 204 })));
    await expect(request('POST', '/api/logout')).resolves.toBeUndefined();
  });
});

describe('api paging', () => {
  it('passes the cursor and maps a missing nextCursor to null', async () => {
    const fetchMock = vi.fn(async (url: string) =>
      url.includes('cursor=c2')
        ? new Response(JSON.stringify({ posts: [{ id: 'p3' }] }), { status: 200 })
        : new Response(JSON.stringify({ posts: [{ id: 'p1' }, { id: 'p2' }], nextCursor: 'c2' }), { status: 200 }),
    );
    vi.stubGlobal('fetch', fetchMock);
    const first = await api.feed();
    expect(first.nextCursor).toBe('c2');
    expect(fetchMock.mock.calls[0][0]).toBe('/api/posts');
    const second = await api.feed(first.nextCursor);
    expect(fetchMock.mock.calls[1][0]).toBe('/api/posts?cursor=c2');
    expect(second).toEqual({ items: [{ id: 'p3' }], nextCursor: null });
  });

  it('escapes ids and cursors', async () => {
    const fetchMock = vi.fn(async (_url: string) => new Response(JSON.stringify({ posts: null, nextCursor: null }), { status: 200 }));
    vi.stubGlobal('fetch', fetchMock);
    const page = await api.userPosts('a/b?c', 'x&y=1', 5);
    expect(fetchMock.mock.calls[0][0]).toBe('/api/users/a%2Fb%3Fc/posts?cursor=x%26y%3D1&limit=5');
    expect(page.items).toEqual([]);
  });
});

class FakeXhr {
  static last: FakeXhr;
  headers: Record<string, string> = {};
  method = '';
  url = '';
  status = 0;
  responseText = '';
  responseHeaders: Record<string, string> = {};
  sent: unknown;
  upload: { onprogress: ((e: ProgressEvent) => void) | null } = { onprogress: null };
  onload: (() => void) | null = null;
  onerror: (() => void) | null = null;
  onabort: (() => void) | null = null;
  constructor() {
    FakeXhr.last = this;
  }
  open(method: string, url: string) {
    this.method = method;
    this.url = url;
  }
  setRequestHeader(k: string, v: string) {
    this.headers[k] = v;
  }
  getResponseHeader(k: string) {
    return this.responseHeaders[k] ?? null;
  }
  send(body: unknown) {
    this.sent = body;
  }
  abort() {
    this.onabort?.();
  }
}

describe('uploadMultipart', () => {
  const make = () => new FakeXhr() as unknown as XMLHttpRequest;

  it('reports progress and resolves with the JSON body', async () => {
    const seen: number[] = [];
    const form = new FormData();
    const p = uploadMultipart<{ id: string }>('/api/files', form, (pr) => seen.push(pr.loaded / pr.total), undefined, make);
    const x = FakeXhr.last;
    expect(x.method).toBe('POST');
    expect(x.headers['X-Requested-With']).toBe('tidings');
    expect(x.sent).toBe(form);
    x.upload.onprogress?.({ lengthComputable: true, loaded: 50, total: 200 } as ProgressEvent);
    x.upload.onprogress?.({ lengthComputable: true, loaded: 200, total: 200 } as ProgressEvent);
    x.status = 201;
    x.responseText = '{"id":"f1","src":"/api/files/f1"}';
    x.onload?.();
    await expect(p).resolves.toEqual({ id: 'f1', src: '/api/files/f1' });
    expect(seen).toEqual([0.25, 1]);
  });

  it('rejects with the problem on 413', async () => {
    const p = uploadMultipart('/api/files', new FormData(), undefined, undefined, make);
    const x = FakeXhr.last;
    x.status = 413;
    x.responseHeaders['Content-Type'] = 'application/problem+json';
    x.responseText = '{"title":"Payload Too Large","status":413,"detail":"pictures can be up to 10 MiB"}';
    x.onload?.();
    const e = (await p.catch((err: unknown) => err)) as ApiError;
    expect(e.status).toBe(413);
    expect(describeError(e)).toBe('pictures can be up to 10 MiB');
  });

  it('aborts when the signal fires', async () => {
    const ctrl = new AbortController();
    const p = uploadMultipart('/api/files', new FormData(), undefined, ctrl.signal, make);
    ctrl.abort();
    await expect(p).rejects.toMatchObject({ name: 'AbortError' });
  });
});
