/**
 * How the watch's memory behaves under a long steady flow (not a test: a measurement).
 *
 *   node --import tsx scripts/soak-rss.ts [seconds=150] [files/s=50]
 *
 * Starts two receivers and `fanout watch` on a fresh SQLite file, writes small files at
 * the given rate, and samples the watch process every 2 s from inside it (rss, heapUsed
 * after a full gc, external: a preloaded module appends process.memoryUsage() to a file). Prints the
 * samples and the least-squares slope of each over the first and the second half.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startReceiver } from '../src/http/server.js';

const seconds = Number(process.argv[2] ?? 150);
const rate = Number(process.argv[3] ?? 50);
const work = await mkdtemp(path.join(os.tmpdir(), 'fanout-soak-rss-'));
const src = path.join(work, 'src');
const samples = path.join(work, 'mem.jsonl');
const probe = path.join(work, 'probe.mjs');
await mkdir(src);
await writeFile(probe, `import { appendFileSync, readFileSync } from 'node:fs';
const kib = (k) => Number(new RegExp(k + ':\\\\s+(\\\\d+) kB').exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0) * 1024;
const t0 = Date.now();
setInterval(() => {
  globalThis.gc?.(); // heapUsed after a full collection: what is still referenced, not garbage not yet collected
  appendFileSync(${JSON.stringify(samples)}, JSON.stringify({ t: (Date.now() - t0) / 1000, ...process.memoryUsage(), rssAnon: kib('RssAnon'), rssFile: kib('RssFile') }) + '\\n');
}, 2000).unref();\n`);
const receivers = await Promise.all([0, 1].map(async (i) => startReceiver({ dir: await mkdtemp(path.join(work, `recv${i}-`)), port: 0, delayMs: 5 })));
const cli = path.resolve(import.meta.dirname, '../src/cli.ts');
const watch = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', '--import', probe, cli, 'watch', src, '--target', receivers.map((r) => r.url).join(','),
  '--db', `sqlite:${path.join(work, 'db.sqlite')}`, '--batch-prefix', 'soak', '--min-age', '0.5', '--rescan-s', '2', '--batch-every', '8s', '--log-level', 'warn', '--json'], { stdio: ['ignore', 'inherit', 'inherit'] });
const t0 = Date.now();
let n = 0;
while (Date.now() - t0 < seconds * 1000) {
  const due = Math.floor(((Date.now() - t0) / 1000) * rate);
  for (; n < due; n++) {
    const abs = path.join(src, `d${n % 5}`, `call_${String(n).padStart(6, '0')}.wav`);
    await mkdir(path.dirname(abs), { recursive: true });
    await writeFile(abs, randomBytes(2000 + (n % 7) * 1000));
  }
  await sleep(20);
}
await sleep(5000);
watch.kill('SIGINT');
await new Promise((r) => watch.on('close', r));
await Promise.all(receivers.map((r) => r.close()));

type Sample = { t: number; rss: number; rssAnon: number; rssFile: number; heapUsed: number; heapTotal: number; external: number };
const rows = readFileSync(samples, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Sample);
const mb = (b: number) => b / 1e6;
const slope = (xs: [number, number][]) => {
  const mx = xs.reduce((s, [x]) => s + x, 0) / xs.length;
  const my = xs.reduce((s, [, y]) => s + y, 0) / xs.length;
  const num = xs.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const den = xs.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  return den === 0 ? 0 : num / den;
};
for (const r of rows) console.log(`${r.t.toFixed(0).padStart(4)} s  rss ${mb(r.rss).toFixed(1)} MB (anon ${mb(r.rssAnon).toFixed(1)}, file ${mb(r.rssFile).toFixed(1)})  heap ${mb(r.heapUsed).toFixed(1)}/${mb(r.heapTotal).toFixed(1)} MB  external ${mb(r.external).toFixed(1)} MB`);
const half = seconds / 2;
for (const [name, part] of [['first half', rows.filter((r) => r.t < half)], ['second half', rows.filter((r) => r.t >= half)]] as const) {
  const s = (k: keyof Sample) => slope(part.map((r) => [r.t, mb(r[k])])).toFixed(3);
  console.log(`${name}: rss ${mb(part[0].rss).toFixed(1)} -> ${mb(part.at(-1)!.rss).toFixed(1)} MB (max ${mb(Math.max(...part.map((r) => r.rss))).toFixed(1)}), slopes MB/s: rss ${s('rss')}, anon ${s('rssAnon')}, heapUsed ${s('heapUsed')}, heapTotal ${s('heapTotal')}, external ${s('external')}`);
}
console.log(`${n} files in ${seconds} s`);
await rm(work, { recursive: true, force: true });
