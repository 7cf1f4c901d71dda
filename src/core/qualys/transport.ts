/**
 * The seam between the Qualys client and the network. Tests pass their own transport;
 * the Lambda uses undici, with a per-request timeout so that a stalled gateway cannot
 * hold the custom resource past its deadline.
 */

export interface HttpRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body?: string;
  /** This request's time limit, when shorter than the transport's own. */
  readonly timeoutMs?: number;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

export type HttpTransport = (req: HttpRequest) => Promise<HttpResponse>;

export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

export interface TransportOptions {
  /**
   * An HTTP(S) proxy for every request.
   * @default - the proxy the environment names (HTTPS_PROXY / HTTP_PROXY, honouring NO_PROXY), if any
   */
  readonly proxyUrl?: string;
}

/**
 * The parts of undici the transport uses, each from its own module: undici's index loads fetch,
 * WebSocket, the cache and the mocks as well, which would be two fifths of the handler's bundle.
 */
interface UndiciParts {
  readonly Agent: typeof import('undici').Agent;
  readonly ProxyAgent: typeof import('undici').ProxyAgent;
  readonly EnvHttpProxyAgent: typeof import('undici').EnvHttpProxyAgent;
  readonly request: (
    this: import('undici').Dispatcher,
    options: import('undici').Dispatcher.RequestOptions,
  ) => Promise<import('undici').Dispatcher.ResponseData>;
}

let loaded: UndiciParts | undefined;
/** One direct agent for every transport, as undici's global dispatcher was: connections are reused across calls. */
let directAgent: import('undici').Dispatcher | undefined;

function sharedDirectAgent(parts: UndiciParts): import('undici').Dispatcher {
  directAgent ??= new parts.Agent();
  return directAgent;
}

function loadUndici(): UndiciParts {
  if (loaded) return loaded;
  // As undici's index does: the dispatchers call each other through these methods (a proxy's tunnel is a connect).
  Object.assign(require('undici/lib/dispatcher/dispatcher.js').prototype, require('undici/lib/api/index.js'));
  loaded = {
    Agent: require('undici/lib/dispatcher/agent.js'),
    ProxyAgent: require('undici/lib/dispatcher/proxy-agent.js'),
    EnvHttpProxyAgent: require('undici/lib/dispatcher/env-http-proxy-agent.js'),
    request: require('undici/lib/api/api-request.js'),
  };
  return loaded;
}

/** undici, loaded on the first request: an event that needs no Qualys call never pays for it. */
export function undiciTransport(timeoutMs = DEFAULT_REQUEST_TIMEOUT_MS, options: TransportOptions = {}): HttpTransport {
  let undici: UndiciParts | undefined;
  let dispatcher: import('undici').Dispatcher | undefined;
  return async (req) => {
    if (!undici || !dispatcher) {
      const parts = loadUndici();
      undici = parts;
      dispatcher = options.proxyUrl
        ? new parts.ProxyAgent(options.proxyUrl)
        : proxyInEnvironment()
          ? new parts.EnvHttpProxyAgent()
          : sharedDirectAgent(parts);
    }
    const limit = Math.min(timeoutMs, req.timeoutMs ?? timeoutMs);
    const url = new URL(req.url);
    const res = await undici.request.call(dispatcher, {
      origin: url.origin,
      path: `${url.pathname}${url.search}`,
      method: req.method as 'GET',
      headers: req.headers,
      body: req.body,
      headersTimeout: limit,
      bodyTimeout: limit,
      signal: AbortSignal.timeout(limit),
    });
    return { status: res.statusCode, headers: res.headers, body: await res.body.text() };
  };
}

function proxyInEnvironment(): boolean {
  return ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy'].some((name) => Boolean(process.env[name]));
}

export function header(res: HttpResponse, name: string): string | undefined {
  const value = res.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}
