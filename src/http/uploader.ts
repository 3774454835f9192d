import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { Pool, type Dispatcher } from 'undici';
import { UploadError } from '../errors.js';
import { SmallReads } from './readSmallFile.js';
import type { SourceFile } from '../types.js';
import { classifyError, isTransientStatus, parseRetryAfter } from './classifyResponse.js';
import { BufferPool } from './bufferPool.js';
import { IdleWatchdog } from './idleWatchdog.js';
import { isStaleSocket, reuseMarkingConnector, STALE_SOCKET_RESENDS } from './staleSocket.js';
import { TokenBucket } from './tokenBucket.js';

export interface UploaderOptions {
  batchId: string;
  /** connections per target: its upload slots */
  perTarget: number;
  token?: string;
  connectTimeoutMs?: number;
  /** no bytes moving for this long fails the attempt */
  idleTimeoutMs?: number;
  /** bytes/s overall and per target */
  bwlimit?: number;
  bwlimitPerTarget?: number;
  /** the dispatcher for a target's origin (tests inject undici's MockAgent here); default: a Pool */
  dispatcherFor?: (origin: string, poolOptions: Pool.Options) => Dispatcher;
}

export interface UploadOutcome {
  sha256: string;
  /** the receiver returned its digest and it matched */
  verified: boolean;
}

/** files under this size are read whole and sent as one buffer (digest sent ahead); larger ones are streamed */
export const CHUNK_BYTES = 1 << 20;
/**
 * read size of streamed files (two buffers a stream): 512 KiB, not CHUNK_BYTES, so that 16
 * streams of 4 MiB files hold 16 MiB, not 32. Measured (550 files of 256 KiB-4 MiB, 16 at
 * once, loopback): peak RSS 151-172 MB -> 143-146 MB; 10 x 256 MiB took the same time
 * (2.07-2.16 s against 2.10-2.19 s; 256 KiB reads cost ~8 % there)
 */
const STREAM_READ_BYTES = 512 << 10;

/** `PUT {target}/files/{each segment encodeURIComponent'd}`: the wire path of a file. */
export function wirePath(basePath: string, relPath: string): string {
  return `${basePath}/files/${relPath.split('/').map(encodeURIComponent).join('/')}`;
}

interface PoolEntry {
  pool: Dispatcher;
  basePath: string;
  bucket?: TokenBucket;
}

/** Of an error answer's body, this much is read for its message; then the connection is dropped. */
const ERROR_TEXT_BYTES = 4096;

/**
 * One undici Pool per target, sized to its slots, keep-alive. Each file is read once:
 * hashed in the same pass as it is sent, and checked against the receiver's digest.
 */
export class Uploader {
  private readonly pools = new Map<string, PoolEntry>();
  private readonly global?: TokenBucket;
  private readonly buffers = new BufferPool();
  private readonly reads = new SmallReads();

  constructor(targets: readonly string[], private readonly opts: UploaderOptions) {
    const { perTarget, connectTimeoutMs = 10_000, idleTimeoutMs = 60_000, bwlimit, bwlimitPerTarget } = opts;
    if (bwlimit) this.global = new TokenBucket(bwlimit);
    for (const t of targets) {
      const url = new URL(t);
      const poolOptions: Pool.Options = {
        connections: perTarget,
        connectTimeout: connectTimeoutMs,
        // the IdleWatchdog owns the wait for the answer: undici's clock would run on while a
        // chunk waits for --bwlimit tokens, and only moves on each write the socket refuses
        headersTimeout: 0,
        bodyTimeout: idleTimeoutMs,
        keepAliveTimeout: 30_000,
        connect: reuseMarkingConnector({ timeout: connectTimeoutMs }),
      };
      const pool = opts.dispatcherFor ? opts.dispatcherFor(url.origin, poolOptions) : new Pool(url.origin, poolOptions);
      this.pools.set(t, { pool, basePath: url.pathname.replace(/\/+$/, ''), bucket: bwlimitPerTarget ? new TokenBucket(bwlimitPerTarget) : undefined });
    }
  }

