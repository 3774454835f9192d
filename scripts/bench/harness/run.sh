#!/usr/bin/env bash
# usage: run.sh SCENARIO ['EXTRA PEER COMMAND with {dir} {urls} {conc}']
#   SCENARIO: S1|seed  S2|skew  S3|throughput  S4|large  S5|many  S6|links (root: shaped links, netns.sh)
#             S7|hetero (fanout-vendored addition; root: 4 hosts whose links, delays and slots differ, mixed sizes)
#   env: PEERS="seq-undici gather-undici ..." (default: all; S6, S7: all but rclone)  REPEAT=1 (interleaved)
#        TIMEOUT=600 (s per peer run)  CONC=<override>  EXTRA_NAME=extra
#        FILES=<n> (fanout-vendored addition: fewer files for a smoke run; mixed sizes keep their proportions)
#        WARM=1 (fanout-vendored addition: read the data once before each run, untimed, so every
#        peer starts with it in the page cache; WARM=0 leaves the cache as the last run left it)
#   fanout-vendored addition: run.sh SCENARIO --extra NAME 'CMD' [--extra NAME2 'CMD2' ...]
#        defines several extra peers in one invocation; each is appended to PEERS unless PEERS
#        already names it (then PEERS decides the order). The single-CMD form above still works.
# Prints one JSON line per peer run on stdout; progress goes to stderr.
set -uo pipefail
B=$(cd "$(dirname "$0")" && pwd)
W=/tmp/fanout-bench                      # cached data, logs
R=${RECV_DIR:-/dev/shm/fanout-bench-recv} # receiver --dir (tmpfs)
ports=(9101 9102 9103 9104 9105)
delay=0 perport= slots=64 mode=sink ideal=null rr=null links= lrate= ldelay= hslots=
case ${1:-} in
  S1|seed)       sc=seed       n=2000   size=16384     conc=10 slots=1 delay=20 mode=dir ideal=8 rr=8 ;;
  # dynamic ideal = 2000 / (4/0.020 + 1/0.080); round-robin is forced to 400 x 80 ms = 32 s
  S2|skew)       sc=skew       n=2000   size=16384     conc=10 slots=1 perport=20,20,20,20,80 mode=dir ideal=9.412 rr=32 ;;
  S3|throughput) sc=throughput n=10000  size=65536     conc=32 ;;
  S4|large)      sc=large      n=10     size=268435456 conc=5 ;;
  S5|many)       sc=many       n=100000 size=1024      conc=32 ;;
  # 5 hosts, each behind its own 100 Mbit/s link with 10 ms one-way delay; ideal = 500 MiB / (5 x 12.5e6 B/s)
  S6|links)      sc=links      n=500    size=1048576   conc=10 links=5 lrate=${LINK_RATE:-100mbit} ldelay=${LINK_DELAY:-10ms} ideal=8.389 ;;
  # fanout-vendored addition: 4 hosts, each its own link, delay and slots (a fat near host, a GPU host
  # taking 2 at a time behind a thin far link...), 550 files of 256 KiB, 1 MiB and 4 MiB (475 MiB).
  # ideal = 498,073,600 B / ((200 + 100 + 50 + 20) Mbit/s = 46.25e6 B/s): every link full to the end
  S7|hetero)     sc=hetero     n=550    size=mixed     conc=16 links=4 lrate=200mbit,100mbit,50mbit,20mbit ldelay=2ms,10ms,25ms,40ms hslots=64,8,4,2 ideal=10.769 ;;
  *) sed -n '2,13p' "$0" >&2; exit 2 ;;
