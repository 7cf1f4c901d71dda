/**
 * What every local fake shares: an HTTP server on 127.0.0.1 (a free port), a typed log of the
 * calls it served, a queue of faults consumed by the requests they match, delays that a stop
 * cuts short, and a stop that drops every connection, keep-alive ones too. A fake says only
 * how it reads a request (`describe`), which faults match it, and how it answers.
 *
 * A fake that plays more than one host (e.g. Qualys's API gateway and its API server) names
 * them: each gets its own listener, all share the fake's state, and `describe` is told which
 * host a request reached. `url` is the first host's base URL, `urlOf(host)` any host's.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

/** The fault kinds both fakes take; each adds what a request must match and what it answers. */
export interface FaultKinds {
  /** @default 1 */
  times?: number;
  /** Wait this long first. */
  delayMs?: number;
  /** Destroy the connection without answering. */
  reset?: boolean;
  /** Answer with this status instead of serving the request. */
  status?: number;
}

/** One entry of the call log: the status is filled in when the answer is sent. */
export interface LoggedCall {
  /** 0 when the connection was reset (fault) or the fake stopped first. */
  status: number;
  at: number;
}

export interface Reply {
  status: number;
  /** Text, or bytes as they are (an S3 object's body). */
  body: string | Buffer;
  /** '' sends no Content-Type (an empty answer). */
  contentType: string;
  headers?: Record<string, string>;
}

/** A request as a fake reads it: the entry for the call log, and how to answer it normally. */
export interface DescribedRequest<C extends LoggedCall> {
  call: C;
  answer: () => Reply | Promise<Reply>;
  /** Called once when the exchange is over: answered, dropped by a fault, or cut by a stop. */
  settled?: () => void;
}

export abstract class FakeServer<F extends FaultKinds, C extends LoggedCall> {
  /** Every request, in arrival order. */
  readonly calls: C[] = [];
  /** Delay before every answer. */
  latencyMs = 0;

  private readonly servers = new Map<string, http.Server>();
  private stopping = false;
  private readonly sleeping = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  private faults: Array<F & { remaining: number }> = [];

  /**
   * @param name for error messages
   * @param crashReply the answer when serving throws (a bug in the fake, made visible)
   * @param now the clock for call-log times (and the fake's own state)
   * @param hosts the names of the hosts this fake plays, one listener each; the first is `url`
   */
  protected constructor(
    private readonly name: string,
    private readonly crashReply: (message: string) => Omit<Reply, 'status'>,
    protected readonly now: () => number,
    private readonly hosts: readonly string[] = ['default'],
  ) {
    if (hosts.length === 0) throw new Error(`${name} needs at least one host`);
  }

  /**
   * Reads one request (which reached `host`) into its call-log entry and its normal answer.
   * `raw` is the body as UTF-8 text, `bytes` the same body as received (binary bodies survive there).
   */
  protected abstract describe(
    req: http.IncomingMessage,
    raw: string,
    at: number,
    host: string,
    bytes: Buffer,
  ): DescribedRequest<C>;
  /** Whether a queued fault applies to this call. */
  protected abstract faultMatches(fault: F, call: C): boolean;
  /** The answer a matching fault gives, or undefined to serve the request normally after its delay. */
  protected abstract faultReply(fault: F, call: C): Reply | undefined;
  /** The key `callCounts` groups calls by. */
  protected abstract callKey(call: C): string;

  /** Last touches to every answer before it is written (e.g. a request ID). */
  protected finish(reply: Reply): Reply {
    return reply;
  }

  // ---- loopback lifecycle ----------------------------------------------------------------

  /** Listens on 127.0.0.1, on a free port per host; returns the (first host's) base URL. */
  async start(): Promise<string> {
    if (this.servers.size > 0) return this.url;
    this.stopping = false;
    try {
      for (const host of this.hosts) this.servers.set(host, await this.listen(host));
    } catch (error) {
      await this.stop();
      throw error;
    }
    return this.url;
  }

  /** The base URL of the first host. */
  get url(): string {
    return this.urlOf(this.hosts[0]);
  }

  /** The base URL of one of the hosts this fake plays. */
  urlOf(host: string): string {
    if (!this.hosts.includes(host))
      throw new Error(`${this.name} plays no host '${host}' (hosts: ${this.hosts.join(', ')})`);
    const server = this.servers.get(host);
    if (!server) throw new Error(`${this.name} is not started`);
    const { port } = server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  /** Stops listening and drops every connection (keep-alive ones too) and pending delay. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const s of this.sleeping) {
      clearTimeout(s.timer);
      s.resolve();
    }
    this.sleeping.clear();
    const servers = [...this.servers.values()];
    this.servers.clear();
    await Promise.all(
      servers.map((server) => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        return closed;
      }),
    );
  }

  private async listen(host: string): Promise<http.Server> {
    const server = http.createServer((req, res) => {
      this.serve(req, res, host).catch((error: unknown) => {
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
    return server;
  }

  // ---- faults and the call log -------------------------------------------------------------

  /** Queues a fault; faults are consumed in order by the requests they match. */
  inject(fault: F): void {
    this.faults.push({ ...fault, remaining: fault.times ?? 1 });
  }

  clearFaults(): void {
    this.faults = [];
  }

  resetCalls(): void {
    this.calls.length = 0;
  }

  /** How many calls there were of each kind (see `callKey`). */
  callCounts(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const c of this.calls) {
      const key = this.callKey(c);
      counts[key] = (counts[key] ?? 0) + 1;
    }
    return counts;
  }

  // ---- serving -------------------------------------------------------------------------------

  /** Waits, unless the server stops first. */
  protected sleep(ms: number): Promise<void> {
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

  private async serve(req: http.IncomingMessage, res: http.ServerResponse, host: string): Promise<void> {
    const at = this.now();
    const bytes = await readBody(req);
    const { call, answer, settled } = this.describe(req, bytes.toString('utf8'), at, host, bytes);
    this.calls.push(call);
    if (settled) res.once('close', settled);

    const fault = this.takeFault(call);
    if (fault?.delayMs) await this.sleep(fault.delayMs);
    if (fault && this.stopping) return void res.destroy();
    if (fault?.reset) return void req.socket.destroy();
    const faulty = fault && this.faultReply(fault, call);

    if (this.latencyMs) await this.sleep(this.latencyMs);
    // A delayed answer is dropped once a stop has begun.
    if (this.stopping) return void res.destroy();
    this.send(res, call, faulty ?? (await answer()));
  }

  private send(res: http.ServerResponse, call: C, answer: Reply): void {
    if (res.destroyed || res.writableEnded) return;
    const reply = this.finish(answer);
    call.status = reply.status;
    res.writeHead(reply.status, {
      ...(reply.contentType ? { 'Content-Type': reply.contentType } : {}),
      ...(reply.status === 204 ? {} : { 'Content-Length': String(Buffer.byteLength(reply.body)) }),
      ...reply.headers,
    });
    res.end(reply.body);
  }

  private takeFault(call: C): F | undefined {
    const index = this.faults.findIndex((f) => this.faultMatches(f, call));
    if (index < 0) return undefined;
    const fault = this.faults[index];
    if (--fault.remaining <= 0) this.faults.splice(index, 1);
    return fault;
  }
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
