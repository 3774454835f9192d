import type { UploadConfig } from '../config.js';
import type { FleetOptions } from '../http/fleet.js';
import { vegasLimit } from '../http/limits/vegasLimit.js';
import { probeTarget } from '../http/probeTarget.js';
import { Uploader, type UploaderOptions } from '../http/uploader.js';
import type { Logger } from '../logger.js';

/**
 * What every run that sends files (upload, work, watch) takes from its config for its
 * fleet: the per-target limit (adaptive or fixed), the overall cap, health and probes.
 * The caller adds what is its own (giving up, target events).
 */
export function fleetOptions(config: UploadConfig, logger: Logger, batchId: string): FleetOptions {
  return {
    perTarget: config.perTarget, limit: config.adaptive ? () => vegasLimit({ max: config.perTarget }) : undefined, concurrency: config.concurrency,
    downAfter: config.downAfter, probeMs: config.probeMs, probe: (t) => probeTarget(t, config.connectTimeoutMs), logger, batchId,
  };
}

/** The run's uploader: one pool per target, its timeouts, token and bandwidth limits from the config. */
export function uploaderFor(config: UploadConfig, batchId: string, dispatcherFor?: UploaderOptions['dispatcherFor']): Uploader {
  return new Uploader(config.targets, {
    batchId, perTarget: config.perTarget, token: config.token, connectTimeoutMs: config.connectTimeoutMs,
    idleTimeoutMs: config.idleTimeoutMs, bwlimit: config.bwlimit, bwlimitPerTarget: config.bwlimitPerTarget, dispatcherFor,
  });
}
