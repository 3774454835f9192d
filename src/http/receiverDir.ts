import type { Stats } from 'node:fs';
import { chmod, lstat, mkdir, open, readdir, rm } from 'node:fs/promises';
import path from 'node:path';

/** Mode of every folder the receiver makes, set with chmod so no umask widens it. */
export const FOLDER_MODE = 0o755;

/** A folder in or above the receiver's dir that someone else could swap for a symlink. */
export class UnsafeFolderError extends Error {
  readonly code = 'FANOUT_UNSAFE_FOLDER';
}

/**
 * Why `stat` (a folder under the receiver's dir) lets another local user create, rename or
 * replace entries in it, or undefined when only the receiver's own user can. Node has no
 * renameat/openat2, so a rename into a folder follows whatever that folder path names at
 * that instant: the receiver is only safe when nobody else can change what it names.
 */
export function unsafeFolder(stat: Stats): string | undefined {
  const uid = process.getuid?.();
  if (uid !== undefined && stat.uid !== uid) return `is owned by uid ${stat.uid}, not by this receiver's user (uid ${uid})`;
  if (stat.mode & 0o022) return `is writable by ${stat.mode & 0o020 ? 'its group' : 'others'} (mode ${(stat.mode & 0o7777).toString(8)})`;
  return undefined;
}

/**
 * Refuse a root that another user could redirect: each folder above it must belong to root
 * or to us, and may be writable by others only if sticky (like /tmp, where nobody else may
 * rename our entries); the root and every folder under it must pass `unsafeFolder`.
 */
export async function checkTree(root: string): Promise<void> {
  const uid = process.getuid?.();
  for (let at = path.dirname(root); uid !== undefined; at = path.dirname(at)) {
    const stat = await lstat(at);
    const trusted = stat.uid === 0 || stat.uid === uid;
    if (!trusted) throw new UnsafeFolderError(`"${at}" above the dir is owned by uid ${stat.uid}, who could swap the dir for a symlink`);
    if (stat.mode & 0o022 && !(stat.mode & 0o1000)) throw new UnsafeFolderError(`"${at}" above the dir is writable by others without the sticky bit`);
    if (at === path.dirname(at)) break;
  }
  const walk = async (at: string): Promise<void> => {
    const why = unsafeFolder(await lstat(at));
    if (why) throw new UnsafeFolderError(`"${at}" ${why}: only the receiver's own user may write under the dir`);
    for (const entry of await readdir(at, { withFileTypes: true })) {
      if (entry.isDirectory()) await walk(path.join(at, entry.name));
    }
  };
  await walk(root);
}

/**
 * Make `at` (whose parent exists) as a FOLDER_MODE folder unless it is one already. Throws
 * UnsafeFolderError when `at` is a symlink, or a folder someone else may write.
 */
export async function ensureFolder(at: string): Promise<void> {
  const made = await mkdir(at, { mode: FOLDER_MODE }).then(
    () => true,
    (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
      return false;
    },
  );
  if (made) await chmod(at, FOLDER_MODE);
  const stat = await lstat(at);
  if (stat.isSymbolicLink() || !stat.isDirectory()) throw new UnsafeFolderError(`"${at}" is not a folder`);
  const why = unsafeFolder(stat);
  if (why) throw new UnsafeFolderError(`"${at}" ${why}`);
}

/** Make `dir` and any missing folders above it, each FOLDER_MODE. */
export async function makeDir(dir: string): Promise<void> {
  const first = await mkdir(dir, { recursive: true, mode: FOLDER_MODE });
  if (first === undefined) return;
  for (let at = path.resolve(dir); ; at = path.dirname(at)) {
    await chmod(at, FOLDER_MODE);
    if (at === path.resolve(first) || at === path.dirname(at)) break;
  }
}

/** Remove what a killed receiver left in its temp folder; returns how many entries. */
export async function clearFolder(dir: string): Promise<number> {
  const entries = await readdir(dir);
  await Promise.all(entries.map((name) => rm(path.join(dir, name), { recursive: true, force: true })));
  return entries.length;
}

/** Whether a file can be created, written and removed in `dir` now (`/healthz`). */
export async function canWrite(dir: string): Promise<boolean> {
  const probe = path.join(dir, `.healthz-${process.pid}-${Math.random().toString(36).slice(2)}`);
  try {
    const handle = await open(probe, 'wx');
    await handle.close();
    await rm(probe);
    return true;
  } catch {
    return false;
  }
}
