import type { AttemptRow, BatchRow, FileRow, TargetEventRow } from '../store/types.js';
import type { WorkerRow } from '../store/workerQueries.js';

/** What a report shows, as read from the store. */
export interface ReportData {
  batch: BatchRow;
  /** every file row of the batch, in any order */
  files: FileRow[];
  /** every try of a file on a target (failovers and retries included); absent or empty for batches recorded before they were kept */
  attempts?: AttemptRow[];
  /** the workers whose ids the attempts name (host and pid for the legend) */
  workers?: WorkerRow[];
  /** targets going down and back up during the batch's runs */
  targetEvents?: TargetEventRow[];
  /** when the rows were read (epoch ms), printed in the footer */
  generatedAt: number;
}
