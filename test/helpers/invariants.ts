import { expect } from 'chai';
import type { Store } from '../../src/store/types.js';
import type { Summary } from '../../src/types.js';
import { readTree } from './receivers.js';
import { sha256, type Tree } from './tree.js';

export interface InvariantOptions {
  /** the run ended with exit 0 or 1: exactly one row per matched file, none pending */
  complete?: boolean;
  /** files may have arrived twice (a crash while they were in flight) */
  allowDuplicates?: boolean;
  /** summaries of every run of the batch (for invariant 4 over a resume) */
  summaries?: Summary[];
}

/**
 * DESIGN.md's invariants, checked against the database and what the receivers hold.
 * `targets` maps each target URL to its receiver's directory.
 */
export async function assertInvariants(store: Store, batchId: string, tree: Tree, targets: Map<string, string>, opts: InvariantOptions = {}): Promise<void> {
  const rows = await store.listFiles(batchId);
  const paths = rows.map((r) => r.filePath);
  // 1. at most one row per (batch, file); exactly one per file and none pending after a normal end
  expect(new Set(paths).size, 'one row per file').to.equal(paths.length);
  if (opts.complete) {
    expect([...paths].sort(), 'a row for every matched file').to.deep.equal([...tree.files.keys()].sort());
    expect(rows.filter((r) => r.status === 'pending').map((r) => r.filePath), 'nothing pending').to.deep.equal([]);
  }
  // 2. uploaded only if its target holds the file, byte-identical
  const held = new Map<string, Map<string, Buffer>>();
  for (const [url, dir] of targets) held.set(url, await readTree(dir));
  for (const r of rows.filter((x) => x.status === 'uploaded')) {
    const onTarget = held.get(r.target ?? '')?.get(r.filePath);
    expect(onTarget, `${r.filePath} on ${r.target}`).to.not.equal(undefined);
    expect(sha256(onTarget as Buffer), `${r.filePath} byte-identical`).to.equal(tree.files.get(r.filePath));
    expect(r.sha256, `${r.filePath} digest recorded`).to.equal(tree.files.get(r.filePath));
  }
  // 3. one calls row per uploaded row, none without
  const uploaded = rows.filter((r) => r.status === 'uploaded').length;
  expect(await store.countCalls(batchId), 'calls rows').to.equal(uploaded);
  // ... and each call hands off the bytes its row recorded, where the row says they are
  const calls = (await store.knex('calls').where('batch_id', batchId).select('file_path', 'target', 'sha256')) as { file_path: string; target: string; sha256: string | null }[];
  const byPath = new Map(rows.map((r) => [r.filePath, r]));
  for (const c of calls) {
    const r = byPath.get(c.file_path);
    expect(r?.status, `${c.file_path}: a call for an uploaded row`).to.equal('uploaded');
    expect({ target: c.target, sha256: c.sha256 }, `${c.file_path}: the call follows its row`).to.deep.equal({ target: r?.target, sha256: r?.sha256 });
  }
  // 4. the summaries agree with the database
  if (opts.summaries?.length) {
    const last = opts.summaries[opts.summaries.length - 1];
    expect(last.uploaded + last.skipped, 'summary uploaded + skipped = uploaded rows').to.equal(uploaded);
    expect(last.failed, 'summary failed = failed rows').to.equal(rows.filter((r) => r.status === 'failed').length);
    expect(last.total, 'total = uploaded + failed + skipped + pending').to.equal(last.uploaded + last.failed + last.skipped + last.pending);
  }
  // 5. every uploaded file arrived; twice only if allowed (in flight at a crash)
  const copies = new Map<string, number>();
  for (const tree2 of held.values()) for (const p of tree2.keys()) copies.set(p, (copies.get(p) ?? 0) + 1);
  for (const r of rows.filter((x) => x.status === 'uploaded')) {
    if (!opts.allowDuplicates) expect(copies.get(r.filePath), `${r.filePath} arrived once`).to.equal(1);
  }
}
