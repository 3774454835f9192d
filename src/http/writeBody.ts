import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import type { IncomingMessage } from 'node:http';

/** The body grew past the limit; the rest of it was not read. */
export class BodyTooLargeError extends Error {
  readonly code = 'FANOUT_BODY_TOO_LARGE';
}

/** The client went away (or closed early) before sending the whole body. */
export class ClientAbortedError extends Error {
  readonly code = 'FANOUT_CLIENT_ABORTED';
}

/** No body byte arrived for the idle timeout: the client stalled (or trickles too slowly to matter). */
export class BodyIdleError extends Error {
  readonly code = 'FANOUT_BODY_IDLE';
}

export interface WrittenBody {
  bytes: number;
  sha256: string;
}

/**
 * Stream the request body into `file`, hashing as it goes. Handled by hand rather than
 * with `pipeline()` because a failed pipeline destroys the request, and with it the
 * socket we still need to answer a 413 on. The caller removes `file` on failure.
 * Fails with BodyIdleError when the client sends nothing for `idleMs`; time spent waiting
 * on our own disk (the request paused for backpressure) does not count.
 */
export function writeBody(req: IncomingMessage, file: string, maxBytes: number, idleMs: number): Promise<WrittenBody> {
  return new Promise<WrittenBody>((resolve, reject) => {
    const out = createWriteStream(file, { flags: 'wx', mode: 0o644 });
    const hash = createHash('sha256');
    let bytes = 0;
    let settled = false;
    let idle: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(idle);
      idle = setTimeout(() => fail(new BodyIdleError(`no body bytes for ${idleMs} ms`)), idleMs);
    };

    const detach = () => {
      clearTimeout(idle);
      req.off('data', onData).off('end', onEnd).off('close', onClose).off('error', onError);
    };
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      detach();
      req.pause();
      out.destroy();
      // Wait for the handle to close so the caller's unlink does not race the open.
      if (out.closed) reject(err);
      else out.once('close', () => reject(err));
    };
    const onData = (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > maxBytes) return fail(new BodyTooLargeError(`body over ${maxBytes} bytes`));
      hash.update(chunk);
      if (out.write(chunk)) return arm();
      clearTimeout(idle);
      req.pause();
      out.once('drain', () => {
        if (settled) return;
        arm();
        req.resume();
      });
    };
    const onEnd = () => {
      detach();
      // Resolve once the handle is closed, so the caller may rename the file on any platform.
      out.once('close', () => {
        if (settled) return;
        settled = true;
        resolve({ bytes, sha256: hash.digest('hex') });
      });
      out.end();
    };
    const onClose = () => {
      if (!req.complete) fail(new ClientAbortedError('client closed before the body ended'));
    };
    const onError = (err: Error) => fail(new ClientAbortedError(err.message, { cause: err }));

    out.once('error', fail);
    arm();
    req.on('data', onData).once('end', onEnd).once('close', onClose).once('error', onError);
    if (req.destroyed) onClose(); // it closed while the caller was busy: no 'close' event will come

  });
}
