import { statSync } from 'node:fs';
import path from 'node:path';
import { Observable } from 'rxjs';
import type { ClaimedRow } from '../store/claimQueries.js';
import type { Assignment } from '../types.js';

/** An assignment taken from the batch's queue: its row id and the token its outcome must show. */
export interface ClaimedAssignment extends Assignment {
  claim: { id: number; token: number };
}

export interface ClaimFilesOptions {
  /** where this machine mounts the tree: rows hold relative paths */
  root: string;
  /** claim up to `limit` rows (store/claimQueries' claimRows, bound to a worker) */
  claim: (limit: number) => Promise<ClaimedRow[]>;
  /** rows of the batch not finished, whoever holds them */
  remaining: () => Promise<number>;
  /** most claimed files out (emitted, not handed back through credits$); a function: asked before each claim */
  window: number | (() => number);
  /** most rows one claim takes; default: a quarter of the window (at least 2) */
  chunk?: number;
  /** keep polling when the batch is empty (new rows may be planned); a function: while it says more may come */
  follow?: boolean | (() => Promise<boolean>);
  /** the error a file missing under `root` is settled with (default: not found under --root ROOT) */
  missing?: string;
  /** poll interval when nothing is claimable: starts at min, doubles up to max */
  pollMs?: { min: number; max: number };
}

/**
 * The batch's pending rows as a source, in place of the walker: claims chunks against
 * credits handed back by finished files, polls (backing off) while other workers hold
 * what is left, and completes once the batch has nothing pending — unless `follow` (asked
 * before the count, so a batch that takes no more rows from then on and has none pending is done).
 * A file missing under `root` still flows, marked planError, so its row is settled.
 *
 *   claims:  [abc]---[d]------(none left)
 *   result:  abc-----d--------|
 */
export function claimFiles(opts: ClaimFilesOptions, credits$: Observable<number>): Observable<ClaimedAssignment> {
  const { root, claim, remaining, follow = false, pollMs = { min: 200, max: 2000 }, missing = `not found under --root ${root}` } = opts;
  return new Observable<ClaimedAssignment>((subscriber) => {
    let out = 0;
    let wake: (() => void) | undefined;
    const nap = (ms: number) =>
      new Promise<void>((resolve) => {
        const t = setTimeout(() => done(), ms);
        const done = () => {
          clearTimeout(t);
          wake = undefined;
          resolve();
        };
        wake = done;
      });
    const sub = credits$.subscribe((n) => {
      out -= n;
      wake?.();
    });
    const loop = async () => {
      let delay = pollMs.min;
      while (!subscriber.closed) {
        const window = typeof opts.window === 'function' ? opts.window() : opts.window;
        if (out >= window) {
          await nap(pollMs.max);
          continue;
        }
        const chunk = opts.chunk ?? Math.max(2, Math.ceil(window / 4));
        const rows = await claim(Math.min(chunk, window - out));
        if (subscriber.closed) return;
        if (rows.length > 0) {
          delay = pollMs.min;
          out += rows.length;
          for (const r of rows) subscriber.next(toAssignment(root, r, missing));
          continue;
        }
        if (out === 0 && !(typeof follow === 'function' ? await follow() : follow) && (await remaining()) === 0) {
          subscriber.complete();
          return;
        }
        // others hold what is left (their claims may yet expire), or our own files are still going
        await nap(delay);
        delay = Math.min(delay * 2, pollMs.max);
      }
    };
    loop().catch((err) => subscriber.error(err));
    return () => {
      sub.unsubscribe();
      wake?.();
    };
  });
}

function toAssignment(root: string, r: ClaimedRow, missing: string): ClaimedAssignment {
  const absPath = path.join(root, ...r.filePath.split('/'));
  const claim = { id: r.id, token: r.token };
  try {
    const st = statSync(absPath);
    const file = { path: r.filePath, absPath, name: r.fileName, size: st.size, mtimeMs: Math.trunc(st.mtimeMs) };
    return { file, target: r.target, claim };
  } catch {
    const file = { path: r.filePath, absPath, name: r.fileName, size: r.sizeBytes, mtimeMs: r.mtimeMs };
    return { file, target: r.target, claim, planError: missing };
  }
}
