import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, open, readdir, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../../src/cli.js';
import { formatTable, wrap } from '../../src/demo/formatDemo.js';
import { makeDemoFiles } from '../../src/demo/makeDemoFiles.js';
import { measureRun } from '../../src/demo/measureRun.js';
import { uploadAllAtOnce } from '../../src/demo/naiveUploads.js';
import { runDemo } from '../../src/demo/runDemo.js';
import { sampleDescriptors } from '../../src/demo/sampleDescriptors.js';
import { silentLogger } from '../../src/logger.js';
import { cli, fakeContext } from '../helpers/cli.js';
import { startReceivers } from '../helpers/receivers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const connect = (port: number) =>
  new Promise<net.Socket>((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });

describe('fanout demo, its parts', function () {
  this.timeout(60_000);
  let work: string;
  beforeEach(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), 'fanout-demoparts-'));
  });
  afterEach(() => rm(work, { recursive: true, force: true }));

  describe('sampleDescriptors', () => {
    before(function () {
      if (!existsSync('/proc/self/fd')) this.skip();
    });

    it('should count this process\'s sockets to the given ports, not the receivers\' own ends in the same process', async () => {
      const fleet = await startReceivers(1);
      const port = Number(new URL(fleet.urls[0]).port);
      const sampler = await sampleDescriptors([port], { intervalMs: 5 });
      const sockets = await Promise.all(Array.from({ length: 7 }, () => connect(port)));
      await sleep(300); // many sampling intervals, even with the worker thread starved of CPU
      for (const s of sockets) s.destroy();
      try {
        expect(await sampler.stop()).to.deep.equal({ sockets: 7, files: 0 });
      } finally {
        await fleet.close();
      }
    });

    it('should count the files held open under a directory, and nothing for ports nobody dials', async () => {
      const dir = await realpath(work);
      for (let i = 0; i < 3; i++) await writeFile(path.join(dir, `f${i}`), 'x');
      const sampler = await sampleDescriptors([1], { filesUnder: dir });
      const handles = await Promise.all([0, 1, 2].map((i) => open(path.join(dir, `f${i}`))));
      await sleep(300); // many sampling intervals, even with the worker thread starved of CPU
      await Promise.all(handles.map((h) => h.close()));
      expect(await sampler.stop()).to.deep.equal({ sockets: 0, files: 3 });
    });
  });

  it('should generate the files in the walker\'s order, each of the size asked', async () => {
    const files = await makeDemoFiles(work, 25, 1000);
    expect(files).to.have.length(25);
    expect(files.map((f) => f.rel)).to.deep.equal([...files.map((f) => f.rel)].sort());
    expect(files[0].rel).to.equal('calls/day_00/call_00000.wav');
    expect((await readFile(files[24].abs)).length).to.equal(1000);
  });

  it('should measure the naive run against fresh hosts and close them after', async () => {
    // 1 MiB files: more than the sockets buffer while a host holds the body back for its one
    // slot, so each file stays open until its host gets to it (with 100-byte files the whole
    // body was gone in a moment and the sampler, under load, could miss every open file)
    const files = await makeDemoFiles(path.join(work, 'src'), 40, 2 ** 20);
    const source = await realpath(path.join(work, 'src'));
    const m = await measureRun({ dir: path.join(work, 'hosts'), source, hosts: 2, delayMs: 10, slots: 1 }, (urls) => uploadAllAtOnce(files, urls));
    expect(m).to.include({ delivered: 40, stored: 40 });
    expect(m.peakPerHost).to.be.above(1); // all at once: requests queue at each host
    expect(m.hosts).to.have.length(2);
    if (m.peakSockets !== null) {
      expect(m.peakSockets).to.be.above(2);
      expect(m.peakFiles).to.be.above(2); // a read stream per upload, all at once
    }
    for (const url of m.hosts) {
      const err = await connect(Number(new URL(url).port)).then((s) => (s.destroy(), 'connected'), (e: NodeJS.ErrnoException) => e.code);
      expect(err).to.equal('ECONNREFUSED');
    }
  });

  it('should run the three ways on a small set, write the report, and remove its temp files', async () => {
    const said: string[] = [];
    const report = path.join(work, 'r.html');
    const tmpRoot = path.join(work, 'tmp');
    await mkdir(tmpRoot);
    const d = await runDemo({ files: 60, fileBytes: 1024, hosts: 3, delayMs: 5, sequentialFiles: 12, reportPath: report, tmpRoot, logger: silentLogger(), say: (t) => said.push(t) });
    expect(d.runs.map((r) => [r.name, r.files, r.delivered])).to.deep.equal([['one-at-a-time', 12, 12], ['all-at-once', 60, 60], ['fanout', 60, 60]]);
    expect(d.runs[0]).to.include({ extrapolated: true, speedup: 1 });
    expect(d.runs[0].estimatedMs).to.be.closeTo(d.runs[0].timeMs * 5, 0.001);
    expect(d.runs[2].peakPerHost).to.be.at.most(2);
    expect(d.batchId).to.match(/\S/);
    expect(await readFile(report, 'utf8')).to.include(d.batchId);
    const text = said.join('\n');
    expect(text).to.include('one at a time *').and.include('extrapolated to 60').and.include(report);
    expect(await readdir(tmpRoot)).to.deep.equal([]);
  });

  it('should lay the runs out side by side, marking the extrapolated one', () => {
    const run = { delivered: 1, timeMs: 1000, peakSockets: 5, peakFiles: 1, peakOpenAtHosts: 5, peakPerHost: 1, hosts: [], filesPerSec: 40, speedup: 1 };
    const table = formatTable({
      files: 1000, fileBytes: 1, hosts: 5, delayMs: 20, slots: 1, perTarget: 2, batchId: 'b', report: 'r', wallMs: 0,
      runs: [
        { ...run, name: 'one-at-a-time', label: 'one at a time', files: 200, estimatedMs: 25_000, extrapolated: true },
        { ...run, name: 'all-at-once', label: 'everything at once', files: 1000, estimatedMs: 5000, extrapolated: false, peakSockets: 1000, speedup: 5 },
        { ...run, name: 'fanout', label: 'fanout', files: 1000, estimatedMs: 4000, extrapolated: false, peakSockets: null, peakFiles: null, speedup: 6.25 },
      ],
    });
    const lines = table.split('\n');
    expect(lines[0]).to.match(/^ +time +files\/s +speed-up +sockets +open files +requests at hosts$/);
    expect(lines[1]).to.match(/^one at a time \* +~25\.0 s +40 +1\.0x +5 +1 +5 \(1 at one\)$/);
    expect(lines[2]).to.match(/^everything at once +5\.0 s .* 5\.0x +1,000 +1 /);
    expect(lines[3]).to.match(/6\.3x +n\/a +n\/a /);
    expect(lines[5]).to.match(/^\* measured on the first 200 files/);
    expect(Math.max(...lines.map((l) => l.length))).to.be.at.most(100);
  });

  it('should wrap the closing words at the width', () => {
    expect(wrap('aa bb cc dd', 5)).to.equal('aa bb\ncc dd');
    expect(wrap('  one  ', 5)).to.equal('one');
  });

  describe('the command', () => {
    it('should refuse a --report in a directory that does not exist (exit 2), before running anything', async () => {
      const r = await cli(['demo', '--report', path.join(work, 'nope', 'r.html')]);
      expect(r.code).to.equal(2);
      expect(r.stderr).to.match(/^fanout: bad --report ".*nope\/r\.html": directory .* does not exist\n$/);
      expect(r.stdout).to.equal('');
    });

    it('should stop at Ctrl-C with exit 130, leaving no temp files behind', async () => {
      const tmpRoot = path.join(work, 'tmp');
      await mkdir(tmpRoot);
      const ctx = fakeContext({ TMPDIR: tmpRoot });
      const running = runCli(['demo', '--report', path.join(work, 'r.html')], ctx);
      await sleep(1500);
      ctx.signals.emit('SIGINT');
      expect(await running).to.equal(130);
      expect(ctx.err()).to.include('demo interrupted');
      expect(ctx.out()).to.match(/^fanout demo: /);
      expect(existsSync(path.join(work, 'r.html'))).to.equal(false);
      expect(await readdir(tmpRoot)).to.deep.equal([]);
    });
  });
});