  async upload(target: string, file: SourceFile, signal?: AbortSignal): Promise<UploadOutcome> {
    const entry = this.pools.get(target);
    if (!entry) throw new UploadError(`unknown target ${target}`, false);
    // A kept-alive socket the server closed just as it was reused never carried the request:
    // send it again at once on a fresh connection, as the same attempt, and no strike on the host.
    for (let resends = 0; ; resends++) {
      try {
        return await this.send(entry, file, signal);
      } catch (err) {
        if (resends < STALE_SOCKET_RESENDS && isStaleSocket(err) && !signal?.aborted) continue;
        throw classifyError(err);
      }
    }
  }

  /** One request: reads (or streams) the file afresh, so a resend sends it whole again. */
  private async send(entry: PoolEntry, file: SourceFile, signal?: AbortSignal): Promise<UploadOutcome> {
    const { pool, basePath, bucket } = entry;
    const throttle = async (n: number) => {
      await this.global?.take(n, signal);
      await bucket?.take(n, signal);
    };
    const headers: Record<string, string> = {
      'content-type': 'application/octet-stream',
      'content-length': String(file.size),
      'x-fanout-batch': this.opts.batchId,
    };
    if (this.opts.token) headers.authorization = `Bearer ${this.opts.token}`;

    const hash = createHash('sha256');
    const idleMs = this.opts.idleTimeoutMs ?? 60_000;
    // streamed bodies: armed only once the request goes out (reading the file and waiting for
    // tokens is not idling). A buffer body is sent whole after its tokens, so undici's own
    // headersTimeout covers it, and no watchdog (a timer and an abort listener) per small file.
    let idle: IdleWatchdog | undefined;
    let body: Buffer | AsyncIterable<Buffer>;
    let sentDigest: string | undefined;
    let slab: Buffer | undefined;
    const handed = { bytes: 0 };
    if (file.size < CHUNK_BYTES) {
      slab = this.buffers.take(file.size + 1);
      const buf = await this.reads.read(file.absPath, file.size, slab);
      if (buf.length !== file.size) throw fileChanged(file, buf.length);
      sentDigest = hash.update(buf).digest('hex');
      headers['x-fanout-sha256'] = sentDigest;
      await throttle(buf.length);
      body = buf;
    } else {
      idle = new IdleWatchdog(idleMs, signal);
      body = streamAndHash(file, hash, throttle, idle, handed);
    }

    try {
      idle?.touch();
      const res = await pool.request({
        path: wirePath(basePath, file.path),
        method: 'PUT',
        headers,
        // undici sends an async iterable as a streamed body (its types list only Readable)
        body: body as Buffer,
        idempotent: true,
        signal: idle ? idle.signal : signal,
        headersTimeout: idle ? 0 : idleMs,
      });
      // taken at once: undici may still pull a chunk after the answer is in
      const handedWhenAnswered = handed.bytes;
      idle?.stop();
      if (res.statusCode < 200 || res.statusCode >= 300) {
        const text = await errorText(res.body);
        throw new UploadError(
          `HTTP ${res.statusCode}${text ? `: ${text}` : ''}`,
          isTransientStatus(res.statusCode),
          res.statusCode,
          parseRetryAfter(res.headers['retry-after']),
        );
      }
      // A receiver that answers before it read the body is broken: what it holds is not the file,
      // and our digest covers only the part read so far. (A correct one answers after the last
      // byte, so after the last chunk was handed over.)
      if (idle && handedWhenAnswered !== file.size) {
        await res.body.dump().catch(() => undefined);
        throw new UploadError(`answered ${res.statusCode} after ${handedWhenAnswered} of ${file.size} bytes were sent`, true, undefined, undefined, {
          code: 'FANOUT_EARLY_ANSWER',
        });
      }
      await res.body.dump();
      const digest = sentDigest ?? hash.digest('hex');
      const theirs = res.headers['x-fanout-sha256'];
      const received = Array.isArray(theirs) ? theirs[0] : theirs;
      if (received !== undefined && received.toLowerCase() !== digest) {
        throw new UploadError(`checksum mismatch: sent ${digest}, receiver stored ${received}`, true, 422);
      }
      // a 2xx means the receiver read the whole body: the buffer is ours again (after an error
      // or an early answer a socket may still hold it, so it is left to the GC)
      if (slab) this.buffers.give(slab);
      return { sha256: digest, verified: received !== undefined };
    } catch (err) {
      throw idle ? idle.reason(err) : err;
    } finally {
      idle?.stop();
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map(({ pool }) => pool.close().catch(() => pool.destroy())));
  }

