import type { BatchRow, FileRow } from '../store/types.js';

/** What a report shows, as read from the store. */
export interface ReportData {
  batch: BatchRow;
  /** every file row of the batch, in any order */
  files: FileRow[];
  /** when the rows were read (epoch ms), printed in the footer */
  generatedAt: number;
}
