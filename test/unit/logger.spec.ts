import { expect } from 'chai';
import { PassThrough } from 'node:stream';
import { createLogger, flushLogger } from '../../src/logger.js';

/** Log one event with `secrets` and return the parsed JSON line. */
async function logged(secrets: string[], fields: Record<string, unknown>): Promise<Record<string, unknown>> {
  let text = '';
  const stream = new PassThrough().setEncoding('utf8').on('data', (c: string) => (text += c));
  const logger = createLogger({ stream, secrets });
  logger.info('receiver_stopping', fields);
  await flushLogger(logger);
  return JSON.parse(text.trim().split('\n')[0]) as Record<string, unknown>;
}

describe('createLogger', () => {
  it('should never mask letters inside other words, even for a one-character secret', async () => {
    const line = await logged(['S', 'T', 'ro'], { signal: 'SIGTERM', method: 'PUT', url: '/files/root/a.txt' });
    expect(line).to.include({ message: 'receiver_stopping', signal: 'SIGTERM', method: 'PUT', url: '/files/root/a.txt' });
  });

  it('should replace a whole field that equals or holds the secret', async () => {
    const secret = 'tok-9f8e7d6c5b4a3210';
    const line = await logged([secret, 'pw'], {
      token: secret,
      authorization: `Bearer ${secret}`,
      url: `/x?token=${secret}&y=1`,
      glued: `x${secret}y`,
      db: 'mysql://root:pw@db:3306/fanout',
      nested: { list: ['fine', `Bearer ${secret}`] },
      keep: 'nothing secret here',
    });
    expect(line).to.include({ token: '***', authorization: '***', url: '***', glued: '***', db: '***', keep: 'nothing secret here' });
    expect(line.nested).to.deep.equal({ list: ['fine', '***'] });
    expect(JSON.stringify(line)).not.to.include(secret);
  });
});
