import { expect } from 'chai';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { spawnCli } from '../helpers/cli.js';

/** Resolves with the error code of a connection attempt ('connected' if something answered). */
function dial(url: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const s = net.connect(Number(port), hostname);
    s.once('connect', () => {
      s.destroy();
      resolve('connected');
    });
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? String(err)));
  });
}

describe('fanout demo', function () {
  this.timeout(120_000);
  let work: string;
  before(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), 'fanout-demotest-'));
  });
  after(() => rm(work, { recursive: true, force: true }));

  it('should run the three ways in under a minute, fanout > 4x faster than one at a time, and leave nothing behind', async () => {
    const report = path.join(work, 'report.html');
    const tmpRoot = path.join(work, 'tmp');
    await mkdir(tmpRoot);
    const t0 = Date.now();
    const child = spawnCli(['demo', '--json', '--report', report], { TMPDIR: tmpRoot });
    // the process must exit by itself: nothing may be left holding its event loop
    let hung: NodeJS.Timeout | undefined;
    const r = await Promise.race([
      child.done,
      new Promise<never>((_, reject) => {
        hung = setTimeout(() => {
          child.kill('SIGKILL');
          reject(new Error('fanout demo did not exit by itself within 90 s'));
        }, 90_000);
      }),
    ]).finally(() => clearTimeout(hung));
    const wallMs = Date.now() - t0;
    expect(() => process.kill(child.pid!, 0)).to.throw(/ESRCH/); // gone, not a zombie we still hold
    expect(r.code, r.stderr).to.equal(0);
    expect(wallMs).to.be.below(60_000);

    const lines = r.stdout.trim().split('\n');
    expect(lines, r.stdout).to.have.length(1);
    const d = JSON.parse(lines[0]);
    expect(d).to.include({ files: 1000, hosts: 5, delayMs: 20, slots: 1 });
    expect(d.runs.map((x: { name: string }) => x.name)).to.deep.equal(['one-at-a-time', 'all-at-once', 'fanout']);
    const [seq, all, fan] = d.runs;
    expect(seq).to.include({ files: 200, delivered: 200, extrapolated: true });
    expect(seq.estimatedMs).to.be.closeTo(seq.timeMs * 5, 1);
    expect(all).to.include({ files: 1000, delivered: 1000, extrapolated: false });
    expect(fan).to.include({ files: 1000, delivered: 1000, extrapolated: false });
    expect(seq.estimatedMs / fan.timeMs, JSON.stringify(d.runs)).to.be.above(4);
    expect(fan.speedup).to.be.above(4);
    // the bounded run really is bounded; the naive one is not
    expect(fan.peakPerHost).to.be.at.most(2);
    expect(all.peakPerHost).to.be.above(2);
    if (fan.peakSockets !== null) {
      expect(fan.peakSockets).to.be.at.most(10);
      expect(all.peakSockets).to.be.above(fan.peakSockets);
    }
    expect(d.wallMs).to.be.below(60_000);

    // the report was written; every host is closed; the temp files are gone
    expect(d.report).to.equal(report);
    expect(await readFile(report, 'utf8')).to.match(/<html/i);
    const hosts: string[] = d.runs.flatMap((x: { hosts: string[] }) => x.hosts);
    expect(hosts).to.have.length(15);
    for (const url of hosts) expect(await dial(url), url).to.equal('ECONNREFUSED');
    expect((await readdir(tmpRoot)).filter((n) => !n.startsWith('tsx-'))).to.deep.equal([]); // tsx keeps its cache there
  });
});
