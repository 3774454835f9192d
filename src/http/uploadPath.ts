import { lstat, realpath } from 'node:fs/promises';
import path from 'node:path';
import { ensureFolder, UnsafeFolderError, unsafeFolder } from './receiverDir.js';

const MAX_SEGMENT_BYTES = 255;
const MAX_PATH_BYTES = 4096;
/** Linux's PATH_MAX counts the final NUL: a longer absolute path fails only after folders were made. */
const MAX_DISK_PATH_BYTES = 4095;
/** The receiver's own scratch folder: no upload may land in it. */
export const TMP_DIR_NAME = '.tmp';

/** Why a path was refused; the message is safe to send back. */
export class UnsafePathError extends Error {
  readonly code = 'FANOUT_UNSAFE_PATH';
  constructor(
    message: string,
    options?: { cause?: unknown },
    /** 400 for a bad name, 409 when it clashes with what is already stored, 403 for a folder others may write */
    readonly status = 400,
  ) {
    super(message, options);
  }
}

/**
 * The relative path carried by `/files/<raw>`, each segment percent-decoded. Refuses
 * anything that could name a file outside the root or that a filesystem would choke on.
 */
export function parseUploadPath(raw: string): string[] {
  const segments = raw.split('/').map((encoded) => {
    let s: string;
    try {
      s = decodeURIComponent(encoded);
    } catch (cause) {
      throw new UnsafePathError('malformed percent-encoding', { cause });
    }
    if (s === '' || s === '.' || s === '..') throw new UnsafePathError('empty, "." or ".." segment');
    if (/[/\\]/.test(s)) throw new UnsafePathError('segment holds "/" or "\\"');
    // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
    if (/[\x00-\x1f\x7f]/.test(s)) throw new UnsafePathError('segment holds a control character');
    if (Buffer.byteLength(s) > MAX_SEGMENT_BYTES) throw new UnsafePathError(`segment over ${MAX_SEGMENT_BYTES} bytes`);
    return s;
  });
  if (Buffer.byteLength(segments.join('/')) > MAX_PATH_BYTES) throw new UnsafePathError(`path over ${MAX_PATH_BYTES} bytes`);
  if (segments[0] === TMP_DIR_NAME) throw new UnsafePathError(`"${TMP_DIR_NAME}" is reserved`);
  return segments;
}

/** The absolute destination of `segments` under `root` (itself a realpath); throws if it would leave it. */
export function resolveInside(root: string, segments: readonly string[]): string {
  const target = path.resolve(root, ...segments);
  if (!target.startsWith(root + path.sep)) throw new UnsafePathError('path leaves the root');
  if (Buffer.byteLength(target) > MAX_DISK_PATH_BYTES) throw new UnsafePathError(`path is over ${MAX_DISK_PATH_BYTES} bytes on disk`);
  return target;
}

/**
 * Walk the folders between `root` and `target`, refusing any that is a symlink (it could point
 * anywhere), not a folder, or writable by another user (who could swap it for a symlink). With
 * `create`, make the missing ones one at a time, so `mkdir -p` never follows a link out of the root.
 */
export async function checkParents(root: string, target: string, create: boolean): Promise<void> {
  const parts = path.relative(root, path.dirname(target)).split(path.sep).filter(Boolean);
  let at = root;
  for (const part of parts) {
    at = path.join(at, part);
    const rel = path.relative(root, at);
    const stat = await lstat(at).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    });
    if (stat === undefined) {
      if (!create) return; // nothing below a missing folder can be a link yet
      await ensureFolder(at).catch((err: unknown) => {
        throw err instanceof UnsafeFolderError ? new UnsafePathError(`"${rel}" changed while being created`, { cause: err }) : err;
      });
      continue;
    }
    if (stat.isSymbolicLink()) throw new UnsafePathError(`"${rel}" is a symlink`);
    if (!stat.isDirectory()) throw new UnsafePathError(`"${rel}" is a file, not a folder`, {}, 409);
    const why = unsafeFolder(stat);
    if (why) throw new UnsafePathError(`folder "${rel}" ${why}`, {}, 403);
  }
  // Belt and braces against a folder swapped for a link between the checks above.
  if (create && (await realpath(path.dirname(target))) !== path.dirname(target)) {
    throw new UnsafePathError('parent folder resolves outside the root');
  }
}