  /** Abort everything in flight (second signal, or grace period over). */
  async destroy(): Promise<void> {
    await Promise.all([...this.pools.values()].map(({ pool }) => pool.destroy().catch(() => undefined)));
  }
}

/**
 * The start of an error answer, one line. Only a prefix is read: a receiver may stream an
 * endless body with its error, and reading it whole would hold the slot and grow the heap.
 * Leaving the loop early destroys the body, and undici drops that connection rather than drain it.
 */
async function errorText(body: Dispatcher.ResponseData['body']): Promise<string> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      bytes += chunk.length;
      if (bytes >= ERROR_TEXT_BYTES) break;
    }
  } catch {
    // the status says enough
  }
  return Buffer.concat(chunks).toString('utf8', 0, ERROR_TEXT_BYTES).slice(0, 200).replace(/\s+/g, ' ').trim();
}

function fileChanged(file: SourceFile, now: number): UploadError {
  return new UploadError(`file changed while being read: ${file.size} bytes when listed, ${now} now`, false, undefined, undefined, { code: 'FANOUT_FILE_CHANGED' });
}

/** a wait for the socket this long means it is full: from here it takes bytes at the receiver's pace */
const PACED_WAIT_MS = 10;

/**
 * Read the file in 1 MiB chunks into two buffers used in turn, hash and throttle each chunk
 * on its way out; each chunk the socket takes counts as bytes moving. Waiting for tokens is
 * not idling: the watchdog is paused meanwhile.
 *
 * Two buffers are enough: undici resumes this generator only once the socket took a chunk
 * (if it kept a tail of it, the next chunk fills the socket past its high-water mark and
 * undici waits for 'drain' first), so a buffer is free again two chunks later. A fresh
 * buffer per chunk, as a ReadStream makes, cost page faults and garbage: on 10 x 256 MiB,
 * peak RSS and GC time both fell with this.
 *
 * `handed.bytes` counts what went to undici, as it goes: a 2xx before it reaches the size
 * came before the body was sent.
 */
async function* streamAndHash(
  file: SourceFile,
  hash: ReturnType<typeof createHash>,
  throttle: (n: number) => Promise<void>,
  idle: IdleWatchdog,
  handed: { bytes: number },
): AsyncGenerator<Buffer> {
  const fh = await open(file.absPath, 'r');
  const buffers = [Buffer.allocUnsafeSlow(STREAM_READ_BYTES), Buffer.allocUnsafeSlow(STREAM_READ_BYTES)];
  let n = 0;
  // The socket takes its first few MB at once (kernel buffers); from its first real wait on it
  // takes bytes at the receiver's pace. When the body ends, that first lot still sits in the
  // buffers draining at that pace, and nothing here can see it move.
  let buffered = 0;
  let paced = 0;
  let pacedFrom = 0;
  try {
    for (let turn = 0; n < file.size; turn++) {
      const buf = buffers[turn % 2];
      const { bytesRead } = await fh.read(buf, 0, Math.min(STREAM_READ_BYTES, file.size - n), n);
      if (bytesRead === 0) break; // shrank since it was listed
      const chunk = buf.subarray(0, bytesRead);
      n += bytesRead;
      hash.update(chunk);
      idle.pause();
      await throttle(bytesRead);
      idle.touch();
      const t = performance.now();
      handed.bytes += bytesRead;
      yield chunk;
      idle.touch();
      if (!pacedFrom && performance.now() - t >= PACED_WAIT_MS) pacedFrom = t;
      if (pacedFrom) paced += bytesRead;
      else buffered += bytesRead;
    }
  } finally {
    await fh.close();
  }
  if (n !== file.size) throw fileChanged(file, n);
  // so the answer may take the idle timeout plus twice their estimated drain time
  const drainMs = pacedFrom ? (buffered * (performance.now() - pacedFrom)) / paced : 0;
  idle.awaitAnswer(2 * drainMs);
}
