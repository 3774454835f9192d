import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { request } from 'undici';
import { startReceiver, type Receiver, type ReceiverOptions } from '../../../src/http/server.js';
import { readTree } from '../../helpers/receivers.js';
import { rawPut, trickle, until, type Trickler } from './rawClient.js';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const TOKEN = 'limits-token-0123456789';

describe('startReceiver limits', () => {
  let base: string;
  let dir: string;
  let receiver: Receiver | undefined;
  let tricklers: Trickler[] = [];
  const start = async (opts: Partial<ReceiverOptions> = {}) => (receiver = await startReceiver({ dir, ...opts }));
  const tmpFiles = () => readdir(path.join(dir, '.tmp'));

  beforeEach(async () => {
    base = await mkdtemp(path.join(os.tmpdir(), 'fanout-limits-spec-'));
    dir = path.join(base, 'recv');
  });
  afterEach(async () => {
    tricklers.forEach((t) => t.stop());
    tricklers = [];
    await receiver?.close();
    receiver = undefined;
    await rm(base, { recursive: true, force: true });
  });

  it('should drop a body that stops moving after idleTimeoutMs and remove its temp file', async () => {
    const r = await start({ idleTimeoutMs: 300 });
    const stalled = trickle(r.port, '/files/stalled.bin', 1000, {}, 0);
    tricklers.push(stalled);
    await until(() => r.stats().inFlight === 1);
    await until(() => stalled.closed(), 10_000);
    expect(stalled.answer()).to.match(/^HTTP\/1\.1 408 /);
    expect(await tmpFiles()).to.deep.equal([]);
    expect((await readTree(dir)).size).to.equal(0);
    expect(r.stats()).to.include({ inFlight: 0, timedOut: 1 });
  });

  it('should answer a refused upload and close it without draining its trickled body', async () => {
    const r = await start({ token: TOKEN });
    const refused = trickle(r.port, '/files/x.bin', 60_000, { authorization: 'Bearer WRONG' }, 50);
    tricklers.push(refused);
    await until(() => refused.closed(), 10_000);
    expect(refused.answer()).to.match(/^HTTP\/1\.1 401 /);
    expect(refused.sent()).to.be.below(60_000);
  });

  it('should keep serving a normal upload promptly while clients trickle bodies on every slot', async () => {
    const r = await start({ slots: 2, token: TOKEN });
    tricklers = [1, 2, 3, 4].map((i) => trickle(r.port, `/files/slow-${i}.bin`, 1000, { authorization: `Bearer ${TOKEN}` }, 200));
    await until(() => r.stats().inFlight === 4);
    const body = randomBytes(4096);
    const res = await request(`${r.url}/files/normal.bin`, { method: 'PUT', body, headers: { authorization: `Bearer ${TOKEN}` }, headersTimeout: 10_000 });
    expect(res.statusCode).to.equal(201);
    await res.body.dump();
    expect(tricklers.every((t) => !t.closed() && t.sent() < 1000), 'the tricklers were still sending').to.equal(true);
    expect((await readTree(dir)).get('normal.bin')!.equals(body)).to.equal(true);
  });

  it('should refuse connections past maxConnections at once and accept again once one leaves', async () => {
    const r = await start({ maxConnections: 2 });
    const held = await Promise.all([1, 2].map(() => keptAlive(r.port)));
    const extra = net.connect(r.port, '127.0.0.1');
    let answered = '';
    extra.on('error', () => undefined).on('data', (d) => (answered += String(d)));
    extra.write('GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n');
    await until(() => extra.destroyed || extra.readableEnded || answered !== '', 10_000);
    expect(answered).to.equal('');
    expect(r.stats().connectionsRefused).to.equal(1);
    held[0].destroy();
    await until(async () => (await request(`${r.url}/healthz`).then((res) => res.statusCode, () => 0)) === 200);
    held[1].destroy();
  });

  it('should answer 400 to a path too long on disk and create nothing', async () => {
    const r = await start();
    const rel = [...Array(20).fill('y'.repeat(200)), 'z'.repeat(70)].join('/');
    expect(Buffer.byteLength(rel)).to.be.at.most(4096);
    const res = await rawPut(r.url, `/files/${rel}`);
    expect(res.status).to.equal(400);
    expect(await readdir(dir)).to.deep.equal(['.tmp']);
    expect(await tmpFiles()).to.deep.equal([]);
  });

  it('should answer 400 to a control character in a segment', async () => {
    const r = await start();
    for (const raw of ['a%0Ab', 'a%0Db', 'a%09b', 'dir%1B/x', 'a%7Fb']) expect((await rawPut(r.url, `/files/${raw}`)).status, raw).to.equal(400);
    expect(await readdir(dir)).to.deep.equal(['.tmp']);
  });

  it('should send its own digest in x-fanout-sha256 with a 422', async () => {
    const r = await start();
    const body = Buffer.from('the real bytes');
    const res = await rawPut(r.url, '/files/x.bin', body, { 'x-fanout-sha256': sha256(Buffer.from('other')) });
    expect(res.status).to.equal(422);
    expect(res.headers['x-fanout-sha256']).to.equal(sha256(body));
  });

  it('should answer 507 when the disk is full and keep no temp file', async function () {
    const disk = path.join(base, 'small');
    await mkdir(disk);
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k,mode=0755', 'tmpfs', disk], { stdio: 'ignore' });
    } catch {
      this.skip(); // needs root (CI runs as root)
    }
    try {
      dir = path.join(disk, 'recv');
      const r = await start();
      const res = await rawPut(r.url, '/files/big.bin', randomBytes(256 * 1024));
      expect(res.status).to.equal(507);
      expect(await tmpFiles()).to.deep.equal([]);
      await receiver!.close();
    } finally {
      execFileSync('umount', [disk]);
    }
  });
});

/** A keep-alive connection that has been served once, so the server surely counts it. */
async function keptAlive(port: number): Promise<net.Socket> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  await new Promise<void>((resolve) => {
    socket.once('data', () => resolve());
    socket.write('GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n');
  });
  return socket;
}
