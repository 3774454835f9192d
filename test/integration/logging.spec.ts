import { expect } from 'chai';
import { readdir, readFile, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { createLogger, flushLogger } from '../../src/logger.js';
import { cli } from '../helpers/cli.js';
import { createTestDatabase } from '../helpers/db.js';
import { startReceivers, type ReceiverFleet } from '../helpers/receivers.js';
import { makeTree, type Tree } from '../helpers/tree.js';

const TOKEN = 'tok-9f8e7d6c5b4a';

describe('logs', () => {
  let tree: Tree;
  let fleet: ReceiverFleet;
  let work: string;
  before(async () => {
    tree = await makeTree(10);
    fleet = await startReceivers(2, { token: TOKEN });
    work = await mkdtemp(path.join(os.tmpdir(), 'fanout-logs-'));
  });
  after(async () => {
    await fleet.close();
    await rm(tree.dir, { recursive: true, force: true });
    await rm(work, { recursive: true, force: true });
  });

  it('should carry the documented events as JSON lines on stderr, never the token', async () => {
    const r = await cli(['upload', tree.dir, '--target', fleet.urls.join(','), '--token', TOKEN, '--db', `sqlite:${work}/a.sqlite`, '--log-level', 'debug', '--json']);
    expect(r.code, r.stderr).to.equal(0);
    const lines = r.stderr.trim().split('\n').map((l) => JSON.parse(l));
    const events = new Set(lines.map((l) => l.event));
    for (const e of ['batch_start', 'file_start', 'file_complete', 'batch_complete']) expect(events, e).to.include(e);
    const fileEvent = lines.find((l) => l.event === 'file_complete');
    expect(fileEvent).to.include.keys('batchId', 'file', 'target');
    expect(fileEvent.level).to.equal('debug');
    expect(r.stderr + r.stdout).to.not.contain(TOKEN);
  });

  it('should not leak the token when it is refused either (401: the run stops, exit 1)', async () => {
    const r = await cli(['upload', tree.dir, '--target', fleet.urls[0], '--token', 'wrong-secret-123', '--db', `sqlite:${work}/b.sqlite`, '--log-level', 'debug']);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.contain('target_refused').and.contain('401');
    expect(r.stderr + r.stdout).to.not.contain('wrong-secret-123');
  });

  it('should read the token from FANOUT_TOKEN', async () => {
    const r = await cli(['upload', tree.dir, '--target', fleet.urls[0], '--db', `sqlite:${work}/c.sqlite`, '--json'], { FANOUT_TOKEN: TOKEN });
    expect(r.code, r.stderr).to.equal(0);
  });

  it('should write to --log-file instead of stderr', async () => {
    const file = path.join(work, 'run.log');
    const r = await cli(['upload', tree.dir, '--target', fleet.urls[0], '--token', TOKEN, '--db', `sqlite:${work}/d.sqlite`, '--log-file', file, '--json']);
    expect(r.code).to.equal(0);
    expect(r.stderr).to.equal('');
    const events = (await readFile(file, 'utf8')).trim().split('\n').map((l) => JSON.parse(l).event);
    expect(events).to.include.members(['batch_start', 'batch_complete']);
  });

  it('should rotate the log file by size', async () => {
    const file = path.join(work, 'rot', 'fanout.log');
    const logger = createLogger({ file, maxSizeBytes: 2000, maxFiles: 3 });
    for (let i = 0; i < 200; i++) logger.info('progress', { i, pad: 'x'.repeat(50) });
    await flushLogger(logger);
    const files = (await readdir(path.dirname(file))).sort();
    expect(files).to.deep.equal(['fanout.log', 'fanout.log.1', 'fanout.log.2', 'fanout.log.3']);
    for (const f of files) expect((await readFile(path.join(path.dirname(file), f))).length).to.be.at.most(2300);
    // nothing lost at the end: the newest line is in the live file
    const live = (await readFile(file, 'utf8')).trim().split('\n');
    expect(JSON.parse(live[live.length - 1]).i).to.equal(199);
  });

  it('should never log a database password', async function () {
    if (!process.env.FANOUT_TEST_MYSQL) this.skip();
    this.timeout(30_000);
    const db = await createTestDatabase('mysql');
    const admin = await mysql.createConnection({ uri: process.env.FANOUT_TEST_MYSQL });
    const dbName = new URL(db.url).pathname.slice(1);
    const password = 'pw-Zq81-secret';
    try {
      await admin.query(`CREATE USER IF NOT EXISTS 'fanout_pw'@'127.0.0.1' IDENTIFIED BY '${password}'`);
      await admin.query(`GRANT ALL ON \`${dbName}\`.* TO 'fanout_pw'@'127.0.0.1'`);
      const url = `mysql://fanout_pw:${password}@127.0.0.1:${new URL(db.url).port || 3306}/${dbName}`;
      const ok = await cli(['upload', tree.dir, '--target', fleet.urls[0], '--token', TOKEN, '--db', url, '--log-level', 'debug', '--json']);
      expect(ok.code, ok.stderr).to.equal(0);
      expect(ok.stderr + ok.stdout).to.not.contain(password);
      const bad = await cli(['upload', tree.dir, '--target', fleet.urls[0], '--db', url.replace(password, `${password}-x`), '--log-level', 'debug']);
      expect(bad.code).to.equal(2);
      expect(bad.stderr).to.contain('***').and.not.contain(password);
    } finally {
      await admin.query(`DROP USER IF EXISTS 'fanout_pw'@'127.0.0.1'`);
      await admin.end();
      await db.cleanup();
    }
  });
});
