import os from 'node:os';
import { randomBytes } from 'node:crypto';
import type { LeaseHolder } from '../store/batchLeaseQueries.js';

/** This process by name: its host (at most 40 characters of it) and pid. */
export function processName(): string {
  return `${os.hostname().slice(0, 40)}-${process.pid}`;
}

/** This process as a lease holder: a fresh id per run, so a reused pid is never mistaken for us. */
export function thisProcess(): LeaseHolder {
  return { id: `${processName()}-${randomBytes(4).toString('hex')}`, host: os.hostname(), pid: process.pid };
}

/**
 * Whether a holder is known dead: only on this host can we ask the kernel, and only a
 * missing pid is proof (EPERM means it exists under another user). Elsewhere, only its
 * lease running out says so.
 */
export function deadOnThisHost(host: string | null, pid: number | null): boolean {
  if (host !== os.hostname() || pid === null) return false;
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
