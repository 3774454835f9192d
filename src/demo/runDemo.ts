import { mkdtemp, realpath, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { writeReport } from '../report/writeReport.js';
import { formatDuration } from '../units.js';
import type { Logger } from '../logger.js';
import type { LogRouter } from '../progress/logRouter.js';
import { openStore } from '../store/openStore.js';
import { fanoutUploads } from './fanoutUploads.js';
import { formatMoral, formatTable } from './formatDemo.js';
import { makeDemoFiles } from './makeDemoFiles.js';
import { measureRun, type HostSetup, type Measured } from './measureRun.js';
import type { DemoResult, DemoRun } from './formatDemo.js';
import { uploadAllAtOnce, uploadOneAtATime } from './naiveUploads.js';

const count = (x: number) => x.toLocaleString('en-US');

export interface DemoSizes {
  files: number;
  fileBytes: number;
  /** simulated GPU hosts, each taking delayMs per upload, `slots` at a time */
  hosts: number;
  delayMs: number;
  slots: number;
  /** files the one-at-a-time run sends (the rest is extrapolated) */
  sequentialFiles: number;
  /** fanout's --per-target */
  perTarget: number;
}

export const DEMO_DEFAULTS: Readonly<DemoSizes> = { files: 1000, fileBytes: 16 * 1024, hosts: 5, delayMs: 20, slots: 1, sequentialFiles: 200, perTarget: 2 };

export interface DemoOptions extends Partial<DemoSizes> {
  /** where the temp dir (files, hosts' dirs, database) is made; default os.tmpdir() */
  tmpRoot?: string;
  /** where the timeline report of the fanout run goes */
  reportPath: string;
  logger: Logger;
  /** human-readable lines as the demo goes (none with --json) */
  say?: (text: string) => void;
  /** ends the demo early (Ctrl-C): the run in progress stops, everything is closed and removed */
  signal?: AbortSignal;
  /** progress bars for the fanout run (on a terminal) */
  bars?: { stream: Writable; logRouter?: LogRouter };
}


/**
 * The story in under a minute: the same files to the same kind of hosts three ways,
 * side by side. Everything runs in this process, on fresh temp files and fresh hosts
 * for each run; all of it is closed and removed before this returns (not the report).
 */
export async function runDemo(opts: DemoOptions): Promise<DemoResult> {
  const o = { ...DEMO_DEFAULTS, ...opts };
  const say = opts.say ?? (() => undefined);
  const { signal } = opts;
  const t0 = performance.now();
  const tmp = await mkdtemp(path.join(opts.tmpRoot ?? os.tmpdir(), 'fanout-demo-'));
  try {
    say(`fanout demo: ${count(o.files)} call recordings of ${o.fileBytes / 1024} KiB to ${o.hosts} simulated GPU hosts on this machine.`);
    say(`Each host takes ${o.delayMs} ms per upload and serves ${o.slots === 1 ? 'one at a time' : `${o.slots} at a time`}, like a GPU busy with one file.\n`);
    const src = path.join(tmp, 'src');
    const files = await makeDemoFiles(src, o.files, o.fileBytes);
    signal?.throwIfAborted();
    const source = await realpath(src);
    const setup = (name: string): HostSetup => ({ dir: path.join(tmp, 'hosts', name), source, hosts: o.hosts, delayMs: o.delayMs, slots: o.slots });

    const sample = files.slice(0, Math.min(o.sequentialFiles, files.length));
    say(`1. One at a time: a loop, one upload after another (the first ${sample.length} files only, to keep the demo short).`);
    const seq = await measureRun(setup('one-at-a-time'), (urls) => uploadOneAtATime(sample, urls, signal));
    const seqTotalMs = (seq.timeMs * files.length) / sample.length;
    say(`   ${seq.delivered}/${sample.length} stored in ${formatDuration(seq.timeMs)}; at that pace all ${count(files.length)} would take ~${formatDuration(seqTotalMs)}.\n`);

    say(`2. Everything at once: Promise.all over all ${count(files.length)} uploads, no limit.`);
    const all = await measureRun(setup('all-at-once'), (urls) => uploadAllAtOnce(files, urls, signal));
    say(`   ${count(all.delivered)}/${count(files.length)} stored in ${formatDuration(all.timeMs)}.\n`);

    say(`3. fanout: least-loaded, ${o.perTarget} uploads in flight per host, every upload recorded in SQLite.`);
    const db = `sqlite:${path.join(tmp, 'demo.sqlite')}`;
    const store = await openStore({ db }, opts.logger);
    let batchId = '';
    let fan: Measured;
    try {
      fan = await measureRun(setup('fanout'), async (urls) => {
        const summary = await fanoutUploads({ dir: src, db, perTarget: o.perTarget, store, logger: opts.logger, bars: opts.bars, stop: signal }, urls);
        signal?.throwIfAborted();
        batchId = summary.batchId;
        return summary.uploaded;
      });
      say(`   ${count(fan.delivered)}/${count(files.length)} stored in ${formatDuration(fan.timeMs)} (batch ${batchId}).\n`);
      await writeReport(store, batchId, opts.reportPath);
    } finally {
      await store.close();
    }

    const run = (name: DemoRun['name'], label: string, m: Measured, sent: number, estimatedMs = m.timeMs): DemoRun => {
      const { stored: _stored, ...rest } = m;
      return { name, label, ...rest, files: sent, estimatedMs, extrapolated: sent < files.length, filesPerSec: (sent * 1000) / m.timeMs, speedup: seqTotalMs / estimatedMs };
    };
    const result: DemoResult = {
      files: files.length, fileBytes: o.fileBytes, hosts: o.hosts, delayMs: o.delayMs, slots: o.slots, perTarget: o.perTarget,
      runs: [
        run('one-at-a-time', 'one at a time', seq, sample.length, seqTotalMs),
        run('all-at-once', 'everything at once', all, files.length),
        run('fanout', 'fanout', fan, files.length),
      ],
      batchId, report: opts.reportPath, wallMs: 0,
    };
    say(`${formatTable(result)}\n`);
    say(`${formatMoral(result)}\n`);
    say(`Timeline of the fanout run (one row per host, one bar per upload): ${opts.reportPath}`);
    result.wallMs = Math.round(performance.now() - t0);
    return result;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

export type { DemoResult, DemoRun };
