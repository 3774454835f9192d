#!/usr/bin/env node
// npm run bench:workers — several `fanout work` workers sharing one planned batch (issue 9, "Measured").
//
// Part `scale` (root): each worker in its own network namespace behind a shaped uplink (harness/netns.sh
// builds the links: namespaces fo-h1..fo-hN, tbf RATE and DELAY each way; here the workers sit behind
// them, not the hosts). RECEIVERS receivers (harness/receiver.mjs, unlimited slots) run in the root
// namespace on 198.19.0.1 (an address this script adds to `lo`, routed from every namespace through its
// link), so together they take far more than one uplink carries. The batch is planned once per run on
// MariaDB; 1, 2, 4 workers (WORKERS) run it. Reported: wall time, MB/s, speedup over one worker, and the
// database work per file (statements, rows read/updated, lock waits, claim latency).
//   The workers' database traffic does not cross the shaped link: MariaDB listens on 127.0.0.1 only, so
//   each namespace gets a forwarder (dbpipe.mjs) from its own 127.0.0.1:3306 to MariaDB's unix socket.
//   Through the link it would queue behind up to LIMIT (1.5 MB) of upload bytes in tbf, and the claim
//   latency would measure that queue, not the claims.
//
// Part `claims` (no root needed, loopback): CLAIM_FILES files of CLAIM_KB KiB, one worker. The claim
// overhead is the worker's CPU time (user+sys) minus that of `fanout upload` sending the same files to
// the same receivers with the same database (same record writes, no claims), over the worker's CPU time.
// A third, shorter run (LOCK_FILES, 2 workers) sets FANOUT_CLAIM_LOCKS=1 to read the row locks each claim holds.
//
// Database counters: MariaDB's per-user statistics (`userstat`, switched on for the run and back off
// after) for a user of our own, fanout_bench (created, dropped on exit), so other clients of the same
// server don't count; InnoDB lock waits are server-wide (SHOW GLOBAL STATUS): other clients do count.
//
// env: PARTS="scale claims"   WORKERS="1 2 4"   REPEAT=1 (interleaved)
//      FILES=1800 SIZE_KB=1024   RATE=100mbit DELAY=2ms   RECEIVERS=4 PER_TARGET=2 LEASE_MS=1500
//      CLAIM_FILES=10000 CLAIM_KB=64 LOCK_FILES=2000
//      FANOUT_MYSQL_ADMIN=mysql://root@127.0.0.1:3306 (a user that may create users and databases)
//      BENCH_DB=fanout_workers_bench (dropped and re-created before each run)   BENCH_OUT=bench-results
//      PORT0=9301 (receivers on PORT0..PORT0+RECEIVERS-1)
// Output: markdown on stdout and in BENCH_OUT/workers-<stamp>.md, raw lines in workers-<stamp>.jsonl.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import mysql from 'mysql2/promise';

const B = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(B, '../..');
const FANOUT = path.join(ROOT, 'dist/fanout.mjs');
const W = '/tmp/fanout-bench/workers';
const e = process.env;
const num = (name, dflt) => {
  const v = Number(e[name] ?? dflt);
  if (!Number.isFinite(v) || v < 1) die(`${name} must be a positive number, got ${JSON.stringify(e[name])}`, 2);
  return v;
};
const PARTS = (e.PARTS ?? 'scale claims').split(/[\s,]+/).filter(Boolean);
const WORKERS = (e.WORKERS ?? '1 2 4').split(/[\s,]+/).filter(Boolean).map(Number);
const REPEAT = num('REPEAT', 1), FILES = num('FILES', 1800), SIZE_KB = num('SIZE_KB', 1024);
const RATE = e.RATE ?? '100mbit', DELAY = e.DELAY ?? '2ms';
const RECEIVERS = num('RECEIVERS', 4), PER_TARGET = num('PER_TARGET', 2), LEASE_MS = num('LEASE_MS', 1500);
const CLAIM_FILES = num('CLAIM_FILES', 10000), CLAIM_KB = num('CLAIM_KB', 64), LOCK_FILES = num('LOCK_FILES', 2000);
const ADMIN = e.FANOUT_MYSQL_ADMIN ?? 'mysql://root@127.0.0.1:3306';
const DB = e.BENCH_DB ?? 'fanout_workers_bench';
const OUT = path.resolve(ROOT, e.BENCH_OUT ?? 'bench-results');
const PORT0 = num('PORT0', 9301);
const USER = 'fanout_bench';
const SHARED = '198.19.0.1'; // the receivers' address as the namespaces see it (RFC 2544 space, beside netns.sh's 198.18/16)
const NETNS = path.join(B, 'harness/netns.sh');

