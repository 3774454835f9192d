// store-bench: the record writes of a batch of N files, in the pipeline's order and transaction
// sizes (pending rows, then outcomes with their calls and tries), against the built store
// (npm run build first); prints wall and CPU time per file.
// usage: node scripts/store-bench.mjs [N=10000] [planRows=250] [recordRows=250] [db=sqlite:/tmp/store-bench.sqlite]
/* global console */
import { rmSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { createStore } from '../dist/src/store/createStore.js';

const [N = 10000, P = 250, R = 250] = process.argv.slice(2, 5).map(Number);
const url = process.argv[5] ?? 'sqlite:/tmp/store-bench.sqlite';
if (url.startsWith('sqlite:')) for (const s of ['', '-wal', '-shm']) rmSync(url.slice('sqlite:'.length) + s, { force: true });
const store = await createStore(url);
await store.migrate();
const batchId = `bench-${Date.now()}`;
// 100 files a directory, walked in byte order, as the walker hands them on
const row = (i, status) => ({
  batchId, filePath: `d${String(Math.floor(i / 100)).padStart(3, '0')}/file-${String(i).padStart(6, '0')}.wav`, fileName: `file-${i}.wav`,
  target: `http://127.0.0.1:910${i % 5}`, sizeBytes: 65536, mtimeMs: 1764000000000 + i, sha256: status === 'pending' ? null : 'ab'.repeat(32),
  verified: status !== 'pending', status, attempts: status === 'pending' ? 0 : 1, error: null,
  startedAt: status === 'pending' ? null : Date.now(), finishedAt: status === 'pending' ? null : Date.now(),
});
const WINDOW = 1024; // outcomes trail the plan by at most the window
const t0 = performance.now();
const c0 = process.cpuUsage();
let planned = 0;
let recorded = 0;
while (recorded < N) {
  if (planned < N && planned - recorded < WINDOW) {
    const n = Math.min(P, N - planned);
    await store.planPending(Array.from({ length: n }, (_, k) => row(planned + k, 'pending')));
    planned += n;
  } else {
    const n = Math.min(R, planned - recorded);
    const rows = Array.from({ length: n }, (_, k) => row(recorded + k, 'uploaded'));
    const calls = rows.map((r) => ({ batchId, filePath: r.filePath, fileName: r.fileName, target: r.target, sha256: r.sha256, processId: null, auditFormId: null, createdAt: Date.now() }));
    // one try a file, as the pipeline records them (upload_attempts)
    const tries = rows.map((r) => ({ batchId, filePath: r.filePath, target: r.target, attempt: 1, startedAt: r.startedAt, finishedAt: r.finishedAt, outcome: 'uploaded', error: null }));
    await store.recordOutcomes(rows, calls, tries);
    recorded += n;
  }
}
const cpu = process.cpuUsage(c0);
console.log(`N=${N} plan=${P} record=${R} ${url.split(':')[0]}: ${(performance.now() - t0).toFixed(0)} ms wall, ` +
  `${((cpu.user + cpu.system) / 1000).toFixed(0)} ms cpu, ${((cpu.user + cpu.system) / N).toFixed(1)} us/file`);
await store.close();