esac
conc=${CONC:-$conc} TIMEOUT=${TIMEOUT:-600}
n=${FILES:-$n}
[ -n "$links" ] && ports=("${ports[@]:0:$links}") # fanout-vendored addition: one port per link (S7 has 4)
declare -A CMD=(
  [seq-undici]="node $B/peers/seq-undici.mjs {dir} {urls} {conc}"
  [gather-undici]="node $B/peers/gather-undici.mjs {dir} {urls} {conc}"
  [pool-undici]="node $B/peers/pool-undici.mjs {dir} {urls} {conc}"
  [curl-parallel]="$B/peers/curl-parallel.sh {dir} {urls} {conc}"
  [xargs-curl]="$B/peers/xargs-curl.sh {dir} {urls} {conc}"
  [rclone]="$B/peers/rclone.sh {dir} {urls} {conc}"
)
all="seq-undici gather-undici pool-undici curl-parallel xargs-curl"; [ -n "$links" ] || all+=" rclone"
PEERS=${PEERS:-$all}
if [ "${2:-}" = --extra ]; then # fanout-vendored addition: several extra peers
  shift
  while [ $# -gt 0 ]; do
    [ "$1" = --extra ] && [ $# -ge 3 ] || { echo "usage: run.sh SCENARIO --extra NAME CMD [--extra NAME CMD ...]" >&2; exit 2; }
    CMD[$2]=$3; [[ " $PEERS " == *" $2 "* ]] || PEERS="$PEERS $2"; shift 3
  done
elif [ -n "${2:-}" ]; then CMD[${EXTRA_NAME:-extra}]=$2; PEERS="$PEERS ${EXTRA_NAME:-extra}"; fi
for p in $PEERS; do [ -n "${CMD[$p]:-}" ] || { echo "unknown peer: $p (known: ${!CMD[*]})" >&2; exit 2; }; done
[ -n "$links" ] && [[ " $PEERS " == *" rclone "* ]] && { echo "rclone is not supported in $sc (its nginx fronts live on 127.0.0.1)" >&2; exit 2; }

mkdir -p "$W/data"
data=$W/data/${n}x$size
if [ ! -f "$data.done" ]; then
  echo "# generating $n x $size B in $data" >&2
  rm -rf "$data"
  if [ "$size" = mixed ]; then
    # 300 x 256 KiB, 200 x 1 MiB, 50 x 4 MiB per 550 files (fanout-vendored addition: FILES scales them)
    m3=$((n * 50 / 550)) m2=$((n * 200 / 550)); m1=$((n - m2 - m3))
    "$B/gen.sh" "$data/a" "$m1" 262144 && "$B/gen.sh" "$data/b" "$m2" 1048576 && "$B/gen.sh" "$data/c" "$m3" 4194304 || exit 1
  else
    "$B/gen.sh" "$data" "$n" "$size" || exit 1
  fi
  touch "$data.done"
fi
tbytes=$(find "$data" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}')
if [ -n "$links" ]; then # fanout-vendored addition: the ideal from the links: every byte over all links at full rate
  ideal=$(echo "$lrate" | tr , '\n' | awk -v b="$tbytes" -v k="$links" '
    { v = $0 + 0; u = tolower($0); sub(/^[0-9.]+/, "", u)
      m = (u == "gbit") ? 1e9 : (u == "mbit") ? 1e6 : (u == "kbit") ? 1e3 : 1; r[NR] = v * m / 8 }
    END { for (i = 1; i <= k; i++) s += r[(NR == 1) ? 1 : i]; printf "%.3f", b / s }')
fi

RPID= NPID= recv_urls=
stop() { for p in $NPID $RPID; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; RPID= NPID=; [ -z "$links" ] || "$B/netns.sh" stop; }
trap 'stop; [ -z "$links" ] || "$B/netns.sh" down' EXIT

start_receiver() { # $1 = sink|dir; sets recv_urls (comma-separated base URLs of the receivers)
  local a=(--slots "$slots" --delay-ms "$delay")
  [ -n "$perport" ] && a+=(--delay-ms-per-port "$perport")
  if [ "$1" = dir ]; then rm -rf "$R"; a+=(--dir "$R"); else a+=(--sink); fi
  if [ -n "$links" ]; then # one receiver per namespace on port ${ports[0]}, reached over its link (sink only)
    # fanout-vendored addition: SLOTS_PER_HOST gives each host its own --slots (S7)
    recv_urls=$(SLOTS_PER_HOST=$hslots "$B/netns.sh" receivers "${ports[0]}" "${a[@]}" 2> "$W/receiver.log" | paste -sd,) && return
    cat "$W/receiver.log" >&2; exit 1
  fi
  recv_urls=$(printf 'http://127.0.0.1:%s,' "${ports[@]}"); recv_urls=${recv_urls%,}
  node "$B/receiver.mjs" --ports "$(IFS=,; echo "${ports[*]}")" "${a[@]}" > "$W/receiver.log" 2>&1 & RPID=$!
  for _ in $(seq 100); do grep -q READY "$W/receiver.log" && return; sleep 0.05; done
  cat "$W/receiver.log" >&2; exit 1
}

start_nginx() { # WebDAV front on port+100 per receiver: PROPFIND/MKCOL served from $R/<port>, PUT proxied
  mkdir -p "$W/nginx/tmp"
  { echo "load_module /usr/lib/nginx/modules/ngx_http_dav_ext_module.so; user root; worker_processes 1;"
    echo "daemon off; pid $W/nginx/pid; error_log $W/nginx/error.log; events { worker_connections 8192; }"
    echo "http { access_log off; client_max_body_size 0; client_body_temp_path $W/nginx/tmp;"
    echo "  proxy_http_version 1.1; proxy_set_header Connection \"\"; proxy_request_buffering off; proxy_buffering off;"
    for p in "${ports[@]}"; do
      mkdir -p "$R/$p"
      echo "  upstream r$p { server 127.0.0.1:$p; keepalive 64; }"
      echo "  server { listen 127.0.0.1:$((p + 100)); location /files/ { alias $R/$p/;"
      echo "    dav_methods MKCOL; dav_ext_methods PROPFIND OPTIONS; if (\$request_method = PUT) { proxy_pass http://r$p; } } }"
    done
    echo "}"; } > "$W/nginx/nginx.conf"
  nginx -c "$W/nginx/nginx.conf" -e "$W/nginx/error.log" & NPID=$!
  for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$((ports[0] + 100))/" && return; sleep 0.05; done
  cat "$W/nginx/error.log" >&2; exit 1
}

content_ok() { # dir mode: every received file byte-identical to its source
  [ -f "$data.sha256" ] || (cd "$data" && find . -type f -print0 | xargs -0 sha256sum | LC_ALL=C sort -k2) > "$data.sha256"
  cmp -s "$data.sha256" <(for p in "${ports[@]}"; do [ -d "$R/$p" ] && (cd "$R/$p" && find . -type f -print0 | xargs -0 -r sha256sum); done | LC_ALL=C sort -k2)
}

run_peer() { # $1 = peer name, $2 = repetition
  local name=$1 rmode=$mode urls cmd rc wall rss stats cok=null err load1
  [ "$name" = rclone ] && rmode=dir # rclone PROPFINDs each file after PUT, so files must exist on disk
  start_receiver "$rmode"; urls=$recv_urls
  [ "$name" = rclone ] && { start_nginx; urls=$(for p in "${ports[@]}"; do printf 'http://127.0.0.1:%s,' $((p + 100)); done); urls=${urls%,}; }
  cmd=${CMD[$name]//\{dir\}/$data}; cmd=${cmd//\{urls\}/$urls}; cmd=${cmd//\{conc\}/$conc}
  # fanout-vendored addition: on this kind of machine the kernel pages out file data not read for
  # about a minute (DAMON), so the first peer of a scenario read cold files and the next ones warm
  [ "${WARM:-1}" = 1 ] && find "$data" -type f -print0 | xargs -0 -r cat > /dev/null
  read -r load1 _ < /proc/loadavg
  echo "# $sc/$name: $cmd" >&2
  /usr/bin/time -f '%e %M' -o "$W/time" timeout -k 5 "$TIMEOUT" bash -c "$cmd" > "$W/peer-$name.log" 2>&1
  rc=$?
  read -r wall rss < <(tail -n 1 "$W/time")
  stats=$(for u in ${recv_urls//,/ }; do curl -s "$u/stats"; done | jq -sc \
    '{files: (map(.files) | add), bytes: (map(.bytes) | add), dups: (map(.duplicates) | add),
      mism: (map(.checksumMismatches) | add), infl: (map(.inFlightMax) | max), busy: (map(.busyMs) | max), rrss: (map(.maxRssKb) | max)}')
  [ "$rmode" = dir ] && { content_ok && cok=true || cok=false; }
  err=$({ [ "$rc" = 124 ] && echo "timeout after ${TIMEOUT}s"
          grep -m1 -E 'Error|curl: \([0-9]+\)|ERROR|FATAL|Killed|out of memory' "$W/peer-$name.log"; } | head -n 1 | cut -c1-200)
  stop; rm -rf "$R"   # free the tmpfs
  jq -nc --arg sc "$sc" --arg peer "$name" --argjson rep "$2" --argjson n "$n" --arg size "$size" --argjson tbytes "$tbytes" \
    --argjson conc "$conc" --argjson wall "$wall" --argjson rss "$rss" --argjson rc "$rc" --argjson st "$stats" \
    --argjson cok "$cok" --argjson ideal "$ideal" --argjson rr "$rr" --arg err "$err" --arg rmode "$rmode" --argjson load1 "$load1" \
    --arg link "${links:+$lrate/$ldelay each way${hslots:+, slots $hslots}}" '
    def r2: . * 100 | round / 100;
    {scenario: $sc, peer: $peer, files: $st.files, bytes: $st.bytes, wall_s: $wall,
     files_per_s: ($st.files / $wall | r2), MB_per_s: ($st.bytes / 1e6 / $wall | r2), peak_rss_kb: $rss,
     ok: ($rc == 0 and $st.files == $n and $st.bytes == $tbytes and $st.dups == 0 and $st.mism == 0 and $cok != false)} | . + {
     ideal_s: $ideal, efficiency: (if $ideal and .ok then ($ideal / $wall * 1000 | round / 1000) else null end),
     rr_ideal_s: $rr, conc: $conc, rep: $rep, rc: $rc, duplicates: $st.dups, host_inflight_max: $st.infl, host_busy_max_s: ($st.busy / 1000 | r2),
     receiver: $rmode, receiver_rss_kb: $st.rrss, content_ok: $cok, load1_before: $load1} + (if $err != "" then {error: $err} else {} end)
     + (if $link != "" then {link: $link} else {} end)'
}

link_check() { # one 10 MiB curl upload to host 1: connect ~ 2 x delay, rate a bit under the link rate
  local f=$W/link-check.bin code tcon ttot
  [ -f "$f" ] || head -c 10485760 /dev/urandom > "$f"
  start_receiver sink
  read -r code tcon ttot < <(curl -s -o /dev/null -H 'Expect:' -w '%{http_code} %{time_connect} %{time_total}\n' \
    -T "$f" "${recv_urls%%,*}/files/link-check.bin")
  stop
  [ "$code" = 201 ] || { echo "# link check failed: HTTP ${code:-none}" >&2; exit 1; }
  echo "# link check ($lrate, $ldelay each way): 10 MiB to host 1 in ${ttot}s ($(jq -n "10485760 / 1e6 / $ttot * 100 | round / 100") MB/s), TCP connect ${tcon}s" >&2
}
if [ -n "$links" ]; then
  trap 'exit 130' INT TERM
  "$B/netns.sh" up "${#ports[@]}" "$lrate" "$ldelay" > /dev/null || exit 1
  link_check
fi

for ((rep = 1; rep <= ${REPEAT:-1}; rep++)); do
  for peer in $PEERS; do run_peer "$peer" "$rep"; sleep 1; done
done
