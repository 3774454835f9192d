import { lstatSync, statSync, type Stats } from 'node:fs';
import { opendir } from 'node:fs/promises';
import path from 'node:path';
import picomatch from 'picomatch';
import { decodeName } from '../pathBytes.js';
import type { SkipReason, SourceFile } from '../types.js';

export type { SkipReason } from '../types.js';

export interface WalkOptions {
  include?: readonly string[];
  /** globs match without regard to case (`*.wav` takes `CALL.WAV`) */
  ignoreCase?: boolean;
  exclude?: readonly string[];
  /** skip files modified less than this many ms ago (still being written) */
  minAgeMs?: number;
  followSymlinks?: boolean;
  /** called for a directory that cannot be read; the walk goes on */
  onError?: (relPath: string, err: unknown) => void;
  /** called for each thing left out on purpose, with why (a directory already entered: 'loop') */
  onSkip?: (reason: SkipReason, relPath: string) => void;
  now?: () => number;
}

type Kind = 'file' | 'dir' | 'link' | 'other';
/** A directory entry; `raw` only when the name is not valid UTF-8 (then `name` escapes its bytes). */
interface Entry {
  name: string;
  kind: Kind;
  raw?: Buffer;
}

// Synchronous on purpose: an async stat is a thread-pool round trip that costs ~70 us of
// main-thread CPU here against a few us for the call itself (inode data is cached right
// after the directory listing). The walk runs ahead of the uploads, so this never waits.
const lstat = async (p: string | Buffer): Promise<Stats> => lstatSync(p);
const stat = async (p: string | Buffer): Promise<Stats> => statSync(p);

const kindOf = (d: { isFile(): boolean; isDirectory(): boolean; isSymbolicLink(): boolean }): Kind =>
  d.isFile() ? 'file' : d.isDirectory() ? 'dir' : d.isSymbolicLink() ? 'link' : 'other';

/**
 * A directory's entries in byte order of their names. Node decodes names as UTF-8 with
 * U+FFFD for bad bytes, so a name holding U+FFFD may have lost bytes: only then (rare) is
 * the directory listed again as raw bytes, to tell such names apart (see pathBytes.ts).
 */
async function listDir(abs: string | Buffer): Promise<Entry[]> {
  const entries: Entry[] = [];
  let lossy = false;
  for await (const d of await opendir(abs)) {
    entries.push({ name: d.name, kind: kindOf(d) });
    lossy ||= d.name.includes('\uFFFD');
  }
  if (!lossy) return entries.sort((a, b) => byteOrder(a.name, b.name));
  const raw: Entry[] = [];
  // 'buffer' works at run time but is missing from @types/node's OpenDirOptions
  for await (const d of await opendir(abs, { encoding: 'buffer' as BufferEncoding })) {
    const bytes = d.name as unknown as Buffer;
    const { name, valid } = decodeName(bytes);
    raw.push({ name, kind: kindOf(d), raw: valid ? undefined : bytes });
  }
  const bytesOf = (e: Entry) => e.raw ?? Buffer.from(e.name);
  return raw.sort((a, b) => Buffer.compare(bytesOf(a), bytesOf(b)));
}

/**
 * Byte order of UTF-8 names, so the order is the same on every machine and locale, without
 * encoding them: UTF-16 code units compare like UTF-8 bytes except that surrogates (code
 * points above U+FFFF) must sort after U+E000-U+FFFF, so those two ranges swap places.
 * (Encoding both names on every comparison was ~20 ms of a 2,000-file walk.)
 */
export function byteOrder(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return utf8Rank(x) - utf8Rank(y);
  }
  return a.length - b.length;
}

const utf8Rank = (unit: number) => (unit < 0xd800 ? unit : unit < 0xe000 ? unit + 0x2000 : unit - 0x800);

