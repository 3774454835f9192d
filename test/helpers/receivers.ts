import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/logger.js';
import { startReceiver, type Receiver, type ReceiverOptions } from '../../src/http/server.js';

export interface ReceiverFleet {
  receivers: Receiver[];
  urls: string[];
  /** one fresh temp dir per receiver, same order as `urls` */
  dirs: string[];
  /** close every receiver and remove the temp dirs */
  close(): Promise<void>;
}

/** `n` real receivers on 127.0.0.1, free ports, each storing into its own temp dir. */
export async function startReceivers(n: number, opts: Partial<ReceiverOptions> = {}): Promise<ReceiverFleet> {
  const dirs = await Promise.all(Array.from({ length: n }, () => mkdtemp(path.join(os.tmpdir(), 'fanout-recv-'))));
  const started = await Promise.allSettled(dirs.map((dir) => startReceiver({ ...opts, dir })));
  const receivers = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const close = async () => {
    await Promise.all(receivers.map((r) => r.close()));
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  };
  const failure = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failure) {
    await close();
    throw failure.reason;
  }
  return { receivers, urls: receivers.map((r) => r.url), dirs, close };
}

/** Every stored file under `dir` (relative `/` paths -> contents), leaving out the receiver's `.tmp`. */
export async function readTree(dir: string): Promise<Map<string, Buffer>> {
  const tree = new Map<string, Buffer>();
  const walk = async (rel: string): Promise<void> => {
    for (const entry of await readdir(path.join(dir, rel), { withFileTypes: true })) {
      const child = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (child === '.tmp') continue;
      if (entry.isDirectory()) await walk(child);
      else if (entry.isFile()) tree.set(child, await readFile(path.join(dir, child)));
    }
  };
  await walk('');
  return tree;
}

/**
 * A receiver logger that counts, per relative path, the uploads stored (its `receive_stored`
 * lines): a file sent twice counts 2, even when both went to one host and the second overwrote the first.
 */
export function storedCounter(): { logger: Logger; counts: Map<string, number> } {
  const counts = new Map<string, number>();
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) {
        if (!line.includes('receive_stored')) continue;
        const p = (JSON.parse(line) as { path: string }).path;
        counts.set(p, (counts.get(p) ?? 0) + 1);
      }
      done();
    },
  });
  return { logger: createLogger({ stream, level: 'info' }), counts };
}
