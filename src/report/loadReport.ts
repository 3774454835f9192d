import { ConfigError } from '../errors.js';
import type { Store } from '../store/types.js';
import type { ReportData } from './types.js';

export type { ReportData } from './types.js';

/** The batch row and every file row of the batch; ConfigError when there is no such batch. */
export async function loadReportData(store: Store, batchId: string): Promise<ReportData> {
  const batch = await store.getBatch(batchId);
  if (!batch) throw new ConfigError(`unknown batch "${batchId}"`);
  const files = await store.listFiles(batchId);
  return { batch, files, generatedAt: Date.now() };
}
