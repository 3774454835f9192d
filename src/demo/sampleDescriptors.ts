import { once } from 'node:events';
import { Worker } from 'node:worker_threads';

/**
 * Runs in a worker thread, so that reading thousands of /proc entries does not slow the
 * run it measures. Counts this process's sockets connected TO a receiver port: the
 * receivers live in the same process, and their ends of the connections (and their
 * listening sockets) are left out by looking each socket's inode up in /proc/net/tcp.
 * Counts too the files open under one directory (the source files).
 */
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const ports = new Set(workerData.ports);
const under = workerData.filesUnder;
const kind = new Map();
const tcpTable = () => {
  const table = new Map();
  for (const f of ['/proc/self/net/tcp', '/proc/self/net/tcp6']) {
    let text = '';
    try { text = fs.readFileSync(f, 'utf8'); } catch { continue; }
    for (const line of text.split('\\n').slice(1)) {
      const c = line.trim().split(/\\s+/);
      if (c.length < 10) continue;
      table.set(c[9], ports.has(parseInt(c[2].split(':')[1], 16)) ? 'client' : 'other');
    }
  }
  return table;
};
const sample = () => {
  let names;
  try { names = fs.readdirSync('/proc/self/fd'); } catch { return null; }
  const inodes = [];
  let files = 0;
  for (const n of names) {
    let link;
    try { link = fs.readlinkSync('/proc/self/fd/' + n); } catch { continue; }
    if (link.startsWith('socket:[')) inodes.push(link.slice(8, -1));
    else if (under && link.startsWith(under)) files++;
  }
  if (inodes.some((i) => !kind.has(i))) {
    const table = tcpTable();
    for (const i of inodes) if (!kind.has(i)) kind.set(i, table.get(i) || 'other');
  }
  return { sockets: inodes.filter((i) => kind.get(i) === 'client').length, files };
};
let peak = sample();
let stopping = false;
const add = () => {
  const s = sample();
  if (s) peak = { sockets: Math.max(peak.sockets, s.sockets), files: Math.max(peak.files, s.files) };
};
parentPort.postMessage({ ready: true });
const loop = () => {
  if (stopping || peak === null) return;
  add();
  setTimeout(loop, workerData.intervalMs);
};
loop();
parentPort.on('message', () => {
  stopping = true;
  if (peak !== null) add();
  parentPort.postMessage({ peak });
});
`;

export interface Peaks {
  /** client sockets to the ports */
  sockets: number;
  /** files open under `filesUnder` */
  files: number;
}

export interface DescriptorSampler {
  /** the most seen at once; null where /proc/self/fd does not exist (not Linux) */
  stop(): Promise<Peaks | null>;
}

/**
 * Sample this process's open client sockets to `ports` (and open files under the
 * directory `filesUnder`, a real path) every `intervalMs` until stop().
 */
export async function sampleDescriptors(ports: readonly number[], opts: { intervalMs?: number; filesUnder?: string } = {}): Promise<DescriptorSampler> {
  const { intervalMs = 10, filesUnder = null } = opts;
  const worker = new Worker(WORKER, { eval: true, workerData: { ports: [...ports], intervalMs, filesUnder: filesUnder && `${filesUnder.replace(/\/+$/, '')}/` }, execArgv: [] });
  // once() rejects if the worker fails
  const next = async () => (await once(worker, 'message'))[0] as { ready?: boolean; peak?: Peaks | null };
  try {
    await next();
  } catch (err) {
    await worker.terminate();
    throw err;
  }
  return {
    async stop() {
      const answer = next();
      worker.postMessage('stop');
      try {
        return (await answer).peak ?? null;
      } finally {
        await worker.terminate();
      }
    },
  };
}
