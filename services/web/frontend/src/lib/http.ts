// The one way the app calls the APIs: same-origin with the session cookies, the CSRF header on unsafe
// requests, problem+json errors as ApiError, and a 401 answered by one refresh and one retry.
import { readCookie } from "./cookies";
import { ApiError, parseProblem, toApiError } from "./problem";

export interface ApiResponse<T> {
  status: number;
  data: T;
  headers: Headers;
  receivedAt: number;
}

export interface RequestOptions {
  body?: unknown;
  /** The JSON body's media type (default application/json), e.g. application/merge-patch+json. */
  contentType?: string;
  /** A body sent as it is (a picture), with `contentType`, instead of JSON. */
  raw?: Blob;
  headers?: Record<string, string>;
  /** Do not try to refresh the session on 401 (the auth calls themselves). */
  noRefresh?: boolean;
  signal?: AbortSignal;
}

export interface ClientOptions {
  fetch?: typeof fetch;
  csrfToken?: () => string | undefined;
  refreshPath?: string;
  now?: () => number;
  /** Every response (for the server clock). */
  onResponse?: (res: Response, receivedAt: number, path: string) => void;
  /** An error answer, parsed. */
  onProblem?: (err: ApiError, path: string) => void;
  /** A request never got an answer (network down, gateway without upstream). */
  onUnreachable?: (err: ApiError, path: string) => void;
  /** A refresh succeeded (its body: the new session). */
  onRefreshed?: (body: unknown) => void;
  /** The refresh was refused: the session is over. */
  onSessionLost?: () => void;
}

const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

async function readBody(res: Response): Promise<unknown> {
  if (res.status === 204) return undefined;
  const text = await res.text();
  if (!text) return undefined;
  const type = res.headers.get("content-type") ?? "";
  if (type.includes("json")) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

export class ApiClient {
  private readonly fetchFn: typeof fetch;
  private readonly csrfToken: () => string | undefined;
  private readonly refreshPath: string;
  private readonly now: () => number;
  private refreshing: Promise<boolean> | null = null;

  constructor(private readonly opts: ClientOptions = {}) {
    this.fetchFn = opts.fetch ?? ((...args) => globalThis.fetch(...args));
    this.csrfToken = opts.csrfToken ?? (() => readCookie("brigade_csrf"));
    this.refreshPath = opts.refreshPath ?? "/api/auth/refresh";
    this.now = opts.now ?? Date.now;
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<ApiResponse<T>> {
    let res = await this.send(method, path, options);
    if (res.status === 401 && !options.noRefresh) {
      if (await this.refresh()) res = await this.send(method, path, options);
    }
    const receivedAt = this.now();
    this.opts.onResponse?.(res, receivedAt, path);
    const body = await readBody(res).catch(() => undefined);
    if (!res.ok) {
      const problem = parseProblem(res.status, body, res.statusText);
      this.opts.onProblem?.(problem, path);
      throw problem;
    }
    return { status: res.status, data: body as T, headers: res.headers, receivedAt };
  }

  get<T>(path: string, options?: RequestOptions) {
    return this.request<T>("GET", path, options);
  }

  post<T>(path: string, body?: unknown, options: RequestOptions = {}) {
    return this.request<T>("POST", path, { ...options, body });
  }

  /**
   * Renew the access token with the refresh cookie. Concurrent 401s share one refresh (a refresh
   * token rotates: two refreshes at once would spend it twice). True when a new session is held.
   */
  refresh(): Promise<boolean> {
    if (!this.refreshing) {
      this.refreshing = this.send("POST", this.refreshPath, {})
        .then(async (res) => {
          // Only auth's "no" ends the session; auth restarting (5xx) or the network is worth a retry later.
          if (res.status === 401 || res.status === 403) this.opts.onSessionLost?.();
          if (res.ok) this.opts.onRefreshed?.(await readBody(res).catch(() => undefined));
          return res.ok;
        })
        .catch(() => false)
        .finally(() => {
          this.refreshing = null;
        });
    }
    return this.refreshing;
  }

  private async send(method: string, path: string, options: RequestOptions): Promise<Response> {
    const headers: Record<string, string> = { accept: "application/json, application/problem+json", ...options.headers };
    if (options.body !== undefined || options.raw !== undefined) headers["content-type"] = options.contentType ?? "application/json";
    if (UNSAFE.has(method)) {
      const csrf = this.csrfToken();
      if (csrf) headers["x-csrf-token"] = csrf;
    }
    try {
      return await this.fetchFn(path, {
        method,
        headers,
        body: options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body)),
        credentials: "same-origin",
        signal: options.signal,
      });
    } catch (err) {
      const error = toApiError(err);
      if (!options.signal?.aborted) this.opts.onUnreachable?.(error, path);
      throw error;
    }
  }
}

export { ApiError };
