/**
 * A forward proxy on loopback that speaks HTTP CONNECT, as corporate egress proxies do, and
 * records each tunnel it opens. It forwards only to loopback addresses.
 */
import * as http from 'node:http';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';

export class ConnectProxy {
  /** `host:port` of every tunnel asked for, in order. */
  readonly tunnels: string[] = [];
  private server?: http.Server;
  private readonly sockets = new Set<net.Socket>();

  async start(): Promise<string> {
    const server = http.createServer((_req, res) => {
      res.writeHead(405).end('this proxy only tunnels (CONNECT)');
    });
    server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
      const target = req.url ?? '';
      this.tunnels.push(target);
      const [host, port] = target.split(':');
      if (!['127.0.0.1', 'localhost'].includes(host)) {
        client.end('HTTP/1.1 403 Forbidden\r\n\r\n');
        return;
      }
      const upstream = net.connect(Number(port), host, () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        if (head.length > 0) upstream.write(head);
        upstream.pipe(client);
        client.pipe(upstream);
      });
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => s.destroy());
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
