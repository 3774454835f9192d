import { ConfigError } from '../errors.js';
import type { Store } from '../store/types.js';
import { findWorkers } from '../store/workerQueries.js';
import type { ReportData } from './types.js';

export type { ReportData } from './types.js';

/**
 * The batch row, every file row, attempt and target event of the batch, and the workers
 * its attempts name; ConfigError when there is no such batch.
 */
export async function loadReportData(store: Store, batchId: string): Promise<ReportData> {
  const batch = await store.getBatch(batchId);
  if (!batch) throw new ConfigError(`unknown batch "${batchId}"`);
  const files = await store.listFiles(batchId);
  const attempts = await store.listAttempts(batchId);
  const targetEvents = await store.listTargetEvents(batchId);
  const workerIds = [...new Set(attempts.flatMap((a) => (a.workerId ? [a.workerId] : [])))];
  const workers = workerIds.length > 0 ? await findWorkers(store.knex, workerIds) : [];
  return { batch, files, attempts, targetEvents, workers, generatedAt: Date.now() };
}
