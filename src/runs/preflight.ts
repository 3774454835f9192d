import type { UploadConfig } from '../config.js';
import type { Logger } from '../logger.js';
import { checkReportPath } from '../report/writeReport.js';
import { openStore } from '../store/openStore.js';
import type { Store } from '../store/types.js';

/**
 * A run's preflight: the report path, the store (the caller's, or one opened from
 * config.db) and the run's own checks. Logs wait meanwhile, so a user mistake found here
 * is one line on stderr and nothing else; a store opened here is closed when a check fails.
 */
export async function preflight<T>(config: UploadConfig, given: Store | undefined, logger: Logger, check: (store: Store) => Promise<T>): Promise<{ store: Store; checked: T }> {
  const wasSilent = logger.silent;
  logger.silent = true;
  try {
    if (config.report) await checkReportPath(config.report, 'report');
    const store = given ?? (await openStore(config, logger));
    try {
      return { store, checked: await check(store) };
    } catch (err) {
      if (!given) await store.close().catch(() => undefined);
      throw err;
    }
  } finally {
    logger.silent = wasSilent;
  }
}