function die(msg, code = 1) {
  console.error(`bench:workers: ${msg}`);
  process.exit(code);
}
for (const p of PARTS) if (p !== 'scale' && p !== 'claims') die(`unknown part "${p}" (scale, claims)`, 2);
for (const n of WORKERS) if (!Number.isInteger(n) || n < 1 || n > 64) die(`WORKERS: bad count "${n}"`, 2);
if (!/^[A-Za-z0-9_]+$/.test(DB)) die(`BENCH_DB: odd database name "${DB}"`, 2);
if (PARTS.includes('scale') && process.getuid?.() !== 0) die('part scale needs root (network namespaces, tc): sudo, or PARTS=claims');
if (!fs.existsSync(FANOUT)) die('dist/fanout.mjs missing: npm run build (the bench runs whatever is in dist/)');
if (!fs.existsSync('/usr/bin/time')) die('missing GNU time (/usr/bin/time): apt-get install time');

const log = (msg) => console.error(`# ${msg}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- cleanup: everything this run started or changed, on any exit
const children = new Set();
const undo = [];
let cleaned = false;
function cleanup() {
  if (cleaned) return;
  cleaned = true;
  for (const c of children) c.kill('SIGKILL');
  for (const f of undo.reverse()) {
    try {
      f();
    } catch (err) {
      console.error(`bench:workers: cleanup: ${err.message}`);
    }
  }
}
process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => process.exit(130));

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  if (r.status !== 0 && !opts.ok) die(`${cmd} ${args.join(' ')} failed (${r.status}): ${(r.stderr || r.stdout || '').trim().split('\n').slice(-3).join(' | ')}`);
  return r;
}

/** Spawn a long-lived helper and wait for its READY line. */
async function helper(cmd, args, name) {
  const logf = path.join(W, `${name}.log`);
  const fd = fs.openSync(logf, 'w');
  const c = spawn(cmd, args, { stdio: ['ignore', fd, fd] });
  fs.closeSync(fd);
  children.add(c);
  c.on('exit', () => children.delete(c));
  for (let i = 0; i < 200; i++) {
    if (fs.readFileSync(logf, 'utf8').includes('READY')) return c;
    if (c.exitCode !== null) break;
    await sleep(50);
  }
  die(`${name} did not start: ${fs.readFileSync(logf, 'utf8').trim().slice(-300)}`);
}

/** tc's rate units (k = 1000) to MB/s, as netns.sh reads RATE */
function rateMBs(rate) {
  const m = /^(\d+(?:\.\d+)?)(bit|kbit|mbit|gbit|bps|kbps|mbps|gbps)$/i.exec(rate);
  if (!m) die(`RATE: bad rate "${rate}" (e.g. 100mbit)`, 2);
  const f = { bit: 1 / 8, kbit: 1e3 / 8, mbit: 1e6 / 8, gbit: 1e9 / 8, bps: 1, kbps: 1e3, mbps: 1e6, gbps: 1e9 }[m[2].toLowerCase()];
  return (Number(m[1]) * f) / 1e6;
}
if (PARTS.includes('scale')) rateMBs(RATE);

// ---- data: N files of K KiB in subdirectories of 100, generated once and kept
function dataset(n, kb) {
  const dir = path.join(W, `d-${n}x${kb}k`);
  const stamp = `${dir}.complete`; // beside it: a file inside would be uploaded too
  if (fs.existsSync(stamp)) return dir;
  log(`generating ${n} x ${kb} KiB in ${dir}`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.rmSync(stamp, { force: true });
  const buf = randomBytes(kb * 1024);
  for (let i = 0; i < n; i++) {
    const sub = path.join(dir, String(Math.floor(i / 100)).padStart(4, '0'));
    if (i % 100 === 0) fs.mkdirSync(sub, { recursive: true });
    buf.writeUInt32BE(i, 0); // no two files alike
    fs.writeFileSync(path.join(sub, `f${String(i).padStart(6, '0')}.bin`), buf);
  }
  fs.writeFileSync(stamp, '');
  return dir;
}
function warm(dir) { // every run starts with the data in the page cache, as the other scenarios do
  run('sh', ['-c', 'find "$1" -type f -exec cat {} + > /dev/null', 'sh', dir]);
}

// ---- database
const admin = await (async () => {
  const u = new URL(ADMIN);
  try {
    return await mysql.createConnection({ host: u.hostname, port: Number(u.port || 3306), user: decodeURIComponent(u.username), password: decodeURIComponent(u.password), connectTimeout: 3000, multipleStatements: false });
  } catch (err) {
    die(`MariaDB at ${u.host} not reachable: ${err.code ?? ''} ${err.message}`);
  }
})();
const q = async (sql, args) => (await admin.query(sql, args))[0];
const [{ socket, userstat }] = await q('SELECT @@socket AS socket, @@userstat AS userstat');
await q(`CREATE USER IF NOT EXISTS '${USER}'@'localhost', '${USER}'@'127.0.0.1'`);
await q(`GRANT ALL ON \`${DB}\`.* TO '${USER}'@'localhost', '${USER}'@'127.0.0.1'`);
// PROCESS: FANOUT_CLAIM_LOCKS=1 reads the claim's own transaction in SHOW ENGINE INNODB STATUS
await q(`GRANT PROCESS ON *.* TO '${USER}'@'localhost', '${USER}'@'127.0.0.1'`);
await q('SET GLOBAL userstat = 1');
undo.push(() => {
  // synchronous on exit: the mysql client, as root over the same admin URL
  const u = new URL(ADMIN);
  spawnSync('mysql', ['-h', u.hostname, '-P', u.port || '3306', '-u', decodeURIComponent(u.username), ...(u.password ? [`-p${decodeURIComponent(u.password)}`] : []),
    '-e', `SET GLOBAL userstat = ${Number(userstat) ? 1 : 0}; DROP USER IF EXISTS '${USER}'@'localhost', '${USER}'@'127.0.0.1'; DROP DATABASE IF EXISTS \`${DB}\``]);
});
const dbUrl = `mysql://${USER}@127.0.0.1:3306/${DB}`;

