// The one place that talks HTTP to the Tidings API. Every failure becomes an
// ApiError with a message fit to show a person: problem+json is read for its
// title/detail and per-field errors; anything else gets a plain message.
import { waitText } from '../text/wait';

export interface FieldError {
  field: string;
  detail: string;
}

export class ApiError extends Error {
  readonly status: number;
  readonly type: string | undefined;
  readonly title: string;
  readonly detail: string | undefined;
  /** Per-field messages keyed by field name (first message wins). */
  readonly fieldErrors: Record<string, string>;
  /** Seconds to wait, from Retry-After on a 429. */
  readonly retryAfter: number | undefined;

  constructor(init: {
    status: number;
    title: string;
    type?: string;
    detail?: string;
    fieldErrors?: Record<string, string>;
    retryAfter?: number;
  }) {
    super(init.detail || init.title);
    this.name = 'ApiError';
    this.status = init.status;
    this.type = init.type;
    this.title = init.title;
    this.detail = init.detail;
    this.fieldErrors = init.fieldErrors ?? {};
    this.retryAfter = init.retryAfter;
  }
}

/** The header the API's CSRF guard asks for on every unsafe method. */
export const CSRF_HEADER = 'X-Requested-With';
export const CSRF_VALUE = 'tidings';

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export function isUnsafe(method: string): boolean {
  return UNSAFE.has(method.toUpperCase());
}

/** Plain words for a status when the server gave none we can use. */
export function messageForStatus(status: number): string {
  if (status === 0) return "Can't reach Tidings right now. Check your connection and try again.";
  if (status === 400) return 'Something in the request was not right.';
  if (status === 401) return 'Please log in to continue.';
  if (status === 403) return "You don't have access to this.";
  if (status === 404) return "We couldn't find that.";
  if (status === 409) return 'That conflicts with something that already exists.';
  if (status === 413) return 'That file is too large.';
  if (status === 415) return "That kind of file isn't supported.";
  if (status === 429) return 'Too many attempts. Please wait a moment and try again.';
  if (status >= 500) return 'Tidings is having trouble right now. Please try again in a moment.';
  return `Something went wrong (error ${status}).`;
}

function parseRetryAfter(value: string | null): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds);
  const date = Date.parse(value);
  if (!Number.isNaN(date)) return Math.max(0, Math.ceil((date - Date.now()) / 1000));
  return undefined;
}

/**
 * Builds an ApiError from a failed response's status, headers and body text.
 * Only problem+json (or JSON that looks like a problem) is trusted for
 * wording; an HTML error page from a proxy never reaches the screen.
 */
export function problemFromResponse(
  status: number,
  contentType: string | null,
  retryAfterHeader: string | null,
  bodyText: string,
): ApiError {
  const retryAfter = parseRetryAfter(retryAfterHeader);
  const fallback = messageForStatus(status);
  const looksJson = (contentType ?? '').toLowerCase().includes('json');
  if (!looksJson || bodyText.trim() === '') {
    return new ApiError({ status, title: fallback, retryAfter });
  }
  let body: unknown;
  try {
    body = JSON.parse(bodyText);
  } catch {
    return new ApiError({ status, title: fallback, retryAfter });
  }
  if (typeof body !== 'object' || body === null) {
    return new ApiError({ status, title: fallback, retryAfter });
  }
  const p = body as Record<string, unknown>;
  const fieldErrors: Record<string, string> = {};
  if (Array.isArray(p.errors)) {
    for (const e of p.errors) {
      if (e && typeof e === 'object') {
        const fe = e as Record<string, unknown>;
        const field = typeof fe.field === 'string' ? fe.field : '';
        const detail = typeof fe.detail === 'string' ? fe.detail : '';
        if (field && detail && !(field in fieldErrors)) fieldErrors[field] = detail;
      }
    }
  }
  const title = typeof p.title === 'string' && p.title ? p.title : fallback;
  const detail = typeof p.detail === 'string' && p.detail ? p.detail : undefined;
  const type = typeof p.type === 'string' ? p.type : undefined;
  return new ApiError({ status, type, title, detail, fieldErrors, retryAfter });
}

/** The sentence to show for any error thrown by this module (or anything else). */
export function describeError(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.status === 429 && err.retryAfter !== undefined) {
      return `Too many attempts. Try again in ${waitText(err.retryAfter)}.`;
    }
    if (err.status >= 500 || err.status === 0) return messageForStatus(err.status);
    return err.detail || err.title;
  }
  return 'Something went wrong. Please try again.';
}

type UnauthorizedListener = () => void;
let onUnauthorized: UnauthorizedListener | null = null;

/** Lets the session layer hear about a 401 from any call (an expired session). */
export function setUnauthorizedListener(listener: UnauthorizedListener | null): void {
  onUnauthorized = listener;
}

export interface RequestOptions {
  body?: unknown;
  signal?: AbortSignal;
  /** Do not tell the session layer about a 401 (login/me expect it). */
  quietUnauthorized?: boolean;
}

export async function request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json, application/problem+json' };
  if (isUnsafe(method)) headers[CSRF_HEADER] = CSRF_VALUE;
  let body: string | undefined;
  if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body, credentials: 'same-origin', signal: opts.signal });
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw new ApiError({ status: 0, title: messageForStatus(0) });
  }
  const text = await res.text();
  if (!res.ok) {
    const problem = problemFromResponse(res.status, res.headers.get('Content-Type'), res.headers.get('Retry-After'), text);
    if (res.status === 401 && !opts.quietUnauthorized) onUnauthorized?.();
    throw problem;
  }
  if (res.status === 204 || text.trim() === '') return undefined as T;
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new ApiError({ status: res.status, title: 'Tidings sent an answer we could not read.' });
  }
}

export interface UploadProgress {
  loaded: number;
  total: number;
}

/** Anything that looks enough like XMLHttpRequest for an upload (tests pass a fake). */
export type XhrFactory = () => XMLHttpRequest;

/**
 * Sends a multipart upload with XMLHttpRequest, because fetch cannot report
 * upload progress. Resolves with the parsed JSON body.
 */
export function uploadMultipart<T>(
  path: string,
  form: FormData,
  onProgress?: (p: UploadProgress) => void,
  signal?: AbortSignal,
  makeXhr: XhrFactory = () => new XMLHttpRequest(),
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const xhr = makeXhr();
    xhr.open('POST', path);
    xhr.setRequestHeader(CSRF_HEADER, CSRF_VALUE);
    xhr.setRequestHeader('Accept', 'application/json, application/problem+json');
    xhr.upload.onprogress = (e: ProgressEvent) => {
      if (e.lengthComputable) onProgress?.({ loaded: e.loaded, total: e.total });
    };
    xhr.onload = () => {
      const text = xhr.responseText ?? '';
      if (xhr.status >= 200 && xhr.status < 300) {
        try {
          resolve(JSON.parse(text) as T);
        } catch {
          reject(new ApiError({ status: xhr.status, title: 'Tidings sent an answer we could not read.' }));
        }
        return;
      }
      if (xhr.status === 401) onUnauthorized?.();
      reject(
        problemFromResponse(
          xhr.status,
          xhr.getResponseHeader('Content-Type'),
          xhr.getResponseHeader('Retry-After'),
          text,
        ),
      );
    };
    xhr.onerror = () => reject(new ApiError({ status: 0, title: messageForStatus(0) }));
    xhr.onabort = () => reject(new DOMException('Upload cancelled', 'AbortError'));
    signal?.addEventListener('abort', () => xhr.abort(), { once: true });
    xhr.send(form);
  });
}
