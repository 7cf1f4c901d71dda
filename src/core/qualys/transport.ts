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

/** undici, loaded on the first request: an event that needs no Qualys call never pays for it. */
export function undiciTransport(timeoutMs = DEFAULT_REQUEST_TIMEOUT_MS, options: TransportOptions = {}): HttpTransport {
  let dispatcher: import('undici').Dispatcher | undefined;
  let chosen = false;
  return async (req) => {
    const undici = require('undici') as typeof import('undici');
    if (!chosen) {
      dispatcher = options.proxyUrl
        ? new undici.ProxyAgent(options.proxyUrl)
        : proxyInEnvironment()
          ? new undici.EnvHttpProxyAgent()
          : undefined;
      chosen = true;
    }
    const limit = Math.min(timeoutMs, req.timeoutMs ?? timeoutMs);
    const res = await undici.request(req.url, {
      method: req.method as 'GET',
      headers: req.headers,
      body: req.body,
      headersTimeout: limit,
      bodyTimeout: limit,
      signal: AbortSignal.timeout(limit),
      dispatcher,
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
