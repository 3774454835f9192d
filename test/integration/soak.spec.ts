import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { appendFile, mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startReceiver, type Receiver } from '../../src/http/server.js';
import { createStore } from '../../src/store/createStore.js';
import { spawnCli } from '../helpers/cli.js';
import { assertInvariants } from '../helpers/invariants.js';
import { readTree } from '../helpers/receivers.js';
import { sha256 } from '../helpers/tree.js';

/** Resident set size of a process, in KiB (Linux). */
function rssKiB(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Least-squares slope of (t seconds, y) samples. */
function slope(samples: [number, number][]): number {
  const n = samples.length;
  const mx = samples.reduce((s, [x]) => s + x, 0) / n;
  const my = samples.reduce((s, [, y]) => s + y, 0) / n;
  const num = samples.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const den = samples.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  return den === 0 ? 0 : num / den;
}

/**
 * A module preloaded into the watch (NODE_OPTIONS --import): every 500 ms a full GC, then
 * the heap still referenced, appended as `seconds heapUsed` lines. RSS alone mixes garbage
 * not yet collected and native allocator pages with what is really held; the heap after a
 * GC is what grows if something keeps a per-file object.
 */
function heapProbe(out: string): string {
  return `import { appendFileSync } from 'node:fs';
import v8 from 'node:v8';
import vm from 'node:vm';
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');
setInterval(() => {
  gc();
  appendFileSync(${JSON.stringify(out)}, Date.now() + ' ' + process.memoryUsage().heapUsed + '\\n');
}, 500).unref();
`;
}

/**
 * The soak, scaled to CI: 50 files/s for 48 s (the issue says 100/s for 60 s;
 * the suite shares a 2-core box), of four kinds: written at once, written slowly in
 * pieces, written aside and renamed into place, and deleted before they age. One receiver
 * is restarted mid-way; the watch is SIGKILLed and restarted once. Every complete file
 * must end uploaded and recorded exactly once, byte-identical; nothing half-written or
 * deleted is sent. Memory: RSS sampled from /proc and the heap after a full GC from inside
 * the watch; over the second half of the restarted watch's run, the heap must not trend
 * up (< 0.04 MB/s: flat measures 0.007-0.01, the ~1.7 KB a file Node's recursive fs.watch
 * kept measured 0.10), and RSS must stay within 40 MB of its first half's max (a young
 * process: measured +4 to +14 MB there, as its native allocations warm up; a coarse guard,
 * the heap is the fine one). A long run by hand: scripts/soak-rss.ts.
 */
describe('soak: fanout watch under a steady flow, a receiver restart and a kill -9', function () {
  this.timeout(150_000);
  it('should upload and record every complete file exactly once and nothing half-written or deleted, with flat memory (heap slope and RSS growth bounded, reported)', async () => {
    const src = await mkdtemp(path.join(os.tmpdir(), 'fanout-soak-src-'));
    const recvDirs = await Promise.all([0, 1].map(() => mkdtemp(path.join(os.tmpdir(), 'fanout-soak-recv-'))));
    const dbFile = path.join(await mkdtemp(path.join(os.tmpdir(), 'fanout-soak-db-')), 'soak.sqlite');
    const db = `sqlite:${dbFile}`;
    const probe = path.join(path.dirname(dbFile), 'heap-probe.mjs');
    const heapLog = path.join(path.dirname(dbFile), 'heap.log');
    await writeFile(probe, heapProbe(heapLog));
    const receivers: Receiver[] = await Promise.all(recvDirs.map((dir) => startReceiver({ dir, port: 0, delayMs: 5 })));
    const urls = receivers.map((r) => r.url);
    const ports = urls.map((u) => Number(new URL(u).port));
    const args = ['watch', src, '--target', urls.join(','), '--db', db, '--batch-prefix', 'soak', '--min-age', '0.5', '--rescan-s', '2',
      '--batch-every', '8s', '--exclude', '*.part', '--retries', '8', '--probe-ms', '200', '--grace-ms', '5000', '--log-level', 'warn', '--json'];
    const env = { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${probe}`.trim() };
    const RATE = 50; // files a second
    const DURATION_MS = 48_000;
    const expected = new Map<string, string>();
    const never = new Set<string>();
    const rss: [number, number][] = [];
    let restartedAt = Infinity; // seconds: samples after it are the second process's
    let watch = spawnCli(args, env);
    const t0 = Date.now();
    const sampler = setInterval(() => {
      const kib = watch.pid === undefined ? undefined : rssKiB(watch.pid);
      if (kib !== undefined) rss.push([(Date.now() - t0) / 1000, kib]);
    }, 500);
    let restarts = 0;
    try {
      const writers: Promise<void>[] = [];
      for (let i = 0; Date.now() - t0 < DURATION_MS; i++) {
        // paced: file i is due at i / RATE seconds
        const ahead = i * (1000 / RATE) - (Date.now() - t0);
        if (ahead > 0) await sleep(ahead);
        const rel = `d${i % 5}/call_${String(i).padStart(5, '0')}.wav`;
        const abs = path.join(src, rel);
        await mkdir(path.dirname(abs), { recursive: true });
        const body = randomBytes(2000 + (i % 7) * 1000);
        const kind = i % 10;
        if (kind <= 5) {
          await writeFile(abs, body);
          expected.set(rel, sha256(body));
        } else if (kind <= 7) {
          // in three pieces, 150 ms apart: shorter pauses than --min-age
          expected.set(rel, sha256(body));
          writers.push((async () => {
            const third = Math.ceil(body.length / 3);
            for (let p = 0; p < 3; p++) {
              await appendFile(abs, body.subarray(p * third, (p + 1) * third));
              await sleep(150);
            }
          })());
        } else if (kind === 8) {
          await writeFile(`${abs}.part`, body);
          await rename(`${abs}.part`, abs);
          expected.set(rel, sha256(body));
        } else {
          await writeFile(abs, body);
          never.add(rel);
          writers.push(sleep(100).then(() => rm(abs)));
        }
        const t = Date.now() - t0;
        if (restarts === 0 && t > 8_000) {
          // receiver 1 goes away for a second and comes back on its port
          restarts++;
          await receivers[1].close();
          void sleep(1000).then(async () => (receivers[1] = await startReceiver({ dir: recvDirs[1], port: ports[1], delayMs: 5 })));
        }
        if (restarts === 1 && t > 14_000) {
          restarts++;
          watch.kill('SIGKILL');
          await watch.done;
          watch = spawnCli(args, env);
          restartedAt = (Date.now() - t0) / 1000;
        }
      }
      const flowEnd = (Date.now() - t0) / 1000;
      await Promise.all(writers);
      // everything complete ends uploaded
      const store = await createStore(db);
      try {
        const uploaded = async () => Number(((await store.knex('file_distributions').where('status', 'uploaded').count({ n: '*' })) as { n: unknown }[])[0].n);
        const end = Date.now() + 40_000;
        while ((await uploaded()) < expected.size && Date.now() < end) await sleep(200);
        watch.kill('SIGTERM');
        const last = await watch.done;
        expect(last.code, last.stderr).to.equal(130);
        const rows = (await store.knex('file_distributions').select('batch_id', 'file_path', 'status', 'sha256')) as { batch_id: string; file_path: string; status: string; sha256: string }[];
        const byPath = new Map<string, typeof rows>();
        for (const r of rows) byPath.set(r.file_path, [...(byPath.get(r.file_path) ?? []), r]);
        for (const [rel, digest] of expected) {
          const mine = byPath.get(rel) ?? [];
          expect(mine.map((r) => [r.status, r.sha256]), `${rel}: one row, uploaded, these bytes`).to.deep.equal([['uploaded', digest]]);
        }
        for (const rel of never) expect(byPath.has(rel), `${rel} deleted before it aged: never recorded`).to.equal(false);
        expect([...byPath.keys()].filter((p) => p.endsWith('.part')), 'no .part file').to.deep.equal([]);
        // each batch: DESIGN's invariants against what the receivers hold (a file in flight at the kill may arrive twice)
        const batches = (await store.knex('batches').where('id', 'like', 'soak-%').orderBy('id').pluck('id')) as string[];
        const tree = { dir: src, files: expected };
        for (const b of batches) await assertInvariants(store, b, tree, new Map(urls.map((u, i) => [u, recvDirs[i]])), { allowDuplicates: true });
        const held = new Map([...(await readTree(recvDirs[0])), ...(await readTree(recvDirs[1]))]);
        for (const [rel, bytes] of held) expect(sha256(bytes), `${rel} on a receiver is whole`).to.equal(expected.get(rel));
        const secs = (Date.now() - t0) / 1000;
        // memory of the restarted watch while files flowed: its second half against its first
        const mid = (restartedAt + flowEnd) / 2;
        const mb = (kib: number) => kib / 1024;
        const run2 = rss.filter(([t]) => t > restartedAt + 2 && t <= flowEnd).map(([t, k]): [number, number] => [t, mb(k)]);
        const [rssA, rssB] = [run2.filter(([t]) => t < mid), run2.filter(([t]) => t >= mid)];
        const heap = readFileSync(heapLog, 'utf8').trim().split('\n').map((l): [number, number] => {
          const [ms, bytes] = l.split(' ').map(Number);
          return [(ms - t0) / 1000, bytes / 1e6];
        });
        const heapB = heap.filter(([t]) => t >= mid && t <= flowEnd);
        const maxOf = (xs: [number, number][]) => Math.max(...xs.map(([, y]) => y));
        const first = rss.filter(([t]) => t < restartedAt);
        console.log(`      soak: ${expected.size} complete files (+${never.size} deleted young) at ${RATE}/s, ${secs.toFixed(0)} s in all, across ${batches.length} batches; ` +
          `survived 1 receiver restart and 1 kill -9; RSS first process ${mb(first[0][1]).toFixed(1)} -> ${mb(first.at(-1)![1]).toFixed(1)} MB; ` +
          `restarted watch: RSS ${run2[0][1].toFixed(1)} -> ${run2.at(-1)![1].toFixed(1)} MB, max ${maxOf(rssA).toFixed(1)} (first half) / ${maxOf(rssB).toFixed(1)} MB (second half), ` +
          `slope over the second half ${slope(rssB).toFixed(3)} MB/s; heap after GC ${heapB[0][1].toFixed(1)} -> ${heapB.at(-1)![1].toFixed(1)} MB over the second half, slope ${slope(heapB).toFixed(4)} MB/s`);
        expect(heapB.length, 'heap samples over the second half').to.be.above(10);
        expect(slope(heapB), 'heap after GC, second half: MB/s').to.be.below(0.04);
        expect(maxOf(rssB), 'RSS, second half: at most the first half\'s max + 40 MB').to.be.at.most(maxOf(rssA) + 40);
      } finally {
        await store.close();
      }
    } finally {
      clearInterval(sampler);
      if (watch.exitCode === null) watch.kill('SIGKILL');
      await Promise.all(receivers.map((r) => r.close().catch(() => undefined)));
      await Promise.all([src, ...recvDirs, path.dirname(dbFile)].map((d) => rm(d, { recursive: true, force: true })));
    }
  });
});
