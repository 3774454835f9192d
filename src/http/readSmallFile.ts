import fs from 'node:fs';

/**
 * Read a small file whose size the walker already knows into one buffer.
 *
 * Synchronously, on purpose: every async fs call is a hand-off to libuv's thread pool and
 * a wake-up back, and on a small machine those round trips (open, fstat, read, close)
 * cost more CPU than the read itself (measured: ~155 us of main-thread time per 64 KiB
 * file async, ~35 us sync). Files here are at most 1 MiB and come from local disk or
 * page cache; large files are streamed asynchronously. `into` is a buffer to read into (of
 * at least size + 1 bytes), so callers can reuse buffers. One byte more than expected is
 * asked for, so a caller comparing lengths also sees a file that grew.
 */
export function readSmallFile(absPath: string | Buffer, size: number, into: Buffer = Buffer.allocUnsafe(size + 1)): Buffer {
  const fd = fs.openSync(absPath, 'r');
  try {
    const buf = into.length > size ? into.subarray(0, size + 1) : Buffer.allocUnsafe(size + 1);
    let n = 0;
    for (;;) {
      const got = fs.readSync(fd, buf, n, buf.length - n, n);
      n += got;
      if (got === 0 || n === buf.length) break;
    }
    return buf.subarray(0, n);
  } finally {
    fs.closeSync(fd);
  }
}

/** As readSmallFile, through libuv's thread pool: the main thread does not wait on the disk. */
export async function readSmallFileAsync(absPath: string | Buffer, size: number, into: Buffer = Buffer.allocUnsafe(size + 1)): Promise<Buffer> {
  const fh = await fs.promises.open(absPath, 'r');
  try {
    const buf = into.length > size ? into.subarray(0, size + 1) : Buffer.allocUnsafe(size + 1);
    let n = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, n, buf.length - n, n);
      n += bytesRead;
      if (bytesRead === 0 || n === buf.length) break;
    }
    return buf.subarray(0, n);
  } finally {
    await fh.close();
  }
}

/** a sync read slower than this (moving average) is not from the page cache: the disk, or NFS */
const SLOW_READ_MS = 0.5;
/** once reads are slow, this many go through the thread pool before a sync one is tried again */
const ASYNC_SPELL = 256;

/**
 * Small files are read synchronously while that is cheap (they come from the page cache:
 * ~35 us of main-thread time for 64 KiB, against ~155 us through the thread pool), and
 * through the thread pool while the sync reads are slow (a cold disk or a network
 * filesystem: there a sync read stalls every upload in flight for the disk's latency, and
 * the pool's four threads read in parallel). Measured: 10,000 x 64 KiB from a cold page
 * cache (drop_caches before each run), 3.9-4.9 s sync only, 3.4-4.6 s switching (this VM's
 * disk is the limit); from the page cache the same within noise.
 */
export class SmallReads {
  private slowMs = 0;
  private asyncLeft = 0;

  /** `now`: the clock sync reads are timed with (ms) */
  constructor(private readonly now: () => number = () => performance.now()) {}

  /** how the next read goes */
  get mode(): 'sync' | 'async' {
    return this.asyncLeft > 0 ? 'async' : 'sync';
  }

  async read(absPath: string | Buffer, size: number, into?: Buffer): Promise<Buffer> {
    if (this.asyncLeft > 0) {
      this.asyncLeft--;
      return readSmallFileAsync(absPath, size, into);
    }
    const t0 = this.now();
    const buf = readSmallFile(absPath, size, into);
    this.slowMs += 0.2 * (this.now() - t0 - this.slowMs);
    if (this.slowMs > SLOW_READ_MS) {
      this.asyncLeft = ASYNC_SPELL;
      this.slowMs = 0;
    }
    return buf;
  }
}
