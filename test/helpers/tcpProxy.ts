import net from 'node:net';

/**
 * A TCP proxy in front of a real server that a test can cut and restore: a database
 * "going away" as its clients see it (connections reset, new ones refused).
 */
export class TcpProxy {
  private server?: net.Server;
  private readonly sockets = new Set<net.Socket>();
  /** while set, new clients are accepted but not connected upstream: a database that connects slowly */
  private held?: (() => void)[];
  port = 0;

  constructor(private readonly upstreamPort: number, private readonly upstreamHost = '127.0.0.1') {}

  async start(port = this.port): Promise<number> {
    this.server = net.createServer((client) => {
      if (this.held) {
        this.sockets.add(client);
        client.on('close', () => this.sockets.delete(client));
        client.on('error', () => undefined);
        this.held.push(() => this.pipe(client));
        return;
      }
      this.pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      this.server?.once('error', reject);
      this.server?.listen(port, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as net.AddressInfo).port;
    return this.port;
  }

  /** Hold new connections (accepted, silent) until release(). */
  hold(): void {
    this.held ??= [];
  }

  /** How many connections are being held. */
  get holding(): number {
    return this.held?.length ?? 0;
  }

  /** Connect the held connections upstream, and new ones from now on. */
  release(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const connect of held) connect();
  }

  private pipe(client: net.Socket): void {
    if (client.destroyed) return;
    const upstream = net.connect(this.upstreamPort, this.upstreamHost);
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  }

  /** Reset every connection and refuse new ones. */
  async cut(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    for (const sock of this.sockets) sock.destroy();
    await new Promise<void>((resolve) => (s ? s.close(() => resolve()) : resolve()));
  }

  async restore(): Promise<void> {
    await this.start(this.port);
  }
}

/** A proxy in front of the MySQL/MariaDB of `dbUrl`, and the same URL through it. */
export async function proxiedDatabase(dbUrl: string): Promise<{ proxy: TcpProxy; viaProxy: string }> {
  const real = new URL(dbUrl);
  const proxy = new TcpProxy(Number(real.port || 3306), real.hostname);
  const u = new URL(dbUrl);
  u.port = String(await proxy.start());
  return { proxy, viaProxy: u.toString() };
}