async function freshDb() {
  await q(`DROP DATABASE IF EXISTS \`${DB}\``);
  await q(`CREATE DATABASE \`${DB}\``);
  run(FANOUT, ['migrate', '--db', dbUrl]);
}
const STAT_COLS = ['SELECT_COMMANDS', 'UPDATE_COMMANDS', 'OTHER_COMMANDS', 'COMMIT_TRANSACTIONS', 'ROLLBACK_TRANSACTIONS', 'ROWS_READ', 'ROWS_SENT', 'ROWS_UPDATED', 'ROWS_INSERTED', 'ROWS_DELETED', 'BUSY_TIME', 'CPU_TIME', 'TOTAL_CONNECTIONS'];
async function dbCounters() {
  const [u] = await q(`SELECT ${STAT_COLS.join(', ')} FROM information_schema.USER_STATISTICS WHERE USER = ?`, [USER]);
  const g = await q("SHOW GLOBAL STATUS WHERE Variable_name IN ('Innodb_row_lock_waits', 'Innodb_row_lock_time', 'Innodb_deadlocks')");
  const out = Object.fromEntries(STAT_COLS.map((c) => [c, Number(u?.[c] ?? 0)]));
  for (const r of g) out[r.Variable_name] = Number(r.Value);
  return out;
}
const delta = (a, b) => Object.fromEntries(Object.keys(b).map((k) => [k, Math.round((b[k] - (a[k] ?? 0)) * 1000) / 1000]));
async function batchCounts(batchId) {
  const rows = await q(`SELECT status, count(*) AS n, max(finished_at) AS last FROM \`${DB}\`.file_distributions WHERE batch_id = ? GROUP BY status`, [batchId]);
  return { counts: Object.fromEntries(rows.map((r) => [r.status, Number(r.n)])), lastMs: Math.max(...rows.map((r) => Number(r.last ?? 0))) };
}

// ---- receivers (root namespace, every address: the namespaces reach them on SHARED, loopback on 127.0.0.1)
const ports = Array.from({ length: RECEIVERS }, (_, i) => PORT0 + i);
fs.mkdirSync(W, { recursive: true });
for (const p of ports) {
  const r = spawnSync('curl', ['-s', '-m', '1', '-o', '/dev/null', `http://127.0.0.1:${p}/stats`]);
  if (r.status === 0) die(`port ${p} is in use (another bench running?)`);
}
for (const p of ports) await helper('node', [path.join(B, 'harness/receiver.mjs'), '--host', '0.0.0.0', '--ports', String(p)], `recv-${p}`);
async function receivedBytes() {
  let bytes = 0, duplicates = 0;
  for (const p of ports) {
    const s = await (await fetch(`http://127.0.0.1:${p}/stats`)).json();
    bytes += s.bytes;
    duplicates += s.duplicates;
  }
  return { bytes, duplicates };
}

