/**
 * fanout as a library. Every stage of the pipeline is exported, so another RxJS flow
 * can pipe files in and results out, or embed the whole job as one call:
 *
 *   walkFiles -> assignTargets -> planUploads -> uploadFiles -> recordResults -> tallyResults
 */
export type { SourceFile, Assignment, UploadResult, UploadStatus, Tally, TargetTally, Summary, BatchStatus, SkipReason, WalkSkips } from './types.js';
export { FanoutError, ConfigError, UploadError, AllTargetsDownError, StoreUnavailableError, describeError } from './errors.js';
export { decodeName, pathBytes, printablePath } from './pathBytes.js';
export { createLogger, silentLogger, flushLogger, type Logger, type LoggerOptions } from './logger.js';

// the stages
export { walkFiles, pathMatcher, type WalkOptions } from './sources/walkFiles.js';
export { pullWithCredits } from './sources/pullWithCredits.js';
export { windowed } from './sources/windowed.js';
export { holdsEachFile } from './operators/holdsEachFile.js';
export { claimFiles, type ClaimFilesOptions, type ClaimedAssignment } from './sources/claimFiles.js';
export { claimRows, renewClaims, releaseClaims, pendingCount, type ClaimedRow, type ClaimOptions } from './store/claimQueries.js';
export { assignTargets, ASSIGN_STRATEGIES, type AssignStrategy } from './operators/assignTargets.js';
export { assignRoundRobin } from './operators/assignRoundRobin.js';
export { assignLeastLoaded } from './operators/assignLeastLoaded.js';
export { planUploads, type PlanDeps } from './operators/planUploads.js';
export { uploadFiles, uploadOne, type UploadDeps } from './operators/uploadFiles.js';
export { recordResults, type RecordDeps } from './operators/recordResults.js';
export { tallyResults, emptyTally, addResult, emptyWalkSkips, addWalkSkip } from './operators/tallyResults.js';
export { writeInBatches } from './operators/writeInBatches.js';
export { backoffMs } from './operators/backoff.js';

// composed
export { distribute, distributeResults, type DistributeOptions, type DistributeDeps } from './pipeline.js';
export { runBatch, probeTarget, type RunBatchDeps } from './runBatch.js';
export { openStore, type OpenStoreOptions } from './store/openStore.js';
export { normaliseUploadConfig, newBatchId, normaliseTarget, DEFAULTS, type RawUploadArgs, type UploadConfig } from './config.js';
export { dryRun, type DryRunPlan } from './runs/dryRun.js';
export { planBatch, type PlanSummary } from './runs/planBatch.js';
export { runWorker, type WorkConfig, type WorkSummary } from './work/runWorker.js';
export { fencedStore } from './work/fencedStore.js';
export { HeldFleet } from './work/heldFleet.js';

// the parts at the edges
export { Fleet, FleetStoppedError, type FleetOptions, type Lease, type TargetState } from './http/fleet.js';
export { Uploader, wirePath, type UploaderOptions, type UploadOutcome } from './http/uploader.js';
export { TokenBucket } from './http/tokenBucket.js';
export { startReceiver, type Receiver, type ReceiverOptions } from './http/server.js';
export { createStore, parseDbUrl, redactDbUrl } from './store/createStore.js';
export type { Store, FileRow, CallRow, BatchRow, ProcessRow } from './store/types.js';
export { renderReport } from './report/renderReport.js';
export { loadReportData } from './report/loadReport.js';
export { writeReport, checkReportPath } from './report/writeReport.js';
export { runCli } from './cli.js';
