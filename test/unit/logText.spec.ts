import { expect } from 'chai';
import { PassThrough } from 'node:stream';
import { createLogger, flushLogger } from '../../src/logger.js';
import { textLine } from '../../src/logText.js';

describe('textLine', () => {
  const at = new Date(2026, 11, 1, 14, 5, 3).toISOString();

  it('should put time, level, event, file -> target and error first, then the other fields as key=value', () => {
    const line = textLine({
      level: 'warn', message: 'file_retry', event: 'file_retry', timestamp: at, batchId: 'b1',
      file: 'calls/a.wav', target: 'http://gpu-2:8080', error: 'HTTP 503', attempt: 2, delayMs: 250,
    });
    expect(line).to.equal('14:05:03  warn   file_retry  calls/a.wav -> http://gpu-2:8080  HTTP 503  attempt=2 delayMs=250');
  });

  it('should keep a plain message and show objects compactly', () => {
    expect(textLine({ level: 'info', message: 'database migrated', timestamp: at, migrations: ['a', 'b'] })).to.equal(
      '14:05:03  info   database migrated  migrations=["a","b"]',
    );
  });

  it('should cut long lines and never pass control characters to the terminal', () => {
    const line = textLine({ level: 'warn', message: 'walk_error', event: 'walk_error', timestamp: at, file: 'a\nb\u001b[31m.wav', error: 'x'.repeat(500) }, 80);
    expect(line).to.have.length(80);
    expect(line.endsWith('…')).to.equal(true);
    expect(line).to.not.match(/\p{Cc}/u);
  });

  it('should be what createLogger writes with format text, secrets still redacted', async () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (d) => (text += d));
    const logger = createLogger({ stream: out, format: 'text', secrets: ['s3cret-token-value'] });
    logger.warn('target_down', { event: 'target_down', target: 'http://h:1', token: 's3cret-token-value' });
    await flushLogger(logger);
    expect(text).to.match(/^\d\d:\d\d:\d\d {2}warn {3}target_down {2}http:\/\/h:1 {2}token=\*\*\*\n$/);
  });
});