// ---- one run: plan, then N workers (each in namespace fo-hK, or all on loopback), timed
const timeFmt = '%e %U %S %M';
async function runWorkers({ label, n, dir, targets, inNetns, extraEnv = {} }) {
  await freshDb();
  const batchId = `${label}-${Date.now()}`;
  run(FANOUT, ['plan', dir, '--batch-id', batchId, '--target', targets.join(','), '--assign', 'least-loaded', '--db', dbUrl]);
  warm(dir);
  const before = { db: await dbCounters(), rx: await receivedBytes() };
  const t0 = performance.now();
  const t0Epoch = Date.now();
  const procs = [];
  for (let k = 1; k <= n; k++) {
    const tf = path.join(W, `${label}-w${k}.time`);
    const lf = path.join(W, `${label}-w${k}.log`);
    const args = ['-f', timeFmt, '-o', tf, FANOUT, 'work', '--batch-id', batchId, '--root', dir, '--db', dbUrl,
      '--per-target', String(PER_TARGET), '--concurrency', String(PER_TARGET * RECEIVERS), '--lease-ms', String(LEASE_MS),
      '--json', '--log-format', 'json', '--log-level', 'info'];
    const [cmd, argv] = inNetns ? ['ip', ['netns', 'exec', `fo-h${k}`, '/usr/bin/time', ...args]] : ['/usr/bin/time', args];
    const fd = fs.openSync(lf, 'w');
    const c = spawn(cmd, argv, { stdio: ['ignore', 'pipe', fd], env: { ...process.env, ...extraEnv } });
    fs.closeSync(fd);
    children.add(c);
    let stdout = '';
    c.stdout.on('data', (d) => (stdout += d));
    procs.push(new Promise((resolve) => c.on('exit', (code) => {
      children.delete(c);
      resolve({ k, code, ms: performance.now() - t0, stdout, tf, lf });
    })));
  }
  const done = await Promise.all(procs);
  const wallS = (performance.now() - t0) / 1000;
  const after = { db: await dbCounters(), rx: await receivedBytes() };
  const { counts, lastMs } = await batchCounts(batchId);
  const workers = done.map((d) => {
    const [el, us, ss, rss] = fs.readFileSync(d.tf, 'utf8').trim().split('\n').pop().split(' ').map(Number);
    const lines = fs.readFileSync(d.lf, 'utf8').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
    const complete = lines.find((l) => l.event === 'worker_complete');
        return { k: d.k, exit: d.code, wall_s: +(d.ms / 1000).toFixed(2), cpu_s: +(us + ss).toFixed(2), peak_rss_mb: Math.round(rss / 1024), elapsed_s: el,
      uploaded: complete?.uploaded, failed: complete?.failed, lost: complete?.lost, claims: complete?.claims };
  });
  const bad = workers.filter((w) => w.exit !== 0);
  const files = counts.uploaded ?? 0;
  const ok = bad.length === 0 && files === Object.values(counts).reduce((a, b) => a + b, 0);
  if (!ok) log(`${label}: NOT OK: exits ${workers.map((w) => w.exit).join(',')}, rows ${JSON.stringify(counts)}; see ${W}/${label}-w*.log`);
  const c = workers.reduce((a, w) => {
    const s = w.claims ?? {};
    return { claims: a.claims + (s.claims ?? 0), rows: a.rows + (s.rows ?? 0), totalMs: a.totalMs + (s.totalMs ?? 0), p95Ms: Math.max(a.p95Ms, s.p95Ms ?? 0),
      p50Ms: Math.max(a.p50Ms, s.p50Ms ?? 0), maxMs: Math.max(a.maxMs, s.maxMs ?? 0), rowsLocked: s.rowsLocked === undefined ? a.rowsLocked : (a.rowsLocked ?? 0) + s.rowsLocked };
  }, { claims: 0, rows: 0, totalMs: 0, p50Ms: 0, p95Ms: 0, maxMs: 0, rowsLocked: undefined });
  const bytes = after.rx.bytes - before.rx.bytes;
  // the last file's record (finished_at, written by the workers with this machine's clock): the
  // transfer without the workers' exit (one that ran dry polls, backing off up to 2 s, until the batch is done)
  const lastS = (lastMs - t0Epoch) / 1000;
  return { label, workers: n, ok, counts, files, bytes, duplicates: after.rx.duplicates - before.rx.duplicates, wall_s: +wallS.toFixed(2),
    MB_per_s: +(bytes / 1e6 / wallS).toFixed(2), last_file_s: +lastS.toFixed(2), MB_per_s_to_last: +(bytes / 1e6 / lastS).toFixed(2), cpu_s: +workers.reduce((a, w) => a + w.cpu_s, 0).toFixed(2), db: delta(before.db, after.db), claims: c, per_worker: workers };
}

