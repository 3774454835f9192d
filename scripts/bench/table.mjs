// usage: node table.mjs RESULTS.jsonl [...]  ->  markdown on stdout
// One row per peer run (the harness's JSON lines), then the issue's targets for the fanout
// peers, judged on the median of the repetitions. MB = 10^6 B (as the harness's MB_per_s).
import fs from 'node:fs';

const rows = process.argv.slice(2)
  .flatMap((f) => fs.readFileSync(f, 'utf8').split('\n'))
  .filter((l) => l.trim().startsWith('{'))
  .map((l) => JSON.parse(l));

const mb = (kb) => (kb * 1024) / 1e6;
const f = (v, d = 2) => (v === null || v === undefined || Number.isNaN(v) ? '–' : Number(v).toFixed(d));
const cell = (s) => String(s).replace(/\|/g, '\\|').replace(/\n/g, ' ');
const note = (r) => {
  const n = [];
  if (r.fanout) {
    const s = r.fanout;
    if (s.status) n.push(`${s.status} ${s.uploaded ?? '?'}/${s.total ?? '?'}${s.failed ? `, ${s.failed} failed` : ''}`);
    // batch = fanout's own durationMs; the rest of wall_s is process start-up, store open/migrate check, exit
    if (typeof s.durationMs === 'number') n.push(`batch ${(s.durationMs / 1000).toFixed(2)} s + ${(r.wall_s - s.durationMs / 1000).toFixed(2)} s outside`);
    if (['skew', 'hetero', 'links'].includes(r.scenario) && s.per_target && Object.keys(s.per_target).length) n.push(`per host ${Object.values(s.per_target).join('/')}`);
    // the adaptive limit each host ended at (from fanout's --json summary)
    const limits = Object.values(s.per_target_load ?? {}).map((t) => t?.limit);
    if (limits.some((l) => typeof l === 'number')) n.push(`final limits ${limits.map((l) => l ?? '?').join('/')}`);
    const p = /--per-target (\S+)/.exec(s.args ?? '');
    if (p) n.push(`per-target ${p[1]}`);
    const a = /--assign (\S+)/.exec(s.args ?? ''), l = /--log-level (\S+)/.exec(s.args ?? '');
    if (a) n.push(a[1] + (l && l[1] !== 'warn' ? `, log ${l[1]}` : ''));
  }
  if (r.error) n.push(`error: ${r.error}`);
  if (r.efficiency === null && r.ideal_s && !r.ok) n.push('not ok');
  return n.join('; ');
};

const out = [];
out.push('| scenario | peer | rep | ok | wall_s | files/s | MB/s | peak RSS MB | efficiency | load1_before | notes |');
out.push('|---|---|--:|---|--:|--:|--:|--:|--:|--:|---|');
for (const r of rows) {
  out.push(`| ${r.scenario} | ${r.peer} | ${r.rep} | ${r.ok ? 'yes' : '**NO**'} | ${f(r.wall_s)} | ${f(r.files_per_s, 1)} | ${f(r.MB_per_s)} | ` +
    `${f(mb(r.peak_rss_kb), 1)} | ${r.efficiency === null || r.efficiency === undefined ? '–' : f(r.efficiency, 3)} | ${f(r.load1_before)} | ${cell(note(r))} |`);
}

// ---- targets (issue text), on medians per scenario x peer
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : undefined;
};
const stat = (sc, peer) => {
  const rs = rows.filter((r) => r.scenario === sc && r.peer === peer);
  if (!rs.length) return undefined;
  return {
    n: rs.length, ok: rs.every((r) => r.ok), wall: median(rs.map((r) => r.wall_s)),
    fps: median(rs.map((r) => r.files_per_s)), mbps: median(rs.map((r) => r.MB_per_s)),
    rss: Math.max(...rs.map((r) => mb(r.peak_rss_kb))), emfile: rs.some((r) => /EMFILE/.test(r.error ?? '')),
  };
};
const checks = [];
const check = (sc, peer, what, pass) => checks.push(`| ${sc} | ${peer} | ${what} | ${pass === undefined ? 'n/a' : pass ? 'pass' : '**FAIL**'} |`);
for (const sc of [...new Set(rows.map((r) => r.scenario))]) {
  const fanoutPeers = [...new Set(rows.filter((r) => r.scenario === sc && r.peer.startsWith('fanout')).map((r) => r.peer))];
  const curl = stat(sc, 'curl-parallel'), pool = stat(sc, 'pool-undici');
  for (const p of fanoutPeers) {
    const s = stat(sc, p);
    check(sc, p, `ok in all ${s.n} run(s)`, s.ok);
    if (sc === 'seed') check(sc, p, `wall ${f(s.wall)} s ≤ curl-parallel ${curl ? f(curl.wall) : '?'} s`, curl && s.wall <= curl.wall);
    if (sc === 'skew') check(sc, p, `wall ${f(s.wall)} s ≤ 1.15 × 9.41 = 10.82 s`, s.wall <= 1.15 * 9.412);
    const ideal = rows.find((r) => r.scenario === sc)?.ideal_s;
    if (sc === 'links') {
      check(sc, p, `wall ${f(s.wall)} s ≤ curl-parallel ${curl ? f(curl.wall) : '?'} s`, curl && s.wall <= curl.wall);
      check(sc, p, `efficiency ${f(ideal / s.wall, 3)} ≥ 0.93 of the ideal ${f(ideal)} s`, ideal && ideal / s.wall >= 0.93);
    }
    if (sc === 'hetero') check(sc, p, `wall ${f(s.wall)} s ≤ 1.10 × the ideal ${f(ideal)} s`, ideal && s.wall <= 1.1 * ideal);
    if (sc === 'throughput') {
      check(sc, p, `files/s ${f(s.fps, 1)} ≥ curl-parallel ${curl ? f(curl.fps, 1) : '?'}`, curl && s.fps >= curl.fps);
      const lite = stat(sc, 'fanout-sqlite');
      if (p === 'fanout-mariadb') check(sc, p, `files/s ${f(s.fps, 1)} ≥ 0.9 × fanout-sqlite ${lite ? f(lite.fps, 1) : '?'}`, lite && s.fps >= 0.9 * lite.fps);
    }
    if (sc === 'large') {
      check(sc, p, `MB/s ${f(s.mbps)} ≥ pool-undici ${pool ? f(pool.mbps) : '?'}`, pool && s.mbps >= pool.mbps);
      check(sc, p, `peak RSS ${f(s.rss, 1)} MB ≤ 150 MB`, s.rss <= 150);
    }
    if (sc === 'many') {
      check(sc, p, `peak RSS ${f(s.rss, 1)} MB ≤ 150 MB`, s.rss <= 150);
      check(sc, p, 'no EMFILE', !s.emfile);
    }
  }
}
if (checks.length) {
  out.push('', 'Targets from the issue (medians over repetitions; peak RSS = max):', '');
  out.push('| scenario | peer | target | result |', '|---|---|---|---|', ...checks);
}
process.stdout.write(out.join('\n') + '\n');
