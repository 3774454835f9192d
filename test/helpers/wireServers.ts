import net from 'node:net';

/** A raw TCP server on 127.0.0.1 port 0 that a test makes misbehave below HTTP. */
export interface WireServer {
  url: string;
  /** connections accepted so far */
  connections: () => number;
  close(): Promise<void>;
}

export async function startWireServer(onConnection: (socket: net.Socket) => void): Promise<WireServer> {
  const sockets = new Set<net.Socket>();
  let connections = 0;
  const server = net.createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    onConnection(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Calls `onHead` once with the request head (up to the blank line); later bytes are read and dropped. */
function onRequestHead(socket: net.Socket, onHead: (head: string) => void): void {
  let head = '';
  let seen = false;
  socket.on('data', (chunk: Buffer) => {
    if (seen) return;
    head += chunk.toString('latin1');
    const end = head.indexOf('\r\n\r\n');
    if (end < 0) return;
    seen = true;
    onHead(head.slice(0, end));
  });
}

/**
 * Answers every request `500` with a chunked body that never ends: 16 KiB chunks as fast as
 * the client takes them, until the client closes the socket or `capBytes` went out (then it
 * ends the body properly, so a client that reads it whole finishes, late). `sent()` is the
 * body bytes written on each connection once it closed.
 */
export async function startEndlessErrorServer(capBytes = 256 << 20): Promise<WireServer & { sent: () => number[] }> {
  const sent: number[] = [];
  const server = await startWireServer((socket) => {
    let bytes = 0;
    socket.on('close', () => sent.push(bytes));
    onRequestHead(socket, () => {
      socket.write('HTTP/1.1 500 Internal Server Error\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\n\r\n');
      const chunk = Buffer.alloc(16 * 1024, 'x');
      chunk.write('boom: the disk is on fire ');
      const frame = Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]);
      const pump = () => {
        while (!socket.destroyed && bytes < capBytes) {
          bytes += chunk.length;
          if (!socket.write(frame)) return void socket.once('drain', pump);
        }
        if (!socket.destroyed) socket.end('0\r\n\r\n');
      };
      pump();
    });
  });
  return { ...server, sent: () => sent };
}

/**
 * Answers `200` as soon as a request's head is in, and reads no more: a broken receiver.
 * The client can hand over only what the socket buffers take (a few MB on loopback), so a
 * body well past that is cut short. `answered()` counts the requests answered that way.
 */
export async function startEarlyAnswerServer(): Promise<WireServer & { answered: () => number }> {
  let answered = 0;
  const server = await startWireServer((socket) => {
    onRequestHead(socket, () => {
      answered++;
      socket.pause();
      socket.write('HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
    });
  });
  return { ...server, answered: () => answered };
}

/**
 * A TCP proxy in front of a real receiver that lets each client connection carry one
 * request: when the client starts another on it (sends bytes after the receiver answered),
 * the proxy drops the connection without forwarding them, as a server does whose keep-alive
 * timer fires just as the client reuses the socket. `rst` resets instead of closing.
 */
export async function startStaleKeepAliveProxy(upstream: string, how: 'fin' | 'rst' = 'fin'): Promise<WireServer & { dropped: () => number }> {
  const up = new URL(upstream);
  let dropped = 0;
  const server = await startWireServer((client) => {
    const backend = net.connect(Number(up.port), up.hostname);
    backend.on('error', () => client.destroy());
    let answered = false;
    backend.on('data', (c: Buffer) => {
      answered = true;
      client.write(c);
    });
    client.on('data', (c: Buffer) => {
      if (!answered) return void backend.write(c);
      dropped++;
      backend.destroy();
      if (how === 'rst') client.resetAndDestroy();
      else client.destroy();
    });
    client.on('close', () => backend.destroy());
    backend.on('close', () => client.destroy());
  });
  return { ...server, dropped: () => dropped };
}

/** Starts an answer (`HTTP/1.1 2`), then resets the connection: every time. */
export async function startHalfAnswerResetServer(): Promise<WireServer> {
  return startWireServer((socket) => onRequestHead(socket, () => socket.write('HTTP/1.1 2', () => socket.resetAndDestroy())));
}

/** Resets each connection as soon as a request arrives, before a byte of an answer. */
export async function startResetServer(): Promise<WireServer> {
  return startWireServer((socket) => socket.once('data', () => socket.resetAndDestroy()));
}