// ---- output
const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
fs.mkdirSync(OUT, { recursive: true });
if (!fs.existsSync(path.join(OUT, '.gitignore'))) fs.writeFileSync(path.join(OUT, '.gitignore'), '# bench output (npm run bench), not tracked\n*\n');
const jsonl = path.join(OUT, `workers-${stamp}.jsonl`);
const record = (r) => fs.appendFileSync(jsonl, `${JSON.stringify(r)}\n`);
const f1 = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '–');
const perFile = (r, k) => f1(r.db[k] / Math.max(1, r.files), 2);
const statements = (r) => r.db.SELECT_COMMANDS + r.db.UPDATE_COMMANDS + r.db.OTHER_COMMANDS;
const md = [];
const [load1] = fs.readFileSync('/proc/loadavg', 'utf8').split(' ');
md.push(`# fanout workers bench ${stamp}`, '', `- nproc ${(await import('node:os')).availableParallelism()}, load1 at start ${load1}, node ${process.version}; receivers: ${RECEIVERS} x harness receiver.mjs (unlimited slots); workers: \`fanout work --per-target ${PER_TARGET} --concurrency ${PER_TARGET * RECEIVERS} --lease-ms ${LEASE_MS}\`, batch planned \`--assign least-loaded\``,
  '- statements = MariaDB userstat SELECT + UPDATE + OTHER commands of the workers\' user (OTHER: INSERT, BEGIN, COMMIT, …); lock waits: server-wide Innodb_row_lock_waits (other clients count too)');

