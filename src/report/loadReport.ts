import { ConfigError } from '../errors.js';
import type { Store } from '../store/types.js';
import type { ReportData } from './types.js';

export type { ReportData } from './types.js';

/** The batch row, every file row, attempt and target event of the batch; ConfigError when there is no such batch. */
export async function loadReportData(store: Store, batchId: string): Promise<ReportData> {
  const batch = await store.getBatch(batchId);
  if (!batch) throw new ConfigError(`unknown batch "${batchId}"`);
  const files = await store.listFiles(batchId);
  const attempts = await store.listAttempts(batchId);
  const targetEvents = await store.listTargetEvents(batchId);
  return { batch, files, attempts, targetEvents, generatedAt: Date.now() };
}
