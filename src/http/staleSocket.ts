import { buildConnector } from 'undici';

/**
 * Free resends per attempt after a stale socket: enough for a pool whose idle sockets the
 * server all closed at once, few enough that a host breaking every connection still fails.
 */
export const STALE_SOCKET_RESENDS = 2;

/** How a socket the server closed shows when a request is written onto it. */
const CLOSED_CODES = new Set(['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE']);

/** Errors of sockets that had read bytes before they broke: kept-alive sockets being reused. */
const onReusedSockets = new WeakSet<object>();

/**
 * undici's connector, noting which errors come from a socket that had already carried an
 * answer. Our listener goes on before undici's, and undici fails the request with the
 * same error object, so the mark is there when the request's promise rejects.
 */
export function reuseMarkingConnector(options: buildConnector.BuildOptions): buildConnector.connector {
  const connect = buildConnector(options);
  return (opts, callback) =>
    connect(opts, (...args: buildConnector.CallbackArgs) => {
      const socket = args[1];
      socket?.on('error', (e: unknown) => {
        if (socket.bytesRead > 0 && typeof e === 'object' && e !== null) onReusedSockets.add(e);
      });
      callback(...args);
    });
}

/**
 * Whether a request failed because the server closed a kept-alive socket just as it was
 * reused (RFC 9112 §9.3.1: it never saw the request, so resending it is safe). Only for a
 * request that got no answer: a rejected `request()` means no response head came in.
 * A socket that read bytes, then broke without an answer is the best sign of reuse undici
 * leaves; a fresh connection reset is the host's fault and is not resent.
 */
export function isStaleSocket(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && CLOSED_CODES.has(code) && onReusedSockets.has(err);
}
