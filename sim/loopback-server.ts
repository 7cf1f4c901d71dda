/**
 * The part every local fake shares: an HTTP server on 127.0.0.1 (a free port), delays that a
 * stop cuts short, and a stop that drops every connection, keep-alive ones too.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export type RequestHandler = (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>;

export class LoopbackServer {
  private server?: http.Server;
  private stopping = false;
  private readonly sleeping = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();

  /**
   * @param name for error messages
   * @param handle serves one request
   * @param crashReply the answer when `handle` throws (a bug in the fake, made visible)
   */
  constructor(
    private readonly name: string,
    private readonly handle: RequestHandler,
    private readonly crashReply: (message: string) => { contentType: string; body: string },
  ) {}

  /** Listens on 127.0.0.1, on a free port; returns the base URL. */
  async start(): Promise<string> {
    if (this.server) return this.url;
    this.stopping = false;
    const server = http.createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent && !res.destroyed) {
          const reply = this.crashReply(`${this.name} error: ${(error as Error)?.message ?? String(error)}`);
          res.writeHead(500, { 'Content-Type': reply.contentType });
          res.end(reply.body);
        }
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    return this.url;
  }

  get url(): string {
    if (!this.server) throw new Error(`${this.name} is not started`);
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  /** True once stop() has begun: a delayed answer should then be dropped. */
  get stopped(): boolean {
    return this.stopping;
  }

  /** Waits, unless the server stops first. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const entry = {
        timer: setTimeout(() => {
          this.sleeping.delete(entry);
          resolve();
        }, ms),
        resolve,
      };
      this.sleeping.add(entry);
    });
  }

  /** Stops listening and drops every connection (keep-alive ones too) and pending delay. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const s of this.sleeping) {
      clearTimeout(s.timer);
      s.resolve();
    }
    this.sleeping.clear();
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }
}
