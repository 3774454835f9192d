import { MultiBar } from 'cli-progress';
import { formatOverall, formatTarget } from './formatProgress.js';
import type { ProgressTracker, ProgressView } from './progressTracker.js';

export interface BarsOptions {
  stream: NodeJS.WritableStream & { isTTY?: boolean };
  /** redraws per second */
  fps?: number;
}

export interface BarDisplay {
  /** print a line (ending in \n) above the bars */
  log(line: string): void;
  /** draw the last state, leave it on screen, show the cursor again; idempotent */
  stop(): void;
}

const SHOW_CURSOR = '\x1B[?25h';

/**
 * The live display: one overall bar and one line per target, redrawn `fps` times a
 * second from the tracker's view.
 *
 *   files [█████░░░░░░] 412/1000   6.6 MB  205 files/s  3.4 MB/s ETA 3s  failed 0
 *     http://127.0.0.1:4001  up    in flight  2/4   done   200  failed   0  3.3 MB   1.2 MB/s   42 ms
 */
export function showBars(tracker: ProgressTracker, targets: readonly string[], opts: BarsOptions): BarDisplay {
  const { stream, fps = 10 } = opts;
  const tty = stream.isTTY === true;
  let view: ProgressView = tracker.view();
  const urlWidth = Math.max(0, ...targets.map((t) => t.length));
  const multibar = new MultiBar({
    stream,
    fps,
    hideCursor: true,
    clearOnComplete: false,
    // --progress on a stream that is not a terminal: plain frames now and then rather than nothing
    noTTYOutput: !tty,
    // lines are cut to the terminal width; log lines printed above the bars may wrap
    linewrap: true,
    // a log line printed above the bars scrolls them: every frame redraws every line
    forceRedraw: true,
    // runBatch owns SIGINT (graceful stop); stop() below restores the terminal
    gracefulExit: false,
  });
  // one fresh view per frame, read by every line's formatter
  multibar.on('update-pre', () => (view = tracker.view()));
  multibar.create(1, 0, {}, { format: (_o, params) => formatOverall(view, params.maxWidth) });
  const blank = (target: string) => ({ target, up: true, inFlight: 0, uploaded: 0, failed: 0, bytes: 0 });
  targets.forEach((target) => {
    multibar.create(1, 0, {}, { format: () => formatTarget(view.targets.find((t) => t.target === target) ?? blank(target), urlWidth) });
  });
  // the cursor comes back even if the process ends without stop() (an uncaught error, say)
  const restoreCursor = () => tty && stream.write(SHOW_CURSOR);
  process.once('exit', restoreCursor);

  let stopped = false;
  return {
    log: (line) => (stopped ? stream.write(line) : multibar.log(line)),
    stop: () => {
      if (stopped) return;
      stopped = true;
      process.off('exit', restoreCursor);
      multibar.update(); // prints the log lines still buffered, with a last frame
      multibar.stop();
    },
  };
}
