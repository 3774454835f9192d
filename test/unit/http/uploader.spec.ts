import { expect } from 'chai';
import { createHash, randomBytes } from 'node:crypto';
import { getEventListeners } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Pool, type Dispatcher } from 'undici';
import { UploadError } from '../../../src/errors.js';
import { isHostFault } from '../../../src/http/classifyResponse.js';
import { STALE_SOCKET_RESENDS } from '../../../src/http/staleSocket.js';
import { Uploader, wirePath, type UploaderOptions } from '../../../src/http/uploader.js';
import type { SourceFile } from '../../../src/types.js';
import { startReceivers, type ReceiverFleet } from '../../helpers/receivers.js';
import {
  startEarlyAnswerServer,
  startEndlessErrorServer,
  startHalfAnswerResetServer,
  startResetServer,
  startStaleKeepAliveProxy,
  type WireServer,
} from '../../helpers/wireServers.js';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Resolves once `ok()` holds (checked every 10 ms); the test's own timeout bounds the wait. */
async function waitFor(ok: () => boolean): Promise<void> {
  while (!ok()) await new Promise((resolve) => setTimeout(resolve, 10));
}

/** A tiny node:http server on port 0 that misbehaves as `handler` says. */
async function startServer(handler: http.RequestListener): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer({ requestTimeout: 0 }, handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Reads the whole request body, then answers. */
function drainThen(answer: (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) => void): http.RequestListener {
  return (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => answer(req, res, Buffer.concat(chunks)));
  };
}

