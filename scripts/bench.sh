#!/usr/bin/env bash
# npm run bench — fanout side by side with neutral uploaders on 127.0.0.1 (see scripts/bench/README.md).
#
# For each scenario, runs the vendored harness (scripts/bench/harness/run.sh) with the baseline peers
# plus fanout recording on SQLite and on MariaDB, appends the harness's JSON lines to
# bench-results/<UTC timestamp>.jsonl and writes/prints a markdown table (bench-results/latest.md).
#
# env: SCENARIOS="seed skew throughput large many"   (default; S1..S7 also accepted)
#                links (S6), hetero (S7): shaped links in network namespaces, root only, not in the default
#                  (S6: 5 hosts x 100 Mbit/s, 10 ms; S7: 4 hosts, 200/100/50/20 Mbit/s, 2/10/25/40 ms,
#                  slots 64/8/4/2, 550 files of 256 KiB-4 MiB); their default peers: curl-parallel
#                  pool-undici fanout-sqlite (--per-target auto) fanout-sqlite-fixed4 (--per-target 4)
#      REPEAT=1        interleaved repetitions per scenario (harness REPEAT)
#      PEERS="..."     override the peer list for every scenario; harness peers (seq-undici
#                      gather-undici pool-undici curl-parallel xargs-curl rclone) and fanout peers:
#                        fanout-sqlite fanout-mariadb   (--assign $FANOUT_ASSIGN; least-loaded on skew)
#                        fanout-sqlite-rr fanout-sqlite-ll   (SQLite, --assign round-robin / least-loaded)
#                        fanout-sqlite-info   (SQLite, --log-level info)
#                        fanout-sqlite-fixed4 (SQLite, --per-target 4; the others: --per-target auto)
#      FANOUT_ASSIGN=least-loaded   assign strategy of fanout-sqlite/-mariadb outside skew
#      FANOUT_MYSQL=mysql://root@127.0.0.1:3306/fanout_bench   scratch database (dropped and re-created!)
#      WARM=1          read the data before each run (untimed) so no peer starts with cold files
#      TIMEOUT=600 CONC=...   passed to the harness;  BENCH_OUT=<dir> (default: bench-results)
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=$ROOT/scripts/bench
H=$B/harness
W=/tmp/fanout-bench # the harness's data + log dir
OUT=${BENCH_OUT:-$ROOT/bench-results}
SCENARIOS=${SCENARIOS:-"seed skew throughput large many"}
FANOUT_ASSIGN=${FANOUT_ASSIGN:-least-loaded}
FANOUT_MYSQL=${FANOUT_MYSQL:-mysql://root@127.0.0.1:3306/fanout_bench}
export REPEAT=${REPEAT:-1}

die() { echo "bench: $*" >&2; exit 1; }
for t in node curl jq timeout; do command -v "$t" > /dev/null || die "missing tool: $t"; done
[ -x /usr/bin/time ] || die "missing GNU time (/usr/bin/time): apt-get install time"
[ -d "$ROOT/node_modules/undici" ] || die "run npm ci first (the harness's Node peers use the project's undici)"
if [ ! -f "$ROOT/dist/fanout.mjs" ]; then
  echo "# dist/fanout.mjs missing: npm run build" >&2
  (cd "$ROOT" && npm run build >&2) || die "build failed"
fi

# ---- scratch databases (reset before each scenario, outside the timed runs)
notes=()
mysql_ok=1
sqlite_db() { echo "$W/db/$1.sqlite"; }
reset_dbs() {
  mkdir -p "$W/db" && rm -f "$W"/db/*.sqlite*
  if [ "$mysql_ok" = 1 ] && ! err=$(node "$B/db.mjs" reset "$FANOUT_MYSQL" 2>&1); then
    mysql_ok=0
    notes+=("MariaDB not reachable ($err): fanout-mariadb skipped")
    echo "# ${notes[-1]}" >&2
  fi
}
migrate() { # fanout creates its tables on first use; do it here so no timed run pays the DDL
  node "$ROOT/dist/fanout.mjs" migrate --db "$1" > /dev/null || die "fanout migrate --db $1 failed"
}

fanout_cmd() { # $1 = peer name, $2 = scenario -> harness command (placeholders filled in by run.sh)
  local assign=$FANOUT_ASSIGN level=warn db per=
  [ "$2" = skew ] || [ "$2" = hetero ] && assign=least-loaded
  case $1 in
    fanout-sqlite)      db=sqlite:$(sqlite_db "$1") ;;
    fanout-mariadb)     db=$FANOUT_MYSQL ;;
    fanout-sqlite-rr)   db=sqlite:$(sqlite_db "$1") assign=round-robin ;;
    fanout-sqlite-ll)   db=sqlite:$(sqlite_db "$1") assign=least-loaded ;;
    fanout-sqlite-info) db=sqlite:$(sqlite_db "$1") level=info ;;
    fanout-sqlite-fixed4) db=sqlite:$(sqlite_db "$1") per=4 ;;
    *) return 1 ;;
  esac
  echo "$B/fanout-peer.sh {dir} {urls} {conc} --per-target ${per:-auto} --assign $assign --db $db --json --no-progress --log-level $level"
}

scenario_name() {
  case $1 in S1|seed) echo seed ;; S2|skew) echo skew ;; S3|throughput) echo throughput ;;
    S4|large) echo large ;; S5|many) echo many ;; S6|links) echo links ;; S7|hetero) echo hetero ;; *) return 1 ;; esac
}

for s in $SCENARIOS; do
  sc=$(scenario_name "$s") || die "unknown scenario: $s (seed skew throughput large many links hetero)"
  if [ "$sc" = links ] || [ "$sc" = hetero ]; then
    [ "$(id -u)" = 0 ] || die "$sc needs root (network namespaces and tc: scripts/bench/harness/netns.sh)"
    for t in ip tc cc; do command -v "$t" > /dev/null || die "$sc needs $t"; done
  fi
done

# another harness run on the same ports would corrupt both (receivers are per run, fixed ports)
for p in 9101 9102 9103 9104 9105; do
  ! curl -s -m 1 -o /dev/null "http://127.0.0.1:$p/stats" || die "port $p is in use (another bench running?)"
done

# ---- output files
mkdir -p "$OUT" || die "cannot create $OUT"
[ -f "$OUT/.gitignore" ] || printf '# bench output (npm run bench), not tracked\n*\n' > "$OUT/.gitignore"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
jsonl=$OUT/$stamp.jsonl
: > "$jsonl"

read -r load1 _ < /proc/loadavg
echo "# fanout bench $stamp: scenarios [$SCENARIOS] repeat $REPEAT, nproc $(nproc), load1 $load1, ulimit -n $(ulimit -n)" >&2

for s in $SCENARIOS; do
  sc=$(scenario_name "$s") || die "unknown scenario: $s (seed skew throughput large many)"
  case $sc in
    links|hetero) dflt="curl-parallel fanout-sqlite pool-undici fanout-sqlite-fixed4" ;;
    *) dflt="$([ "$sc" = seed ] && echo seq-undici) curl-parallel fanout-sqlite pool-undici fanout-mariadb gather-undici" ;;
  esac
  peers=${PEERS:-$dflt}
  reset_dbs
  base=() extra=()
  for p in $peers; do
    if cmd=$(fanout_cmd "$p" "$sc"); then
      if [ "$p" = fanout-mariadb ]; then
        [ "$mysql_ok" = 1 ] || continue
        migrate "$FANOUT_MYSQL"
      else
        migrate "sqlite:$(sqlite_db "$p")"
      fi
      extra+=(--extra "$p" "$cmd")
    fi
    base+=("$p")
  done
  [ ${#base[@]} -gt 0 ] || continue
  echo "# === $sc: ${base[*]}" >&2
  # The harness prints one JSON line per peer run; for fanout peers attach fanout's own --json
  # summary (from the peer's log, read right after the run) and the options used.
  PEERS="${base[*]}" "$H/run.sh" "$sc" "${extra[@]}" | while IFS= read -r line; do
    peer=$(jq -r .peer <<< "$line")
    if [[ $peer == fanout* ]]; then
      summary=$(jq -cR 'fromjson? | objects | select(.status != null and .event == null)' "$W/peer-$peer.log" 2> /dev/null | tail -n 1)
      args=$(fanout_cmd "$peer" "$sc" | sed 's/.*{conc} //')
      line=$(jq -c --arg args "$args" --argjson s "${summary:-null}" \
        '. + {fanout: (($s // {}) | {batchId, status, total, uploaded, failed, durationMs, per_target: ((.targets // {}) | map_values(.uploaded)),
          per_target_load: ((.targets // {}) | map_values({limit, bytesPerSec, medianLatencyMs}))} + {args: $args})}' <<< "$line")
      jq -e .ok > /dev/null <<< "$line" || {
        echo "# $sc/$peer not ok; last lines of $W/peer-$peer.log:" >&2
        tail -n 20 "$W/peer-$peer.log" | cut -c1-300 | sed 's/^/#   /' >&2
      }
    fi
    echo "$line" >> "$jsonl"
    jq -r '"# \(.scenario)/\(.peer) rep \(.rep): ok=\(.ok) wall \(.wall_s) s, \(.files_per_s) files/s, \(.MB_per_s) MB/s, peak RSS \(.peak_rss_kb * 1.024 / 1000 | round) MB\(if .error then ", " + .error else "" end)"' <<< "$line" >&2
  done
done

{
  echo "# fanout bench $stamp"
  echo
  echo "- scenarios: $SCENARIOS; repeat: $REPEAT; nproc $(nproc); load1 at start $load1; ulimit -n $(ulimit -n); node $(node --version); data read before each run (page cache warm): ${WARM:-1}"
  echo "- fanout peers: \`fanout upload --concurrency C --per-target auto --log-level warn\` (fanout-sqlite-fixed4: --per-target 4); fanout-sqlite/-mariadb: --assign $FANOUT_ASSIGN (least-loaded on skew and hetero), variants as named; SQLite in $W/db, MariaDB $FANOUT_MYSQL"
  echo "- raw lines: $(basename "$jsonl"); harness: scripts/bench/harness (peak RSS: largest single process, GNU time; MB = 10^6 B)"
  for n in "${notes[@]}"; do echo "- note: $n"; done
  echo
  node "$B/table.mjs" "$jsonl"
} > "$OUT/latest.md.tmp" && mv "$OUT/latest.md.tmp" "$OUT/latest.md"
cp "$OUT/latest.md" "$OUT/$stamp.md"
echo >&2
cat "$OUT/latest.md"
echo "# wrote $jsonl and $OUT/latest.md" >&2