const results = [];
let netnsUp = false;
try {
  if (PARTS.includes('scale')) {
    const dir = dataset(FILES, SIZE_KB);
    const max = Math.max(...WORKERS);
    log(`links: ${max} worker namespaces behind ${RATE}, ${DELAY} each way`);
    undo.push(() => netnsUp && spawnSync('bash', [NETNS, 'down'], { stdio: 'inherit' }));
    netnsUp = true;
    run('bash', [NETNS, 'up', String(max), RATE, DELAY], { stdio: ['ignore', 'ignore', 'inherit'] });
    if (!run('ip', ['-o', 'addr', 'show', 'dev', 'lo']).stdout.includes(`${SHARED}/32`)) {
      run('ip', ['addr', 'add', `${SHARED}/32`, 'dev', 'lo']);
      undo.push(() => spawnSync('ip', ['addr', 'del', `${SHARED}/32`, 'dev', 'lo']));
    }
    for (let k = 1; k <= max; k++) {
      run('ip', ['-n', `fo-h${k}`, 'route', 'replace', `${SHARED}/32`, 'dev', 'eth0']);
      await helper('ip', ['netns', 'exec', `fo-h${k}`, 'node', path.join(B, 'dbpipe.mjs'), '3306', socket], `dbpipe-${k}`);
    }
    const targets = ports.map((p) => `http://${SHARED}:${p}`);
    const scale = [];
    for (let rep = 1; rep <= REPEAT; rep++) {
      for (const n of WORKERS) {
        log(`scale: ${n} worker(s), ${FILES} x ${SIZE_KB} KiB, rep ${rep}`);
        const r = await runWorkers({ label: `scale-${n}w-r${rep}`, n, dir, targets, inNetns: true });
        r.rep = rep;
        record({ part: 'scale', rate: RATE, delay: DELAY, ...r });
        scale.push(r);
        log(`  ok=${r.ok} wall ${r.wall_s} s, ${r.MB_per_s} MB/s, ${r.files} files, ${f1(statements(r) / Math.max(1, r.files), 2)} statements/file`);
      }
    }
    const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
    const one = median(scale.filter((r) => r.workers === 1 && r.ok).map((r) => r.MB_per_s));
    const oneLast = median(scale.filter((r) => r.workers === 1 && r.ok).map((r) => r.MB_per_s_to_last));
    const linkMBs = rateMBs(RATE);
    md.push('', `## Scale: each worker behind its own ${RATE} uplink (${DELAY} each way), ${FILES} x ${SIZE_KB} KiB`, '',
      `Targets: 1 worker ≥ — ; 2 workers ≥ 1.8x; 4 workers ≥ 3.4x the one-worker MB/s. Link: ${f1(linkMBs, 2)} MB/s raw per worker (tbf counts headers: ≈ 0.965 of it is payload).`, '',
      'wall: start of the workers to the last one\'s exit; "to last file": to the last file\'s record (without the exit of workers polling a drained batch). Speedups over the median one-worker run.', '',
      '| workers | rep | ok | files per worker | wall s | MB/s | speedup | to last file s | MB/s | speedup | of N links | worker CPU s | statements/file | SELECT/file | UPDATE/file | OTHER/file | commits/file | rows read/file | rows updated/file | lock waits | claims | rows/claim | claim ms mean / p50 / p95 / max |',
      '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
    for (const r of scale) {
      const c = r.claims;
      md.push(`| ${r.workers} | ${r.rep} | ${r.ok ? 'yes' : '**no**'} | ${r.per_worker.map((w) => w.uploaded ?? '?').join(' / ')} | ${f1(r.wall_s, 2)} | ${f1(r.MB_per_s, 2)} | ${f1(r.MB_per_s / one, 2)}x | ${f1(r.last_file_s, 2)} | ${f1(r.MB_per_s_to_last, 2)} | ${f1(r.MB_per_s_to_last / oneLast, 2)}x | ${f1((100 * r.MB_per_s_to_last) / (r.workers * linkMBs), 0)} % | ${f1(r.cpu_s, 1)} | ${f1(statements(r) / Math.max(1, r.files), 2)} | ${perFile(r, 'SELECT_COMMANDS')} | ${perFile(r, 'UPDATE_COMMANDS')} | ${perFile(r, 'OTHER_COMMANDS')} | ${perFile(r, 'COMMIT_TRANSACTIONS')} | ${perFile(r, 'ROWS_READ')} | ${perFile(r, 'ROWS_UPDATED')} | ${r.db.Innodb_row_lock_waits} | ${c.claims} | ${f1(c.rows / Math.max(1, c.claims), 2)} | ${f1(c.totalMs / Math.max(1, c.claims), 2)} / ${f1(c.p50Ms, 2)} / ${f1(c.p95Ms, 2)} / ${f1(c.maxMs, 1)} |`);
    }
    results.push(...scale);
  }

  if (PARTS.includes('claims')) {
    const targets = ports.map((p) => `http://127.0.0.1:${p}`);
    const dir = dataset(CLAIM_FILES, CLAIM_KB);
    const rows = [];
    for (let rep = 1; rep <= REPEAT; rep++) {
      // fanout upload: the same files, receivers and database; record writes but no claims
      log(`claims: fanout upload of ${CLAIM_FILES} x ${CLAIM_KB} KiB, rep ${rep}`);
      await freshDb();
      warm(dir);
      const tf = path.join(W, `claims-upload-r${rep}.time`);
      const before = { db: await dbCounters(), rx: await receivedBytes() };
      const t0 = performance.now();
      const up = spawnSync('/usr/bin/time', ['-f', timeFmt, '-o', tf, FANOUT, 'upload', dir, '--target', targets.join(','), '--assign', 'least-loaded',
        '--per-target', String(PER_TARGET), '--concurrency', String(PER_TARGET * RECEIVERS), '--db', dbUrl, '--json', '--no-progress', '--log-format', 'json', '--log-level', 'info'],
      { encoding: 'utf8', maxBuffer: 64 << 20 });
      const wallS = (performance.now() - t0) / 1000;
      const after = { db: await dbCounters(), rx: await receivedBytes() };
      const [, us, ss] = fs.readFileSync(tf, 'utf8').trim().split('\n').pop().split(' ').map(Number);
      const s = JSON.parse(up.stdout.trim().split('\n').pop() || '{}');
      const u = { label: `claims-upload-r${rep}`, workers: 0, ok: up.status === 0 && s.uploaded === CLAIM_FILES, files: s.uploaded ?? 0, bytes: after.rx.bytes - before.rx.bytes,
        wall_s: +wallS.toFixed(2), cpu_s: +(us + ss).toFixed(2), db: delta(before.db, after.db), claims: { claims: 0, rows: 0, totalMs: 0, p50Ms: NaN, p95Ms: NaN, maxMs: NaN }, rep };
      u.MB_per_s = +(u.bytes / 1e6 / wallS).toFixed(2);
      if (!u.ok) log(`upload NOT OK (exit ${up.status}): ${up.stderr.trim().split('\n').slice(-2).join(' | ')}`);
      log(`claims: fanout work (1 worker, loopback), rep ${rep}`);
      const w = await runWorkers({ label: `claims-work-r${rep}`, n: 1, dir, targets, inNetns: false });
      w.rep = rep;
      for (const r of [u, w]) record({ part: 'claims', ...r });
      rows.push([u, w]);
    }
    log(`claims: rows locked per claim (FANOUT_CLAIM_LOCKS=1, ${LOCK_FILES} files, 2 workers)`);
    const lockDir = dataset(LOCK_FILES, CLAIM_KB);
    const lk = await runWorkers({ label: 'claims-locks', n: 2, dir: lockDir, targets, inNetns: false, extraEnv: { FANOUT_CLAIM_LOCKS: '1' } });
    record({ part: 'locks', ...lk });
    md.push('', `## Claim overhead: ${CLAIM_FILES} x ${CLAIM_KB} KiB, loopback, one worker vs \`fanout upload\``, '',
      'Overhead = (worker CPU − upload CPU) / worker CPU, user+sys of the one process (GNU time). Target: < 5 %.', '',
      '| rep | run | ok | wall s | MB/s | CPU s | CPU ms/file | statements/file | commits/file | rows read/file | claims | rows/claim | claim ms mean / p50 / p95 / max | claim overhead |',
      '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
    for (const [u, w] of rows) {
      for (const r of [u, w]) {
        const c = r.claims;
        const over = r === w ? `**${f1((100 * (w.cpu_s - u.cpu_s)) / w.cpu_s, 1)} %** (wall in claims: ${f1((100 * c.totalMs) / 1000 / w.wall_s, 1)} %)` : '';
        md.push(`| ${r.rep} | ${r === u ? 'upload' : 'work'} | ${r.ok ? 'yes' : '**no**'} | ${f1(r.wall_s, 2)} | ${f1(r.MB_per_s, 1)} | ${f1(r.cpu_s, 2)} | ${f1((1000 * r.cpu_s) / Math.max(1, r.files), 3)} | ${f1(statements(r) / Math.max(1, r.files), 2)} | ${perFile(r, 'COMMIT_TRANSACTIONS')} | ${perFile(r, 'ROWS_READ')} | ${c.claims} | ${f1(c.rows / Math.max(1, c.claims), 2)} | ${f1(c.totalMs / Math.max(1, c.claims), 2)} / ${f1(c.p50Ms, 2)} / ${f1(c.p95Ms, 2)} / ${f1(c.maxMs, 1)} | ${over} |`);
      }
    }
    const lc = lk.claims;
    md.push('', `Rows locked (2 workers, ${LOCK_FILES} files, FANOUT_CLAIM_LOCKS=1: each claim reads its own transaction's row locks in SHOW ENGINE INNODB STATUS before it commits): ok=${lk.ok}, ${lc.claims} claims took ${lc.rows} rows and held ${lc.rowsLocked ?? '–'} row locks: ${f1((lc.rowsLocked ?? NaN) / Math.max(1, lc.claims), 2)} per claim, ${f1((lc.rowsLocked ?? NaN) / Math.max(1, lc.rows), 2)} per claimed file; lock waits server-wide during the run: ${lk.db.Innodb_row_lock_waits}.`);
    results.push(...rows.flat(), lk);
  }
} finally {
  await admin.end().catch(() => undefined);
}
md.push('', `raw lines: ${path.relative(ROOT, jsonl)}; logs and GNU time files: ${W}`);
fs.writeFileSync(path.join(OUT, `workers-${stamp}.md`), `${md.join('\n')}\n`);
console.log(md.join('\n'));
// exit (not just return): the receivers and forwarders we started are still running; the exit hook stops them
process.exit(results.every((r) => r.ok) ? 0 : 1);
