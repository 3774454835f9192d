import { createReadStream, lstatSync, statSync, type Stats } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { SourceFile } from '../types.js';
import { pathMatcher, type WalkOptions } from './walkFiles.js';

/**
 * The files a list names, in its order, in place of a walk: relative paths under `root`,
 * one a line (as an upstream audit stage knows them). Each is stat'ed when it is pulled,
 * so the list streams: a list of a million lines is never held (only the paths seen, to
 * take a repeated line once). The walk's filters apply: --include/--exclude, --min-age,
 * and only regular files (a symlink only with followSymlinks).
 *
 * A line is never dropped silently: a path that is absolute or climbs out of `root`
 * (`..`), or names nothing, comes out as a file with `error` set (recorded failed, never
 * uploaded); one left out by a filter goes to onSkip like the walker's. Blank lines are
 * no paths; a trailing CR (a list written on Windows) is not part of one.
 *
 *   lines:  a.wav, ../x, gone.wav, a.wav, b.txt (--include '*.wav')
 *   files:  a.wav, ../x (error), gone.wav (error)      skipped: b.txt excluded
 */
export async function* listedFiles(root: string, lines: AsyncIterable<string> | Iterable<string>, opts: WalkOptions = {}): AsyncGenerator<SourceFile> {
  const { minAgeMs = 0, followSymlinks = false, onSkip, onError, now = Date.now } = opts;
  const matches = pathMatcher(opts.include, opts.exclude, { ignoreCase: opts.ignoreCase });
  const absRoot = path.resolve(root);
  const seen = new Set<string>();
  for await (const line of lines) {
    const given = line.endsWith('\r') ? line.slice(0, -1) : line;
    if (given.trim() === '') continue;
    const rel = path.posix.normalize(given.split(path.sep).join('/')).replace(/\/+$/, '');
    const name = path.posix.basename(rel);
    const failed = (error: string): SourceFile => {
      onError?.(rel, new Error(error));
      return { path: rel, absPath: path.join(absRoot, rel), name, size: 0, mtimeMs: 0, error };
    };
    if (path.isAbsolute(given) || path.posix.isAbsolute(rel)) {
      yield { ...failed(`refused: an absolute path in the file list, where paths are relative to ${root}`), path: given, name: path.basename(given) };
      continue;
    }
    if (rel === '.' || rel === '..' || rel.startsWith('../')) {
      yield { ...failed(`refused: the path climbs out of ${root}`), path: given };
      continue;
    }
    if (seen.has(rel)) continue; // listed twice: one file, one row
    seen.add(rel);
    if (!matches(rel)) {
      onSkip?.('excluded', rel);
      continue;
    }
    const abs = path.join(absRoot, rel);
    let st: Stats;
    try {
      st = followSymlinks ? statSync(abs) : lstatSync(abs);
    } catch (err) {
      yield failed(`listed but not found under ${root} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
      continue;
    }
    if (!st.isFile()) {
      onSkip?.('notRegular', rel);
      continue;
    }
    if (minAgeMs > 0 && now() - st.mtimeMs < minAgeMs) {
      onSkip?.('tooYoung', rel);
      continue;
    }
    yield { path: rel, absPath: abs, name, size: st.size, mtimeMs: Math.trunc(st.mtimeMs) };
  }
}

/** The lines of a file list (`-`: stdin), read as they are pulled. */
export function fileListLines(filesFrom: string, stdin: Readable = process.stdin): AsyncIterable<string> {
  return createInterface({ input: filesFrom === '-' ? stdin : createReadStream(filesFrom), crlfDelay: Infinity });
}
