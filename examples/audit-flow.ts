// Pipe fanout's stages into a larger RxJS flow: files in, durable results out.
// Run: npm install && npx tsx examples/audit-flow.ts
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { filter, lastValueFrom, map } from 'rxjs';
import {
  Fleet, Uploader, assignTargets, createStore, planUploads, recordResults, startReceiver,
  tallyResults, uploadFiles, walkFiles, windowed, silentLogger, newBatchId,
} from 'fanout';

const work = await mkdtemp(path.join(os.tmpdir(), 'fanout-example-'));
await mkdir(path.join(work, 'calls/2026-11-29'), { recursive: true });
for (let i = 0; i < 50; i++) await writeFile(path.join(work, `calls/2026-11-29/call_${i}.wav`), Buffer.alloc(4096, i));

// two local "GPU hosts" (in production: the hosts' URLs)
const hosts = await Promise.all([1, 2].map((n) => startReceiver({ dir: path.join(work, `host${n}`), delayMs: 5, slots: 2 })));
const targets = hosts.map((h) => h.url);

const store = await createStore(`sqlite:${path.join(work, 'audit.sqlite')}`);
await store.migrate();
const batchId = newBatchId();
await store.createBatch({ id: batchId, sourceDir: work, targets, assign: 'least-loaded', status: 'running', total: 0, uploaded: 0, failed: 0, skipped: 0, bytes: 0, startedAt: Date.now(), finishedAt: null });

const logger = silentLogger();
const fleet = new Fleet(targets, { perTarget: 2, concurrency: 4, downAfter: 5, probeMs: 5000, probe: async () => true });
const uploader = new Uploader(targets, { batchId, perTarget: 2 });

// windowed: at most 64 files inside the stages; each file's credit goes back however it
// leaves them (out at the end, or dropped by a filter anywhere), so no stage can stall it
const tally = await lastValueFrom(
  windowed(
    walkFiles(path.join(work, 'calls'), { include: ['*.wav'] }), 64,
    assignTargets('least-loaded', targets),
    planUploads({ store, batchId }),
    uploadFiles({ fleet, uploader, logger, batchId, retries: 3 }),
    recordResults({ store, batchId }),
    // ...your own audit stages here, e.g. only what was stored and verified:
    filter((r) => r.status === 'uploaded' && r.verified),
    map((r) => ({ ...r, queuedForTranscription: true })),
    tallyResults(targets),
  ),
);
console.log(`uploaded ${tally.uploaded} files, ${tally.bytes} bytes:`, tally.targets);

// the batch row says how it ended, as `fanout status` shows it
const { total, uploaded, failed, skipped, bytes } = tally;
await store.updateBatch(batchId, { status: failed ? 'completed_with_failures' : 'completed', total, uploaded, failed, skipped, bytes, finishedAt: Date.now() });
fleet.close();
await uploader.close();
await store.close();
await Promise.all(hosts.map((h) => h.close()));
await rm(work, { recursive: true, force: true });
