import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { runCli } from '../../src/cli.js';
import { fakeContext } from '../helpers/cli.js';
import { startReceivers, type ReceiverFleet } from '../helpers/receivers.js';
import { makeTree, type Tree } from '../helpers/tree.js';

const TOKEN = 'metrics-token-0123456789';

async function get(url: string): Promise<{ status: number; text: string; type: string }> {
  const res = await request(url);
  return { status: res.statusCode, text: await res.body.text(), type: String(res.headers['content-type']) };
}

/** A sample's value from Prometheus text (`name{labels} value`), or undefined if absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** Poll `text()` until `re` matches it (the CLI prints its URLs as it starts). */
async function waitFor(text: () => string, re: RegExp, run: Promise<unknown>): Promise<RegExpExecArray> {
  let ended = false;
  void run.finally(() => (ended = true));
  for (;;) {
    const m = re.exec(text());
    if (m) return m;
    if (ended) throw new Error(`ended before ${re}: ${text()}`);
    await sleep(10);
  }
}

describe('--metrics-port: Prometheus metrics, /healthz and /readyz', function () {
  this.timeout(30_000);
  let work: string;
  beforeEach(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), 'fanout-metrics-'));
  });
  afterEach(() => rm(work, { recursive: true, force: true }));

  it('should count on `serve` what it stored and turned away, and be ready only while its dir can be written', async () => {
    const dir = path.join(work, 'store');
    const ctx = fakeContext();
    const run = runCli(['serve', '--port', '0', '--dir', dir, '--token', TOKEN, '--metrics-port', '0'], ctx);
    const [, url] = await waitFor(ctx.out, /listening on (http:\/\/\S+)\n/, run);
    const [, metrics] = await waitFor(ctx.out, /metrics on (http:\/\/\S+)\/metrics\n/, run);
    try {
      const put = (token: string, body: string) =>
        request(`${url}/files/a.wav`, { method: 'PUT', body, headers: { authorization: `Bearer ${token}`, 'content-length': String(body.length) } }).then((r) => r.body.dump().then(() => r.statusCode));
      expect(await put(TOKEN, 'hello')).to.equal(201);
      expect(await put(TOKEN, 'hello!')).to.equal(201);
      expect(await put('wrong-token-0123456789', 'x')).to.equal(401);
      const m = await get(`${metrics}/metrics`);
      expect(m.status).to.equal(200);
      expect(m.type).to.match(/^text\/plain/);
      expect(sample(m.text, 'fanout_receiver_files_total')).to.equal(2);
      expect(sample(m.text, 'fanout_receiver_bytes_total')).to.equal(11);
      expect(sample(m.text, 'fanout_receiver_rejected_total{reason="refused"}')).to.equal(1);
      expect(sample(m.text, 'fanout_receiver_rejected_total{reason="checksum"}')).to.equal(0);
      expect(sample(m.text, 'fanout_receiver_in_flight')).to.equal(0);
      // counters keep going up between scrapes, never counting twice
      expect(await put(TOKEN, 'again')).to.equal(201);
      expect(sample((await get(`${metrics}/metrics`)).text, 'fanout_receiver_files_total')).to.equal(3);
      expect((await get(`${metrics}/healthz`)).status).to.equal(200);
      expect((await get(`${metrics}/readyz`)).status).to.equal(200);
      // the dir replaced by a file: it cannot be written, so not ready (but alive)
      await rm(dir, { recursive: true, force: true });
      await writeFile(dir, 'not a directory');
      const notReady = await get(`${metrics}/readyz`);
      expect(notReady.status, notReady.text).to.equal(503);
      expect(JSON.parse(notReady.text)).to.deep.equal({ ok: false, reason: 'cannot write to the dir' });
      expect((await get(`${metrics}/healthz`)).status).to.equal(200);
    } finally {
      ctx.signals.emit('SIGINT');
      expect(await run).to.equal(0);
    }
    // and the port is closed with the receiver
    const after = await request(`${metrics}/healthz`).then(() => 'open', () => 'closed');
    expect(after).to.equal('closed');
  });

  describe('on `upload`', () => {
    let tree: Tree;
    let fleet: ReceiverFleet;
    before(async () => {
      tree = await makeTree(40, { sizes: [1000] });
      fleet = await startReceivers(2, { delayMs: 40, slots: 2 });
    });
    after(async () => {
      await fleet.close();
      await rm(tree.dir, { recursive: true, force: true });
    });

    it('should show per-target series while the batch runs and be ready while the database answers and a target is up', async () => {
      const ctx = fakeContext();
      const run = runCli(['upload', tree.dir, '--target', fleet.urls.join(','), '--db', `sqlite:${path.join(work, 'm.sqlite')}`, '--json', '--per-target', '2', '--metrics-port', '0'], ctx);
      const [, metrics] = await waitFor(ctx.err, /"url":"(http:\/\/[^"]+)\/metrics"/, run);
      // wait until some files are done, while the batch still runs
      let text = '';
      for (let i = 0; i < 200; i++) {
        text = (await get(`${metrics}/metrics`)).text;
        if ((sample(text, `fanout_uploaded_files_total{target="${fleet.urls[0]}"}`) ?? 0) >= 2) break;
        await sleep(20);
      }
      for (const t of fleet.urls) {
        expect(sample(text, `fanout_target_up{target="${t}"}`), t).to.equal(1);
        expect(sample(text, `fanout_target_limit{target="${t}"}`), t).to.equal(2);
        expect(sample(text, `fanout_in_flight{target="${t}"}`), t).to.be.within(0, 2);
      }
      expect(sample(text, `fanout_uploaded_files_total{target="${fleet.urls[0]}"}`)).to.be.at.least(2);
      expect(sample(text, 'fanout_last_success_timestamp_seconds')).to.be.above(Date.now() / 1000 - 60);
      expect((await get(`${metrics}/readyz`)).status).to.equal(200);
      expect(await run).to.equal(0);
      const summary = JSON.parse(ctx.out());
      expect(summary.uploaded).to.equal(tree.files.size);
      expect(await request(`${metrics}/metrics`).then(() => 'open', () => 'closed')).to.equal('closed');
    });

    it('should refuse a --metrics-port that is taken, with exit 2 and nothing uploaded', async () => {
      const ctx = fakeContext();
      const first = runCli(['serve', '--port', '0', '--dir', path.join(work, 'x'), '--metrics-port', '0'], ctx);
      const [, metrics] = await waitFor(ctx.out, /metrics on (http:\/\/\S+)\/metrics\n/, first);
      try {
        const port = new URL(metrics).port;
        const r = fakeContext();
        const code = await runCli(['upload', tree.dir, '--target', fleet.urls[0], '--db', `sqlite:${path.join(work, 'n.sqlite')}`, '--metrics-port', port], r);
        expect(code, r.err()).to.equal(2);
        expect(r.err()).to.match(/cannot serve metrics on port \d+/);
        expect(r.out()).to.equal('');
      } finally {
        ctx.signals.emit('SIGINT');
        await first;
      }
    });
  });

  describe('on `watch`', () => {
    let tree: Tree;
    let fleet: ReceiverFleet;
    before(async () => {
      tree = await makeTree(12, { sizes: [1000] });
      fleet = await startReceivers(1);
    });
    after(async () => {
      await fleet.close();
      await rm(tree.dir, { recursive: true, force: true });
    });

    const watch = (db: string, extra: string[]) => {
      const ctx = fakeContext();
      const run = runCli(['watch', tree.dir, '--db', db, '--batch-prefix', 'm', '--min-age', '0.1', '--rescan-s', '1', '--metrics-port', '0', '--retries', '1', '--probe-ms', '100', ...extra], ctx);
      return { ctx, run };
    };

    it('should show pending rows and the oldest one\'s age, retries, the upload duration histogram and the last success, and be ready', async () => {
      const db = `sqlite:${path.join(work, 'w.sqlite')}`;
      const dead = 'http://127.0.0.1:9';
      // plan only: every file waits as a pending row
      const planner = watch(db, ['--target', `${fleet.urls[0]},${dead}`, '--plan-only']);
      const [, m1] = await waitFor(planner.ctx.err, /"url":"(http:\/\/[^"]+)\/metrics"/, planner.run);
      let text = '';
      for (let i = 0; i < 500 && sample(text, 'fanout_pending_files') !== tree.files.size; i++) {
        text = (await get(`${m1}/metrics`)).text;
        await sleep(20);
      }
      expect(sample(text, 'fanout_pending_files')).to.equal(tree.files.size);
      expect(sample(text, 'fanout_oldest_pending_age_seconds')).to.be.above(0);
      expect((await get(`${m1}/readyz`)).status).to.equal(200);
      planner.ctx.signals.emit('SIGINT');
      expect(await planner.run).to.equal(130);
      // uploading, with one target dead: its files are tried there, retried, and sent to the other
      const uploader = watch(db, ['--target', `${fleet.urls[0]},${dead}`]);
      const [, m2] = await waitFor(uploader.ctx.err, /"url":"(http:\/\/[^"]+)\/metrics"/, uploader.run);
      for (let i = 0; i < 1000 && sample(text, 'fanout_pending_files') !== 0; i++) {
        text = (await get(`${m2}/metrics`)).text;
        await sleep(20);
      }
      expect(sample(text, 'fanout_pending_files')).to.equal(0);
      expect(sample(text, 'fanout_oldest_pending_age_seconds')).to.equal(0);
      expect(sample(text, `fanout_retries_total{target="${dead}"}`)).to.be.at.least(1);
      expect(sample(text, `fanout_upload_duration_seconds_count{target="${fleet.urls[0]}"}`)).to.equal(tree.files.size);
      expect(sample(text, `fanout_upload_duration_seconds_bucket{le="+Inf",target="${fleet.urls[0]}"}`)).to.equal(tree.files.size);
      expect(sample(text, 'fanout_last_success_timestamp_seconds')).to.be.above(Date.now() / 1000 - 60);
      expect((await get(`${m2}/readyz`)).status).to.equal(200);
      uploader.ctx.signals.emit('SIGINT');
      expect(await uploader.run).to.equal(130);
    });
  });
});
