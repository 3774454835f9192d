import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { ConfigError } from '../../../src/errors.js';
import { createLogger, type Logger } from '../../../src/logger.js';
import { LogRouter } from '../../../src/progress/logRouter.js';
import { PROGRESS_DEFAULTS, progressIntervalFrom, startProgress, wantsBars } from '../../../src/progress/startProgress.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A stream that says it is a terminal, 100 columns wide, and keeps what it is sent. */
function terminal(isTTY = true) {
  const s = Object.assign(new PassThrough(), { isTTY, columns: 100 });
  let text = '';
  s.on('data', (d) => (text += d));
  return { stream: s, text: () => text };
}

describe('startProgress', () => {
  let dir: string;
  const targets = ['http://127.0.0.1:1', 'http://127.0.0.1:2'];
  const fleet = { snapshot: () => targets.map((target) => ({ target, up: true, inFlight: 1, uploaded: 0, failed: 0, consecutiveFailures: 0 })) };
  const run = () => ({ fleet, batchId: 'b', config: { dir, include: [], exclude: [], minAgeMs: 0, followSymlinks: false } });
  const tally = { total: 3, uploaded: 2, failed: 1, skipped: 0, bytes: 2048, targets: { [targets[0]]: { uploaded: 2, failed: 1, bytes: 2048 } } };

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'fanout-prog-'));
    for (let i = 0; i < 5; i++) await writeFile(path.join(dir, `f${i}`), 'x');
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('should choose bars on a terminal unless told otherwise', () => {
    expect(wantsBars(undefined, true)).to.equal(true);
    expect(wantsBars(undefined, false)).to.equal(false);
    expect(wantsBars(false, true)).to.equal(false);
    expect(wantsBars(true, false)).to.equal(true);
  });

  it('should read the log interval from FANOUT_PROGRESS_INTERVAL_MS, 5 s by default, and reject a bad one', () => {
    expect(progressIntervalFrom({})).to.equal(PROGRESS_DEFAULTS.intervalMs).and.equal(5000);
    expect(progressIntervalFrom({ FANOUT_PROGRESS_INTERVAL_MS: '250' })).to.equal(250);
    expect(() => progressIntervalFrom({ FANOUT_PROGRESS_INTERVAL_MS: 'soon' })).to.throw(ConfigError, /FANOUT_PROGRESS_INTERVAL_MS "soon"/);
    expect(() => progressIntervalFrom({ FANOUT_PROGRESS_INTERVAL_MS: '0' })).to.throw(ConfigError);
  });

  it('should reject an interval that is not a whole number of ms', () => {
    const { stream } = terminal(false);
    expect(() => startProgress({ bars: false, stream, logger: createLogger({ stream }), intervalMs: 0.5 })).to.throw(RangeError, /0\.5/);
  });

  describe('without bars', () => {
    let out: ReturnType<typeof terminal>;
    let logger: Logger;
    beforeEach(() => {
      out = terminal(false);
      logger = createLogger({ stream: out.stream });
    });
    const lines = () => out.text().trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));

    it('should log a compact progress line every interval, and nothing once stopped', async () => {
      const p = startProgress({ bars: false, stream: out.stream, logger, intervalMs: 20 });
      p.onStart(run());
      p.onTally(tally);
      await sleep(110);
      p.stop();
      const got = lines();
      expect(got.length).to.be.at.least(3);
      expect(got[got.length - 1]).to.deep.include({ event: 'progress', message: 'progress', level: 'info', batchId: 'b', done: 3, total: 5, uploaded: 2, failed: 1, bytes: 2048 });
      expect(got[0]).to.have.keys(['event', 'message', 'level', 'timestamp', 'batchId', 'done', 'total', 'totalExact', 'uploaded', 'failed', 'bytes', 'rate', 'targets']);
      expect(got[0].rate).to.have.keys(['filesPerSec', 'bytesPerSec']);
      expect(got[0].targets).to.deep.equal({ [targets[0]]: { inFlight: 1, up: true }, [targets[1]]: { inFlight: 1, up: true } });
      const before = out.text();
      await sleep(80);
      expect(out.text()).to.equal(before);
      expect(out.text()).to.not.include('\x1B[');
    });

    it('should log nothing before the batch starts, and allow stop() twice', async () => {
      const p = startProgress({ bars: false, stream: out.stream, logger, intervalMs: 10 });
      await sleep(40);
      p.stop();
      p.stop();
      p.onStart(run()); // too late: does nothing
      await sleep(40);
      expect(out.text()).to.equal('');
    });
  });

  describe('with bars', () => {
    it('should draw the overall bar and a line per target, print log lines above them, and restore the cursor', async () => {
      const term = terminal(true);
      const router = new LogRouter(term.stream);
      const logger = createLogger({ stream: router });
      const p = startProgress({ bars: true, stream: term.stream, logger, logRouter: router, fps: 50 });
      p.onStart(run());
      p.onTally(tally);
      logger.warn('file_error', { event: 'file_error', file: 'x.wav' });
      await sleep(150);
      p.stop();
      const text = term.text();
      expect(text.startsWith('\x1B[?25l')).to.equal(true); // cursor hidden
      expect(text).to.match(/files \[[█░]+\] +3\/≥?5 /);
      for (const t of targets) expect(text).to.match(new RegExp(`${t.replace(/[.:/]/g, '\\$&')}\\s+up\\s+in flight\\s+1`));
      expect(text).to.include('"event":"file_error"');
      expect(text).to.include('\x1B[?25h'); // cursor back
      // unrouted again: a log line after the bars goes straight out, and no frame follows
      const after = text.length;
      logger.info('later', { event: 'later' });
      await sleep(60);
      expect(term.text().slice(after)).to.match(/^\{.*"event":"later".*\}\n$/);
    });

    it('should print plain frames when bars are forced on a stream that is not a terminal', async () => {
      const out = terminal(false);
      const p = startProgress({ bars: true, stream: out.stream, logger: createLogger({ stream: out.stream }) });
      p.onStart(run());
      p.onTally(tally);
      p.stop();
      expect(out.text()).to.match(/files \[[█░]+\] 3\//);
      expect(out.text()).to.not.include('\x1B[');
    });
  });
});
