import { existsSync, lstatSync, readdirSync, statSync, watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import { Observable } from 'rxjs';
import type { SourceFile } from '../types.js';
import { listedFiles } from './listedFiles.js';
import { walkFiles, type WalkOptions } from './walkFiles.js';

export interface WatchFilesOptions extends Pick<WalkOptions, 'include' | 'exclude' | 'ignoreCase' | 'followSymlinks' | 'onError'> {
  /** a file is taken once its size and mtime have stayed the same for this long */
  minAgeMs: number;
  /** a full walk this often: what events miss (overflow, network filesystems, files there before the start) */
  rescanMs: number;
  /** of these files, the ones still to take: the registry leaves out those recorded as they are */
  unrecorded: (files: SourceFile[]) => Promise<SourceFile[]>;
  /** filesystem events as hints between rescans (default on) */
  events?: boolean;
  /** a rescan, an event's look or a registry read went wrong: the next rescan tries again */
  onTrouble?: (what: string, err: unknown) => void;
  now?: () => number;
}

const CHUNK = 500;

/**
 * The files of a live directory, each emitted once it has stopped changing: a rescan at
 * start and every `rescanMs`, and filesystem events (Node's fs.watch on each directory:
 * inotify on Linux) as hints in between. Events are never trusted for what they say, only for
 * where to look; the walk and the registry (`unrecorded`) are the truth. A file seen is
 * held (path, size, mtime, since when) until it has looked the same for `minAgeMs`, then
 * stat'ed once more and emitted; one that is gone by then is forgotten. Memory holds only
 * files not yet recorded and not yet stable.
 *
 *   seen:     a(10) a(20) b(5)   ...minAge...   a(20) b(5)
 *   emitted:                                     a     b
 */
export function watchFiles(dir: string, opts: WatchFilesOptions): Observable<SourceFile> {
  const { minAgeMs, rescanMs, unrecorded, events = true, onTrouble, now = Date.now } = opts;
  const walkOpts: WalkOptions = { include: opts.include, exclude: opts.exclude, ignoreCase: opts.ignoreCase, followSymlinks: opts.followSymlinks, onError: opts.onError };
  const root = path.resolve(dir);
  return new Observable<SourceFile>((subscriber) => {
    const held = new Map<string, { file: SourceFile; since: number }>();
    let closed = false;
    const observe = async (files: SourceFile[]) => {
      if (files.length === 0) return;
      const fresh = await unrecorded(files);
      const t = now();
      for (const f of fresh) {
        const prev = held.get(f.path);
        if (prev && prev.file.size === f.size && prev.file.mtimeMs === f.mtimeMs) continue;
        held.set(f.path, { file: f, since: t });
      }
    };

    const check = () => {
      const t = now();
      for (const [p, e] of held) {
        if (closed) return;
        if (t - e.since < minAgeMs) continue;
        let st;
        try {
          st = opts.followSymlinks ? statSync(e.file.absPath) : lstatSync(e.file.absPath);
        } catch {
          held.delete(p); // deleted (or renamed away) before it aged
          continue;
        }
        if (!st.isFile()) {
          held.delete(p);
          continue;
        }
        const mtimeMs = Math.trunc(st.mtimeMs);
        if (st.size !== e.file.size || mtimeMs !== e.file.mtimeMs) {
          held.set(p, { file: { ...e.file, size: st.size, mtimeMs }, since: t });
          continue;
        }
        held.delete(p);
        subscriber.next(e.file);
      }
    };
    const checker = setInterval(check, Math.min(1000, Math.max(20, Math.floor(minAgeMs / 4))));

    // events: one non-recursive watcher per directory (one inotify watch each). Node 20's
    // recursive fs.watch on Linux keeps a watcher and a Stats object for every file in the
    // tree, so its memory grows with the directory's history (measured: ~1.7 KB a file);
    // these grow only with the directories.
    const watchers = new Map<string, FSWatcher>();
    let eventsOff = !events;
    const hinted = new Set<string>();
    let lookTimer: NodeJS.Timeout | undefined;
    const hint = (rel: string) => {
      if (closed) return;
      hinted.add(rel);
      lookTimer ??= setTimeout(() => void look(), 50);
    };
    /** `sweep`: a directory events found, whose files may have landed before its watcher did */
    const watchDir = (rel: string, sweep = false) => {
      if (eventsOff || closed || watchers.has(rel)) return;
      try {
        const w = watch(rel === '' ? root : path.join(root, rel), (_type, name) => {
          if (typeof name === 'string') hint(rel === '' ? name : `${rel}/${name}`);
        });
        w.on('error', (err) => {
          if (watchers.get(rel) === w) watchers.delete(rel);
          w.close();
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') onTrouble?.('events', err);
        });
        watchers.set(rel, w);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') return;
        // ENOSPC (inotify watches used up), EMFILE: events stop, the rescans carry on alone
        eventsOff = true;
        onTrouble?.('events', err);
        return;
      }
      // its subdirectories get their own watchers; with `sweep`, what landed in it before its
      // watcher did is looked at once (a directory moved in whole with many files: the rescan)
      try {
        const entries = readdirSync(path.join(root, rel), { withFileTypes: true });
        for (const e of entries) {
          const child = rel === '' ? e.name : `${rel}/${e.name}`;
          if (e.isDirectory()) watchDir(child, sweep);
          else if (sweep && entries.length <= CHUNK) hint(child);
        }
      } catch {
        // gone already: the rescan decides
      }
    };
    const look = async () => {
      lookTimer = undefined;
      const paths = [...hinted];
      hinted.clear();
      const found: SourceFile[] = [];
      for (const p of paths) {
        try {
          if (!watchers.has(p) && lstatSync(path.join(root, p)).isDirectory()) watchDir(p, true);
        } catch {
          // gone: nothing to watch
        }
      }
      // listedFiles applies the walk's filters; a path gone or a directory is left to the rescan
      for await (const f of listedFiles(root, paths, { ...walkOpts, onError: undefined, onSkip: undefined })) if (!f.error) found.push(f);
      await observe(found).catch((err) => onTrouble?.('registry', err));
    };

    let rescanTimer: NodeJS.Timeout | undefined;
    const rescan = async () => {
      let buf: SourceFile[] = [];
      const seen = new Set<string>(['']);
      try {
        for await (const f of walkFiles(root, walkOpts)) {
          if (closed) return;
          const dir = path.posix.dirname(f.path);
          if (dir !== '.' && !seen.has(dir)) {
            seen.add(dir);
            watchDir(dir);
          }
          buf.push(f);
          if (buf.length >= CHUNK) {
            await observe(buf);
            buf = [];
          }
        }
        await observe(buf);
        // a directory no walk found files in and that is gone: its watcher goes
        for (const [rel, w] of watchers) {
          if (seen.has(rel) || existsSync(path.join(root, rel))) continue;
          w.close();
          watchers.delete(rel);
        }
      } catch (err) {
        onTrouble?.('rescan', err);
      } finally {
        if (!closed) rescanTimer = setTimeout(() => void rescan(), rescanMs);
      }
    };
    watchDir('');
    void rescan();

    return () => {
      closed = true;
      clearInterval(checker);
      clearTimeout(rescanTimer);
      clearTimeout(lookTimer);
      for (const w of watchers.values()) w.close();
      watchers.clear();
    };
  });
}
