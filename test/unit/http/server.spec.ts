import { expect } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, symlink } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { request } from 'undici';
import { createLogger } from '../../../src/logger.js';
import { startReceiver, type Receiver, type ReceiverOptions } from '../../../src/http/server.js';
import { createSlots } from '../../../src/http/slots.js';
import { readTree } from '../../helpers/receivers.js';
import { rawPut, until } from './rawClient.js';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const encodePath = (rel: string) => rel.split('/').map(encodeURIComponent).join('/');

describe('startReceiver', () => {
  let base: string;
  let dir: string;
  let receiver: Receiver | undefined;
  const start = async (opts: Partial<ReceiverOptions> = {}) => (receiver = await startReceiver({ dir, ...opts }));
  const put = (rel: string, body: Buffer | Readable, headers: Record<string, string> = {}) =>
    request(`${receiver!.url}/files/${encodePath(rel)}`, { method: 'PUT', body, headers: { 'content-type': 'application/octet-stream', ...headers } });
  const tmpFiles = () => readdir(path.join(dir, '.tmp'));

  beforeEach(async () => {
    base = await mkdtemp(path.join(os.tmpdir(), 'fanout-server-spec-'));
    dir = path.join(base, 'recv');
  });
  afterEach(async () => {
    await receiver?.close();
    receiver = undefined;
    await rm(base, { recursive: true, force: true });
  });

  it('should store a file atomically and return the digest of what it stored', async () => {
    await start();
    const body = randomBytes(1024 * 1024 + 7);
    const res = await put('a/b/c.bin', body, { 'content-length': String(body.length) });
    expect(res.statusCode).to.equal(201);
    expect(res.headers['x-fanout-sha256']).to.equal(sha256(body));
    expect(await res.body.json()).to.deep.equal({ path: 'a/b/c.bin', bytes: body.length, sha256: sha256(body) });
    const tree = await readTree(dir);
    expect([...tree.keys()]).to.deep.equal(['a/b/c.bin']);
    expect(tree.get('a/b/c.bin')!.equals(body)).to.equal(true);
    expect(await tmpFiles()).to.deep.equal([]);
  });

  it('should never show a partial file at the final path while the body streams', async () => {
    await start();
    const first = randomBytes(64 * 1024);
    const second = randomBytes(64 * 1024);
    const body = new PassThrough();
    const pending = put('slow.bin', body, { 'content-length': String(first.length + second.length) });
    body.write(first);
    await until(async () => (await tmpFiles()).length === 1);
    expect((await readTree(dir)).size).to.equal(0);
    body.end(second);
    expect((await pending).statusCode).to.equal(201);
    expect((await readTree(dir)).get('slow.bin')!.equals(Buffer.concat([first, second]))).to.equal(true);
  });

  it('should round-trip unicode, space, # and % in names', async () => {
    await start();
    const names = ['naïve café/日本語 file.txt', 'a b#c%d.txt', '100% sure?.txt', 'x+y=z&;.txt', 'emoji 🎧/take #2.wav'];
    for (const name of names) {
      const res = await put(name, Buffer.from(name));
      expect(res.statusCode, name).to.equal(201);
      expect((await res.body.json()) as { path: string }).to.include({ path: name });
    }
    const tree = await readTree(dir);
    expect([...tree.keys()].sort()).to.deep.equal([...names].sort());
    for (const name of names) expect(tree.get(name)!.toString()).to.equal(name);
  });

  it('should answer 400 to every traversal variant and write nothing anywhere', async () => {
    const r = await start();
    const variants = [
      '../escape', 'a/../../escape', '%2e%2e/escape', '%2E%2E/escape', 'a%2F..%2F..%2Fescape', '..%2Fescape',
      '..%5Cescape', 'a%00b', 'a//b', 'a/', '/etc/passwd', '%2Fetc%2Fpasswd', '.', './x', 'a/%2e/b',
      'x'.repeat(256), encodeURIComponent('é'.repeat(128)), Array(20).fill('y'.repeat(250)).join('/'), '%zz', 'a%E0%A4%A', '.tmp/x',
    ];
    for (const raw of variants) {
      const res = await rawPut(r.url, `/files/${raw}`);
      expect(res.status, raw).to.equal(400);
      expect(JSON.parse(res.body), raw).to.have.property('error');
    }
    expect(r.stats().rejected).to.equal(variants.length);
    expect(await readdir(base)).to.deep.equal(['recv']);
    expect((await readTree(dir)).size).to.equal(0);
    expect(await tmpFiles()).to.deep.equal([]);
  });

  it('should refuse a path that crosses a symlink out of the dir', async () => {
    const outside = path.join(base, 'outside');
    await mkdir(outside);
    await mkdir(dir);
    await symlink(outside, path.join(dir, 'link'));
    const r = await start();
    for (const raw of ['link/x', 'link/deeper/x']) expect((await rawPut(r.url, `/files/${raw}`)).status, raw).to.equal(400);
    expect(await readdir(outside)).to.deep.equal([]);
  });

  it('should answer 409 when a file and a folder would clash, keeping what is stored', async () => {
    await start();
    expect((await put('a/b', Buffer.from('file b'))).statusCode).to.equal(201);
    expect((await put('a/b/c', Buffer.from('under a file'))).statusCode).to.equal(409);
    expect((await put('a', Buffer.from('over a folder'))).statusCode).to.equal(409);
    expect([...(await readTree(dir)).entries()].map(([k, v]) => [k, v.toString()])).to.deep.equal([['a/b', 'file b']]);
    expect(await tmpFiles()).to.deep.equal([]);
  });

  it('should answer 401 to a missing or wrong token and never log either', async () => {
    const token = 'tok-s3cr3t-f00dfeed';
    const wrong = 'guess-0ddba11-wrong';
    let logged = '';
    const stream = new PassThrough().setEncoding('utf8').on('data', (c: string) => (logged += c));
    await start({ token, logger: createLogger({ stream, level: 'debug' }) });
    expect((await put('a.txt', Buffer.from('a'))).statusCode).to.equal(401);
    expect((await put('a.txt', Buffer.from('a'), { authorization: `Bearer ${wrong}` })).statusCode).to.equal(401);
    expect((await put('a.txt', Buffer.from('a'), { authorization: token })).statusCode).to.equal(401);
    expect((await put('a.txt', Buffer.from('a'), { authorization: `Bearer ${token}` })).statusCode).to.equal(201);
    await until(() => logged.includes('receive_stored'));
    expect(logged).to.include('receive_rejected');
    expect(logged).not.to.include(token);
    expect(logged).not.to.include(wrong);
    expect([...(await readTree(dir)).keys()]).to.deep.equal(['a.txt']);
  });

  it('should answer 413 readably to an oversized content-length, before reading the body', async () => {
    const r = await start({ maxBytes: 1024 });
    const size = 64 * 1024 * 1024;
    const chunk = Buffer.alloc(64 * 1024);
    const body = Readable.from((function* () {
      for (let sent = 0; sent < size; sent += chunk.length) yield chunk;
    })());
    const res = await put('big.bin', body, { 'content-length': String(size) });
    expect(res.statusCode).to.equal(413);
    expect(res.headers.connection).to.equal('close');
    expect(await res.body.json()).to.have.property('error');
    expect(r.stats().rejected).to.equal(1);
    expect((await readTree(dir)).size).to.equal(0);
  });

  it('should refuse an oversized upload without sending 100-continue', async () => {
    await start({ maxBytes: 10 });
    const { status, sawContinue } = await new Promise<{ status: number; sawContinue: boolean }>((resolve, reject) => {
      let sawContinue = false;
      const req = http.request(`${receiver!.url}/files/big.bin`, { method: 'PUT', headers: { 'content-length': 1000, expect: '100-continue' } });
      req.on('continue', () => (sawContinue = true));
      req.on('response', (res) => resolve({ status: res.statusCode ?? 0, sawContinue })).on('error', reject);
      req.flushHeaders();
    });
    expect({ status, sawContinue }).to.deep.equal({ status: 413, sawContinue: false });
  });

  it('should answer 413 to a chunked body that grows past the limit and keep nothing', async () => {
    const r = await start({ maxBytes: 100 * 1024 });
    const body = Readable.from((async function* () {
      for (let i = 0; i < 64; i++) yield randomBytes(16 * 1024);
    })());
    const res = await put('grows.bin', body);
    expect(res.statusCode).to.equal(413);
    await res.body.dump();
    await until(() => r.stats().inFlight === 0);
    expect((await readTree(dir)).size).to.equal(0);
    expect(await tmpFiles()).to.deep.equal([]);
  });

  it('should answer 422 to a checksum mismatch and keep nothing', async () => {
    const r = await start();
    const body = Buffer.from('the real bytes');
    const res = await put('x.bin', body, { 'x-fanout-sha256': sha256(Buffer.from('other bytes')) });
    expect(res.statusCode).to.equal(422);
    await res.body.dump();
    expect(r.stats().checksumMismatches).to.equal(1);
    expect((await readTree(dir)).size).to.equal(0);
    expect(await tmpFiles()).to.deep.equal([]);
    const ok = await put('x.bin', body, { 'x-fanout-sha256': sha256(body).toUpperCase() });
    expect(ok.statusCode).to.equal(201);
  });

  it('should keep no file and no temp file when the client disconnects mid-body', async () => {
    const r = await start();
    const req = http.request(`${r.url}/files/gone.bin`, { method: 'PUT', headers: { 'content-length': 1024 * 1024 } });
    req.on('error', () => undefined);
    req.write(randomBytes(64 * 1024));
    await until(async () => (await tmpFiles()).length === 1);
    req.destroy();
    await until(() => r.stats().aborted === 1);
    expect((await readTree(dir)).size).to.equal(0);
    expect(await tmpFiles()).to.deep.equal([]);
    expect(r.stats().inFlight).to.equal(0);
  });

  it('should keep nothing from a body shorter than its content-length', async () => {
    const r = await start();
    const socket = net.connect(r.port, '127.0.0.1');
    socket.on('error', () => undefined);
    socket.write(`PUT /files/short.bin HTTP/1.1\r\nhost: x\r\ncontent-length: 1000\r\n\r\n${'z'.repeat(500)}`);
    socket.end();
    await until(() => r.stats().aborted === 1);
    socket.destroy();
    expect((await readTree(dir)).size).to.equal(0);
    expect(await tmpFiles()).to.deep.equal([]);
  });

  it('should leave one whole body when the same path is PUT concurrently', async () => {
    await start();
    const bodies = Array.from({ length: 6 }, () => randomBytes(256 * 1024));
    const answers = await Promise.all(bodies.map((b) => put('same/path.bin', b)));
    expect(answers.map((a) => a.statusCode)).to.deep.equal(bodies.map(() => 201));
    await Promise.all(answers.map((a) => a.body.dump()));
    const stored = (await readTree(dir)).get('same/path.bin')!;
    expect(bodies.some((b) => b.equals(stored))).to.equal(true);
    expect(await tmpFiles()).to.deep.equal([]);
  });

  it('should serve one upload at a time with slots 1 and delay 50 ms', async () => {
    const r = await start({ slots: 1, delayMs: 50 });
    const t0 = performance.now();
    const answers = await Promise.all([1, 2, 3].map((i) => put(`f${i}`, randomBytes(1000))));
    const elapsed = performance.now() - t0;
    expect(answers.map((a) => a.statusCode)).to.deep.equal([201, 201, 201]);
    expect(elapsed).to.be.at.least(148);
    expect(r.stats()).to.include({ servedMax: 1, inFlightMax: 3, files: 3, inFlight: 0 });
  });

  it('should answer /healthz and /stats, 404 elsewhere and 405 to other methods', async () => {
    const r = await start();
    await (await put('h.txt', Buffer.from('hello'))).body.dump();
    const health = await request(`${r.url}/healthz`);
    expect(health.statusCode).to.equal(200);
    expect(await health.body.json()).to.deep.equal({ ok: true, files: 1, bytes: 5, inFlight: 0 });
    const stats = await request(`${r.url}/stats`);
    expect(await stats.body.json()).to.include({ files: 1, bytes: 5, rejected: 0, checksumMismatches: 0, aborted: 0 });
    expect((await request(`${r.url}/nope`)).statusCode).to.equal(404);
    expect((await request(`${r.url}/files/h.txt`)).statusCode).to.equal(405);
    expect((await request(`${r.url}/healthz`, { method: 'POST', body: 'x' })).statusCode).to.equal(405);
  });

  it('should keep the connection usable after refusing a small body', async () => {
    const r = await start({ token: 'reuse-token-0123456789' });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const refused = await rawPut(r.url, '/files/a', Buffer.alloc(1000), { authorization: 'Bearer no' });
      const stored = await rawPut(r.url, '/files/a', Buffer.alloc(1000), { authorization: 'Bearer reuse-token-0123456789' }, agent);
      const again = await rawPut(r.url, '/files/%2e%2e', Buffer.alloc(1000), {}, agent);
      const last = await rawPut(r.url, '/files/b', Buffer.alloc(1000), { authorization: 'Bearer reuse-token-0123456789' }, agent);
      expect([refused.status, stored.status, again.status, last.status]).to.deep.equal([401, 201, 401, 201]);
      expect(last.reusedSocket).to.equal(true);
    } finally {
      agent.destroy();
    }
  });

  it('should close promptly with an upload in flight and leave no temp file', async () => {
    const r = await start();
    const req = http.request(`${r.url}/files/stuck.bin`, { method: 'PUT', headers: { 'content-length': 1000 } });
    req.on('error', () => undefined).write('partial');
    await until(async () => (await tmpFiles()).length === 1);
    await r.close();
    expect(await tmpFiles()).to.deep.equal([]);
    expect((await readTree(dir)).size).to.equal(0);
  });
});

describe('createSlots', () => {
  it('should hand out slots first come, first served and skip waiters that gave up', async () => {
    const slots = createSlots(1);
    const order: string[] = [];
    const first = await slots.acquire();
    const quitter = new AbortController();
    const b = slots.acquire().then((release) => (order.push('b'), release));
    const gaveUp = slots.acquire(quitter.signal).catch(() => order.push('gave up'));
    const c = slots.acquire().then((release) => (order.push('c'), release));
    quitter.abort();
    await gaveUp;
    expect(slots.waiting).to.equal(2);
    first();
    first(); // twice is harmless
    (await b)();
    (await c)();
    expect(order).to.deep.equal(['gave up', 'b', 'c']);
    expect(slots.active).to.equal(0);
  });
});
