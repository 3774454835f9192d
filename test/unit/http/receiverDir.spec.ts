import { expect } from 'chai';
import { chmod, chown, mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { request } from 'undici';
import { ConfigError } from '../../../src/errors.js';
import { createLogger } from '../../../src/logger.js';
import { startReceiver, type Receiver, type ReceiverOptions } from '../../../src/http/server.js';
import { readTree } from '../../helpers/receivers.js';
import { rawPut, until } from './rawClient.js';

const NOBODY = 65534;

describe('startReceiver directory', () => {
  let base: string;
  let dir: string;
  let receiver: Receiver | undefined;
  const start = async (opts: Partial<ReceiverOptions> = {}) => (receiver = await startReceiver({ dir, ...opts }));
  /** the error startReceiver throws, or undefined (having closed the receiver) when it starts */
  const refusal = (opts: Partial<ReceiverOptions> = {}) =>
    start(opts).then(
      async (r) => {
        await r.close();
        receiver = undefined;
      },
      (err: unknown) => err,
    );
  const health = async () => (await request(`${receiver!.url}/healthz`)).statusCode;

  beforeEach(async () => {
    base = await mkdtemp(path.join(os.tmpdir(), 'fanout-dir-spec-'));
    dir = path.join(base, 'recv');
  });
  afterEach(async () => {
    await receiver?.close();
    receiver = undefined;
    await rm(base, { recursive: true, force: true });
  });

  it('should refuse a dir, or a folder under it, that its group or others may write', async () => {
    await mkdir(path.join(dir, 'a', 'b'), { recursive: true });
    for (const [folder, mode] of [[dir, 0o775], [dir, 0o757], [path.join(dir, 'a', 'b'), 0o770]] as const) {
      await chmod(folder, mode);
      const err = await refusal();
      expect(err, `${folder} ${mode.toString(8)}`).to.be.instanceOf(ConfigError);
      expect((err as Error).message).to.include(folder).and.match(/writable by (its group|others)/);
      expect((err as Error).message).not.to.include('\n');
      await chmod(folder, 0o755);
    }
    expect(await refusal()).to.equal(undefined);
  });

  it('should refuse a dir holding a folder owned by another user', async () => {
    const theirs = path.join(dir, 'theirs');
    await mkdir(theirs, { recursive: true });
    await chown(theirs, NOBODY, NOBODY);
    const err = await refusal();
    expect(err).to.be.instanceOf(ConfigError);
    expect((err as Error).message).to.include(theirs).and.include('owned by uid 65534');
  });

  it('should create its folders 0755 whatever the umask', async () => {
    const was = process.umask(0);
    try {
      const r = await start();
      expect((await rawPut(r.url, '/files/a/b/c.txt')).status).to.equal(201);
    } finally {
      process.umask(was);
    }
    for (const folder of ['', '.tmp', 'a', 'a/b']) expect((await stat(path.join(dir, folder))).mode & 0o777, folder || '.').to.equal(0o755);
  });

  it('should refuse an upload under a folder that became writable by others while it runs', async () => {
    const r = await start();
    expect((await rawPut(r.url, '/files/shared/a.txt')).status).to.equal(201);
    await chmod(path.join(dir, 'shared'), 0o777);
    const res = await rawPut(r.url, '/files/shared/b.txt');
    expect(res.status).to.equal(403);
    expect(JSON.parse(res.body).error).to.match(/writable by (its group|others)/);
    expect([...(await readTree(dir)).keys()]).to.deep.equal(['shared/a.txt']);
  });

  it('should clear leftover temp files at start and log how many', async () => {
    await mkdir(path.join(dir, '.tmp'), { recursive: true });
    await writeFile(path.join(dir, '.tmp', 'crashed-1.part'), 'half');
    await writeFile(path.join(dir, '.tmp', 'crashed-2.part'), 'half');
    let logged = '';
    const stream = new PassThrough().setEncoding('utf8').on('data', (c: string) => (logged += c));
    await start({ logger: createLogger({ stream }) });
    expect(await readdir(path.join(dir, '.tmp'))).to.deep.equal([]);
    await until(() => logged.includes('receiver_tmp_cleared'));
    const line = logged.split('\n').find((l) => l.includes('receiver_tmp_cleared'))!;
    expect(JSON.parse(line)).to.include({ count: 2 });
  });

  it('should store again after its dir is emptied under it', async () => {
    const r = await start();
    expect((await rawPut(r.url, '/files/a/x.txt')).status).to.equal(201);
    for (const entry of await readdir(dir)) await rm(path.join(dir, entry), { recursive: true });
    expect((await rawPut(r.url, '/files/a/y.txt')).status).to.equal(201);
    expect([...(await readTree(dir)).keys()]).to.deep.equal(['a/y.txt']);
    expect(await health()).to.equal(200);
  });

  it('should answer 503 on /healthz while its dir cannot be written, and 200 once it can', async () => {
    await start();
    expect(await health()).to.equal(200);
    await rm(dir, { recursive: true });
    await writeFile(dir, 'a file where the folder was');
    expect(await health()).to.equal(503);
    await rm(dir);
    expect(await health()).to.equal(200);
    expect((await rawPut(receiver!.url, '/files/back.txt')).status).to.equal(201);
  });
});