describe('Uploader', () => {
  let dir: string;
  const uploaders: Uploader[] = [];
  const closers: Array<() => Promise<void>> = [];

  const fileOf = async (rel: string, body: Buffer): Promise<SourceFile> => {
    const absPath = path.join(dir, rel.replace(/\//g, '_'));
    await writeFile(absPath, body);
    return { path: rel, absPath, name: path.basename(rel), size: body.length, mtimeMs: Date.now() };
  };
  const uploader = (targets: string[], opts: Partial<UploaderOptions> = {}) => {
    const u = new Uploader(targets, { batchId: 'b-spec', perTarget: 2, ...opts });
    uploaders.push(u);
    return u;
  };
  const wire = async <S extends WireServer>(started: Promise<S>): Promise<S> => {
    const s = await started;
    closers.push(s.close);
    return s;
  };
  const server = async (handler: http.RequestListener) => {
    const s = await startServer(handler);
    closers.push(s.close);
    return s.url;
  };
  /** Catch the UploadError an upload rejects with. */
  const failure = async (p: Promise<unknown>): Promise<UploadError> => {
    try {
      await p;
    } catch (err) {
      expect(err).to.be.instanceOf(UploadError);
      return err as UploadError;
    }
    throw new Error('the upload should have failed');
  };

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'fanout-uploader-spec-'));
  });
  afterEach(async () => {
    await Promise.all(uploaders.splice(0).map((u) => u.destroy()));
    await Promise.all(closers.splice(0).map((c) => c()));
    await rm(dir, { recursive: true, force: true });
  });

  describe('against a real receiver', () => {
    let fleet: ReceiverFleet;
    beforeEach(async () => {
      fleet = await startReceivers(1);
    });
    afterEach(async () => {
      await fleet.close();
    });

    it('should send a small file with its digest ahead, and have it verified', async () => {
      const body = randomBytes(10_000);
      const file = await fileOf('a dir/small #1.wav', body);
      const seen: Dispatcher.DispatchOptions[] = [];
      const record: Dispatcher.DispatcherComposeInterceptor = (dispatch) => (opts, handler) => {
        seen.push(opts);
        return dispatch(opts, handler);
      };
      const u = uploader(fleet.urls, { dispatcherFor: (origin, o) => new Pool(origin, o).compose(record) });
      const out = await u.upload(fleet.urls[0], file);

      expect(out).to.deep.equal({ sha256: sha256(body), verified: true });
      expect(seen).to.have.length(1);
      expect(seen[0]).to.include({ method: 'PUT', path: wirePath('', 'a dir/small #1.wav') });
      const headers = seen[0].headers as Record<string, string>;
      expect(headers['x-fanout-sha256']).to.equal(sha256(body));
      expect(headers['x-fanout-batch']).to.equal('b-spec');
      expect(await readFile(path.join(fleet.dirs[0], 'a dir/small #1.wav'))).to.deep.equal(body);
    });

    it('should stream a file over 1 MiB, hashing it on the way, and have it verified', async () => {
      const body = randomBytes(3 * (1 << 20) + 777);
      const file = await fileOf('big.wav', body);
      const out = await uploader(fleet.urls).upload(fleet.urls[0], file);
      expect(out).to.deep.equal({ sha256: sha256(body), verified: true });
      expect(sha256(await readFile(path.join(fleet.dirs[0], 'big.wav')))).to.equal(sha256(body));
    });

    it('should hold to --bwlimit: 3 MB at 1 MB/s (one second of burst) takes about 2 s', async function () {
      this.timeout(10_000);
      const body = randomBytes(3_000_000);
      const file = await fileOf('limited.wav', body);
      const t0 = performance.now();
      const out = await uploader(fleet.urls, { bwlimit: 1_000_000 }).upload(fleet.urls[0], file);
      const ms = performance.now() - t0;
      expect(out.verified).to.equal(true);
      expect(ms).to.be.at.least(1800);
      expect(ms).to.be.below(6000);
    });

    it('should hold to --bwlimit-per-target across small files sent as buffers', async function () {
      this.timeout(10_000);
      const files = await Promise.all([0, 1, 2].map((i) => fileOf(`s${i}.wav`, randomBytes(1_000_000))));
      const u = uploader(fleet.urls, { bwlimitPerTarget: 1_000_000, perTarget: 3 });
      const t0 = performance.now();
      await Promise.all(files.map((f) => u.upload(fleet.urls[0], f)));
      expect(performance.now() - t0).to.be.at.least(1800);
    });
  });

  it('should fail a transient attempt when the receiver returns a different digest', async () => {
    const url = await server(drainThen((_req, res) => res.writeHead(201, { 'x-fanout-sha256': 'ab'.repeat(32) }).end()));
    const small = await fileOf('s.wav', randomBytes(100));
    const err = await failure(uploader([url]).upload(url, small));
    expect(err.transient).to.equal(true);
    expect(err.message).to.contain('checksum mismatch');
    const large = await fileOf('l.wav', randomBytes((1 << 20) + 5));
    expect((await failure(uploader([url]).upload(url, large))).transient).to.equal(true);
  });

  it('should accept a receiver that returns no digest as stored but unverified', async () => {
    let received: Buffer | undefined;
    const url = await server(drainThen((_req, res, body) => ((received = body), res.writeHead(201).end())));
    const body = randomBytes((1 << 20) + 99);
    const out = await uploader([url]).upload(url, await fileOf('u.wav', body));
    expect(out).to.deep.equal({ sha256: sha256(body), verified: false });
    expect(received).to.deep.equal(body);
  });

  const silent = [
    ['a small', 1000],
    ['a streamed', 3 * (1 << 20)], // the kernel takes it all at once
    ['a streamed', 12 * (1 << 20)], // more than the kernel takes: the body stops moving half way
  ] as const;
  for (const [kind, size] of silent) {
    it(`should fail ${kind} upload of ${size} bytes whose receiver takes it and then goes silent, after about the idle timeout`, async function () {
      this.timeout(10_000);
      const url = await server(() => undefined); // never reads, never answers
      const file = await fileOf('stuck.wav', randomBytes(size));
      const t0 = performance.now();
      const err = await failure(uploader([url], { idleTimeoutMs: 300 }).upload(url, file));
      const ms = performance.now() - t0;
      expect(err.transient).to.equal(true);
      const code = (err as { code?: string }).code;
      const causeCode = (err.cause as { code?: string } | undefined)?.code;
      expect([code, causeCode]).to.satisfy((c: unknown[]) => c.includes('FANOUT_IDLE_TIMEOUT') || c.includes('UND_ERR_HEADERS_TIMEOUT'));
      expect(ms).to.be.within(250, 2000);
    });
  }

  it('should not cut off a slow upload while its bytes keep moving, nor when the last megabytes drain after the body is handed over', async function () {
    this.timeout(15_000);
    // more than the few MB the kernel takes at once (so the receiver's pace shows), read at about
    // 5 MB/s: the tail the kernel still holds when the body is handed over needs about 1 s
    const size = 16 * (1 << 20);
    let gapMax = 0;
    const url = await server((req, res) => {
      let since = 0;
      let last = performance.now();
      const hash = createHash('sha256');
      req.on('data', (c: Buffer) => {
        const now = performance.now();
        gapMax = Math.max(gapMax, now - last);
        last = now;
        hash.update(c);
        since += c.length;
        if (since >= 256 * 1024) {
          since = 0;
          req.pause();
          setTimeout(() => req.resume(), 45);
        }
      });
      req.on('end', () => res.writeHead(201, { 'x-fanout-sha256': hash.digest('hex') }).end());
    });
    const body = randomBytes(size);
    const t0 = performance.now();
    const out = await uploader([url], { idleTimeoutMs: 500 }).upload(url, await fileOf('slow.wav', body));
    const ms = performance.now() - t0;
    expect(out).to.deep.equal({ sha256: sha256(body), verified: true });
    expect(ms, 'the upload took several idle timeouts').to.be.above(2500);
    expect(gapMax, 'the receiver never paused as long as the idle timeout').to.be.below(400);
  });

  it('should not count waiting for --bwlimit tokens as idle time', async function () {
    this.timeout(10_000);
    const url = await server(drainThen((_req, res, body) => res.writeHead(201, { 'x-fanout-sha256': sha256(body) }).end()));
    // three 1 MB buffers share 1 MB/s: the last waits about 2 s for its tokens, well over the idle timeout
    const files = await Promise.all([0, 1, 2].map((i) => fileOf(`t${i}.wav`, randomBytes(1_000_000))));
    const u = uploader([url], { bwlimit: 1_000_000, idleTimeoutMs: 700, perTarget: 3 });
    const outs = await Promise.all(files.map((f) => u.upload(url, f)));
    expect(outs.every((o) => o.verified)).to.equal(true);
    // and a streamed file whose chunks each wait about 1 s for tokens
    const big = await fileOf('tb.wav', randomBytes(3_000_000));
    expect((await u.upload(url, big)).verified).to.equal(true);
  });

  it('should reject an unknown target as permanent', async () => {
    const err = await failure(uploader(['http://127.0.0.1:9']).upload('http://127.0.0.1:1', await fileOf('x', Buffer.from('x'))));
    expect(err.transient).to.equal(false);
  });

  it('should send the token as a bearer and the batch id', async () => {
    let headers: http.IncomingHttpHeaders = {};
    const url = await server(drainThen((req, res) => ((headers = req.headers), res.writeHead(201).end())));
    await uploader([url], { token: 's3cret' }).upload(url, await fileOf('t.wav', Buffer.from('abc')));
    expect(headers).to.include({ authorization: 'Bearer s3cret', 'x-fanout-batch': 'b-spec', 'content-length': '3', 'content-type': 'application/octet-stream' });
  });

  it('should carry the status, transience and Retry-After of an answer that is not 2xx', async () => {
    const url = await server(drainThen((_req, res) => res.writeHead(429, { 'retry-after': '7' }).end('slow down')));
    const err = await failure(uploader([url]).upload(url, await fileOf('r.wav', Buffer.from('abc'))));
    expect(err).to.include({ statusCode: 429, transient: true, retryAfterMs: 7000 });
    expect(err.message).to.equal('HTTP 429: slow down');
  });

  describe('on the wire', () => {
    it('should read only a bounded prefix of an error answer whose body never ends, then drop the connection', async function () {
      this.timeout(20_000);
      const endless = await wire(startEndlessErrorServer());
      for (const size of [100, 3 * (1 << 20)]) {
        const err = await failure(uploader([endless.url]).upload(endless.url, await fileOf(`e${size}.wav`, randomBytes(size))));
        expect(err).to.include({ statusCode: 500, transient: true });
        expect(err.message).to.match(/^HTTP 500: boom: the disk is on fire x+$/);
        expect(err.message.length).to.be.at.most(220);
      }
      await waitFor(() => endless.sent().length === 2);
      // what the socket buffers take before the close lands, not the 256 MiB the server would send
      for (const bytes of endless.sent()) expect(bytes).to.be.below(16 << 20);
    });

    it('should fail a streamed upload answered 2xx before its body was sent, without a digest of the part sent', async () => {
      const early = await wire(startEarlyAnswerServer());
      const size = 16 * (1 << 20);
      const err = await failure(uploader([early.url]).upload(early.url, await fileOf('early.wav', randomBytes(size))));
      expect(early.answered()).to.equal(1);
      expect(err).to.include({ transient: true, statusCode: undefined, code: 'FANOUT_EARLY_ANSWER' });
      expect(err.message).to.match(new RegExp(`^answered 200 after \\d+ of ${size} bytes were sent$`));
      expect(isHostFault(err)).to.equal(true);
    });

    for (const how of ['fin', 'rst'] as const) {
      it(`should resend at once on a fresh connection, as the same attempt, when a reused keep-alive socket is closed (${how}) before any answer`, async function () {
        this.timeout(20_000);
        const fleet = await startReceivers(1);
        closers.push(fleet.close);
        const proxy = await wire(startStaleKeepAliveProxy(fleet.urls[0], how));
        const u = uploader([proxy.url], { perTarget: 1 });
        const bodies = [100, 3 * (1 << 20) + 1, 5000, (1 << 20) + 7, 0, 42].map((n) => randomBytes(n));
        for (const [i, body] of bodies.entries()) {
          const out = await u.upload(proxy.url, await fileOf(`k${i}.wav`, body));
          expect(out, `file ${i}`).to.deep.equal({ sha256: sha256(body), verified: true });
          expect(await readFile(path.join(fleet.dirs[0], `k${i}.wav`))).to.deep.equal(body);
        }
        expect(proxy.dropped(), 'every upload after the first met a stale socket').to.equal(bodies.length - 1);
        expect(proxy.connections()).to.equal(bodies.length);
      });
    }

    it('should spend the attempt when a fresh connection is reset: only a reused socket gets a free resend', async () => {
      const reset = await wire(startResetServer());
      const u = uploader([reset.url], { perTarget: 1 });
      for (const size of [100, (1 << 20) + 1]) {
        const before = reset.connections();
        const err = await failure(u.upload(reset.url, await fileOf(`r${size}.wav`, randomBytes(size))));
        expect(err.transient).to.equal(true);
        expect(reset.connections() - before, `${size} bytes: one connection`).to.equal(1);
      }
    });

    it('should bound the free resends, so a host that always breaks off its answer still fails the attempt', async () => {
      const half = await wire(startHalfAnswerResetServer());
      const err = await failure(uploader([half.url], { perTarget: 1 }).upload(half.url, await fileOf('h.wav', randomBytes(100))));
      expect(err.transient).to.equal(true);
      expect(half.connections()).to.equal(1 + STALE_SOCKET_RESENDS);
    });

    it('should follow an outer abort signal on a streamed upload, and leave no listener on it', async () => {
      const url = await server(() => undefined); // never answers
      const ac = new AbortController();
      const p = uploader([url]).upload(url, await fileOf('ab.wav', randomBytes(3 * (1 << 20))), ac.signal);
      setTimeout(() => ac.abort(), 100);
      const err = await failure(p);
      expect(err.transient).to.equal(true);
      expect(getEventListeners(ac.signal, 'abort')).to.have.length(0);
    });

    it('should not make an AbortSignal.any per streamed file (Node 20 keeps each one alive)', async () => {
      // a node:http receiver: counted here is the uploader's side only
      const url = await server(drainThen((_req, res, body) => res.writeHead(201, { 'x-fanout-sha256': sha256(body) }).end()));
      const any = AbortSignal.any;
      let calls = 0;
      AbortSignal.any = (signals) => (calls++, any(signals));
      try {
        const ac = new AbortController();
        await uploader([url]).upload(url, await fileOf('any.wav', randomBytes((1 << 20) + 1)), ac.signal);
        expect(getEventListeners(ac.signal, 'abort')).to.have.length(0);
      } finally {
        AbortSignal.any = any;
      }
      expect(calls).to.equal(0);
    });
  });
});