/** A glob without "/" matches the file name at any depth; with "/" it matches the relative path. */
export function pathMatcher(include: readonly string[] = [], exclude: readonly string[] = [], opts: { ignoreCase?: boolean } = {}): (rel: string) => boolean {
  const nocase = opts.ignoreCase === true;
  // picomatch's `basename` applies to every pattern it is given, so the two kinds compile apart
  const compile = (globs: readonly string[]) => {
    if (globs.length === 0) return null;
    const byName = globs.filter((g) => !g.includes('/'));
    const byPath = globs.filter((g) => g.includes('/'));
    const fns = [
      ...(byName.length ? [picomatch(byName, { dot: true, basename: true, nocase })] : []),
      ...(byPath.length ? [picomatch(byPath, { dot: true, nocase })] : []),
    ];
    return (rel: string) => fns.some((f) => f(rel));
  };
  const inc = compile(include);
  const exc = compile(exclude);
  return (rel) => (inc === null || inc(rel)) && !(exc !== null && exc(rel));
}

/**
 * Streaming directory walk: depth first, each directory's entries in byte order of
 * their names. Holds one directory listing at a time per level, never the whole tree;
 * symlinks are not followed unless asked.
 *
 *   walkFiles('/calls') -> a/1.wav, a/b/2.wav, c.wav ...
 */
export async function* walkFiles(root: string, opts: WalkOptions = {}): AsyncGenerator<SourceFile> {
  const { minAgeMs = 0, followSymlinks = false, onError, onSkip, now = Date.now } = opts;
  const matches = pathMatcher(opts.include, opts.exclude, { ignoreCase: opts.ignoreCase });
  const absRoot = path.resolve(root);
  // Following links, a directory can be reached again (`up -> ..` is a loop): each one
  // entered is remembered by device and inode and never entered twice. This grows with
  // the number of directories, not files. Without links a tree has no such paths.
  const entered = followSymlinks ? new Set<string>() : null;

  /** False (and reported) when the directory was entered before. */
  const enter = (abs: string | Buffer, rel: string): boolean => {
    if (!entered) return true;
    let id: string;
    try {
      const st = statSync(abs, { bigint: true }); // inode numbers may pass 2^53
      id = `${st.dev}:${st.ino}`;
    } catch (err) {
      onError?.(rel, err);
      return false;
    }
    if (entered.has(id)) {
      onSkip?.('loop', rel);
      return false;
    }
    entered.add(id);
    return true;
  };

  // `invalid`: some name on the way here is not UTF-8, so paths below are Buffers
  async function* walkDir(abs: string | Buffer, rel: string, invalid: boolean): AsyncGenerator<SourceFile> {
    if (!enter(abs, rel)) return;
    let entries: Entry[];
    try {
      entries = await listDir(abs);
    } catch (err) {
      onError?.(rel, err);
      return;
    }
    for (const { name, kind, raw } of entries) {
      const bad = invalid || raw !== undefined;
      const childAbs = bad ? Buffer.concat([Buffer.from(abs), Buffer.from(path.sep), raw ?? Buffer.from(name)]) : path.join(abs as string, name);
      const childRel = rel ? `${rel}/${name}` : name;
      let k = kind;
      if (k === 'link') {
        // not followed, or dangling: not a regular file either way
        const st = followSymlinks ? await stat(childAbs).catch(() => null) : null;
        k = !st ? 'other' : st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'other';
      }
      if (k === 'dir') {
        yield* walkDir(childAbs, childRel, bad);
      } else if (k === 'other') {
        onSkip?.('notRegular', childRel);
      } else if (!matches(childRel)) {
        onSkip?.('excluded', childRel);
      } else {
        const st = await (followSymlinks ? stat : lstat)(childAbs).catch((err) => {
          onError?.(childRel, err);
          return null;
        });
        if (!st) continue;
        if (minAgeMs > 0 && now() - st.mtimeMs < minAgeMs) {
          onSkip?.('tooYoung', childRel);
          continue;
        }
        const file: SourceFile = { path: childRel, absPath: childAbs, name, size: st.size, mtimeMs: Math.trunc(st.mtimeMs) };
        if (bad) file.invalidName = true;
        yield file;
      }
    }
  }

  yield* walkDir(absRoot, '', false);
}
