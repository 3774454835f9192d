import { walkFiles, type WalkOptions } from '../sources/walkFiles.js';

export interface CountOptions {
  signal?: AbortSignal;
  /** the count so far, now and then (every `every` files) */
  onCount?: (n: number) => void;
  every?: number;
}

/**
 * Count the files a batch will match, with the walker the pipeline uses (same globs,
 * same min-age), holding nothing but the count. For the progress display only: the
 * pipeline streams and never knows its total up front. Resolves null when aborted.
 */
export async function countFiles(dir: string, walk: WalkOptions, opts: CountOptions = {}): Promise<number | null> {
  const { signal, onCount, every = 64 } = opts;
  let n = 0;
  for await (const _file of walkFiles(dir, walk)) {
    if (signal?.aborted) return null; // leaving the loop closes the walker and its open directory
    n++;
    if (n % every === 0) {
      onCount?.(n);
      // the walk's stats are synchronous: give the upload pipeline the event loop now and then
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
  return signal?.aborted ? null : n;
}
