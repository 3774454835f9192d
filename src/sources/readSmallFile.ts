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
