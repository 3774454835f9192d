import type { Logger } from '../logger.js';
import { stillHeld } from '../store/claimQueries.js';
import type { AttemptRow, CallRow, FileRow, Store } from '../store/types.js';

/**
 * recordResults' store for a worker: an outcome is written only where this worker still
 * holds the row's claim with the same token, checked and written in one transaction.
 * A late result (the lease ran out and another worker took the row) is discarded and
 * logged, never written over the new owner's.
 */
export function fencedStore(
  store: Store,
  opts: { workerId: string; batchId: string; logger: Logger; tokenOf: (filePath: string) => { id: number; token: number } | undefined; onLost: (filePath: string) => void },
): Pick<Store, 'recordOutcomes'> {
  return {
    recordOutcomes: (rows: readonly FileRow[], calls: readonly CallRow[], attempts: readonly AttemptRow[] = []) =>
      store.knex.transaction(async (trx) => {
        const tokens = new Map<number, number>();
        const idOf = new Map<string, number>();
        for (const r of rows) {
          const c = opts.tokenOf(r.filePath);
          if (c) {
            tokens.set(c.id, c.token);
            idOf.set(r.filePath, c.id);
          }
        }
        const held = await stillHeld(trx, opts.workerId, tokens);
        const ours = (p: string) => held.has(idOf.get(p) ?? -1);
        for (const r of rows) {
          if (ours(r.filePath)) continue;
          opts.logger.warn('claim_lost', { event: 'claim_lost', batchId: opts.batchId, file: r.filePath, target: r.target, status: r.status, why: 'another worker holds the row now: this result is discarded' });
          opts.onLost(r.filePath);
        }
        const keep = rows.filter((r) => ours(r.filePath));
        // each try says which worker made it: a file re-claimed after a crash has tries by two
        const tries = attempts.filter((a) => ours(a.filePath)).map((a) => ({ ...a, workerId: opts.workerId }));
        if (keep.length > 0) await store.recordOutcomes(keep, calls.filter((c) => ours(c.filePath)), tries, trx);
      }),
  };
}
