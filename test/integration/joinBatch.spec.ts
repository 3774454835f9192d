import { expect } from 'chai';
import { cli, spawnCli } from '../helpers/cli.js';
import { assertInvariants } from '../helpers/invariants.js';
import { mariadbFixture } from '../helpers/mariadb.js';
import { storedCounter } from '../helpers/receivers.js';
import { summaryOf, untilRecorded } from '../helpers/runs.js';

describe('fanout upload --resume, twice at once: the second joins as a worker (MariaDB)', function () {
  this.timeout(120_000);
  const stored = storedCounter();
  // 300 files; hosts slow enough that the two resumes overlap
  const fx = mariadbFixture(286, 3, { slots: 1, delayMs: 30, logger: stored.logger });

  it('should send every file once and record it once, both runs exiting 0 with summaries that add up to the batch', async () => {
    const { mysql, fleet, tree, store } = fx;
    const db = mysql!.url;
    const upload = (argv: string[]) => spawnCli(['upload', ...argv, '--db', db, '--json', '--per-target', '1']);
    // a batch started by a fresh run and stopped: some files uploaded, the rest pending
    const first = upload([tree.dir, '--target', fleet.urls.join(','), '--batch-id', 'cron']);
    await untilRecorded(db, 'cron', 10, 60_000);
    first.kill('SIGINT');
    const f = await first.done;
    expect(f.code, f.stderr.slice(-2000)).to.equal(130);
    const before = await store.countFiles('cron');
    expect(before.pending, 'files left for the resumes').to.be.above(200);

    // two overlapping cron runs
    const [a, b] = await Promise.all([upload(['--batch-id', 'cron', '--resume']).done, upload(['--batch-id', 'cron', '--resume']).done]);
    for (const r of [a, b]) expect(r.code, r.stderr.slice(-2000)).to.equal(0);
    const [sa, sb] = [summaryOf(a), summaryOf(b)];
    for (const s of [sa, sb]) {
      expect(s).to.include({ status: 'completed', total: tree.files.size, failed: 0, pending: 0 });
      expect(s.uploaded + s.skipped, 'each summary covers the batch').to.equal(tree.files.size);
    }
    expect(sa.uploaded + sb.uploaded, 'between them, every file the first run left').to.equal(tree.files.size - before.uploaded);
    // each file stored once over the whole story (the stopped run's in-flight files were recorded before it ended)
    expect([...stored.counts].filter(([, n]) => n !== 1), 'files stored more than once').to.deep.equal([]);
    expect(stored.counts.size).to.equal(tree.files.size);
    await assertInvariants(store, 'cron', tree, fx.targets(), { complete: true, summaries: [sa] });
    await assertInvariants(store, 'cron', tree, fx.targets(), { complete: true, summaries: [sb] });
    // the batch row keeps the counts of the run that ended last, as after resumes one after the other
    const batch = await store.getBatch('cron');
    expect(batch).to.include({ status: 'completed', total: tree.files.size, failed: 0 });
    expect([sa, sb].map((s) => [s.uploaded, s.skipped])).to.deep.include([batch?.uploaded, batch?.skipped]);
    console.log(`      split: ${sa.uploaded} + ${sb.uploaded} (${before.uploaded} before)`);
  });
});

describe('fanout upload --resume as a worker keeps upload\'s stops (MariaDB)', function () {
  this.timeout(60_000);
  // a host that takes 10 bytes at most: most files fail for good (413)
  const fx = mariadbFixture(40, 1, { maxBytes: 10 });

  it('should stop taking files after --max-errors, leave the rest pending and end failed (exit 1), saying why', async () => {
    const { mysql, fleet, tree, store } = fx;
    const db = mysql!.url;
    const planned = await cli(['plan', tree.dir, '--batch-id', 'few', '--target', fleet.urls[0], '--db', db]);
    expect(planned.code, planned.stderr).to.equal(0);
    const r = await cli(['upload', '--batch-id', 'few', '--resume', '--max-errors', '3', '--per-target', '1', '--db', db, '--json']);
    expect(r.code, r.stderr.slice(-2000)).to.equal(1);
    const s = summaryOf(r);
    expect(s).to.include({ status: 'failed', total: tree.files.size });
    expect(s.reason).to.contain('--max-errors');
    expect(s.failed).to.be.within(3, 6);
    expect(s.pending, 'the rest left for a later run').to.be.above(20);
    expect(s.total).to.equal(s.uploaded + s.failed + s.skipped + s.pending);
    expect((await store.countFiles('few')).pending).to.equal(s.pending);
    expect(await store.getBatch('few')).to.include({ status: 'failed' });
  });
});

describe('fanout upload --resume as a worker: SIGINT, SIGKILL, then --resume (MariaDB)', function () {
  this.timeout(120_000);
  const stored = storedCounter();
  const fx = mariadbFixture(136, 2, { slots: 1, delayMs: 30, logger: stored.logger });

  it('should end interrupted (exit 130) on SIGINT, take a SIGKILLed run\'s claims back at once, and complete with each file recorded once', async () => {
    const { mysql, fleet, tree, store } = fx;
    const db = mysql!.url;
    const upload = (argv: string[]) => spawnCli(['upload', ...argv, '--db', db, '--json', '--per-target', '1']);
    const planned = await cli(['plan', tree.dir, '--batch-id', 'sig', '--target', fleet.urls.join(','), '--db', db]);
    expect(planned.code, planned.stderr).to.equal(0);

    const interrupted = upload(['--batch-id', 'sig', '--resume']);
    await untilRecorded(db, 'sig', 10, 60_000);
    interrupted.kill('SIGINT');
    const i = await interrupted.done;
    expect(i.code, i.stderr.slice(-2000)).to.equal(130);
    const si = summaryOf(i);
    expect(si).to.include({ status: 'interrupted' });
    expect(si.pending, 'files left').to.be.above(50);
    expect(await store.getBatch('sig')).to.include({ status: 'interrupted' });
    expect(await store.knex('file_distributions').where({ batch_id: 'sig', status: 'pending' }).whereNotNull('claim_expires_at').count({ n: '*' }), 'claims given back').to.deep.equal([{ n: 0 }]);

    const killed = upload(['--batch-id', 'sig', '--resume']);
    await untilRecorded(db, 'sig', si.uploaded + 10, 60_000);
    const id = (await store.knex('workers').where({ batch_id: 'sig', pid: killed.pid }).first('id'))?.id as string;
    const inFlightAtKill = (await store.knex('file_distributions').where({ batch_id: 'sig', claimed_by: id, status: 'pending' }).pluck('file_path')) as string[];
    killed.kill('SIGKILL');
    await killed.done;

    // the killed run's claims run for 30 s: a resume on this host takes them back at once
    const t0 = Date.now();
    const last = await upload(['--batch-id', 'sig', '--resume']).done;
    expect(last.code, last.stderr.slice(-2000)).to.equal(0);
    expect(Date.now() - t0, 'without waiting for the lease to run out').to.be.below(25_000);
    expect(last.stderr).to.contain('worker_pruned');
    const s = summaryOf(last);
    expect(s).to.include({ status: 'completed', pending: 0, failed: 0 });
    expect(s.uploaded + s.skipped).to.equal(tree.files.size);
    const twice = [...stored.counts].filter(([, n]) => n > 1).map(([p]) => p);
    expect(twice.filter((p) => !inFlightAtKill.includes(p)), 'twice only what the killed run held').to.deep.equal([]);
    await assertInvariants(store, 'sig', tree, fx.targets(), { complete: true, allowDuplicates: true, summaries: [s] });
  });
});
