#!/usr/bin/env bash
# usage: netns.sh up N RATE DELAY                 N shaped links: namespaces fo-h1..fo-hN; prints host addresses
#        netns.sh receivers PORT [receiver args]  one receiver.mjs per namespace on 0.0.0.0:PORT; prints base URLs
#          (fanout-vendored addition: env SLOTS_PER_HOST=64,8,... gives host K the K-th --slots)
#        netns.sh stop                            stop those receivers (links stay up)
#        netns.sh status                          links, wire CPU time, tc counters
#        netns.sh down                            remove everything `up` created (idempotent)
#   RATE: tc rate (100mbit), DELAY: one-way delay (10ms, 500us); each direction gets both.
#   Either may be a comma list, one value per host (100mbit,20mbit,...; 10ms,40ms,...).
#   env: MTU=1500  OFFLOAD=1 (GSO packets of up to GSO=16384 B cross the link whole; 0 = MTU-sized)
#        BURST=<tbf bytes; default max(1 ms at RATE, GSO + 1 KiB) or 2 x MTU without offload>
#        LIMIT=<tbf queue bytes, default 1000 x MTU like netem's 1000 packets>  NETNS_STATE=/tmp/fanout-bench/netns
#        TICK=<us; fo-wire works in rounds of TICK (delay exact on average, +-TICK per packet) to save CPU;
#        default min(1000, DELAY/10); 0 = exact, one wake-up per packet>
# Host K is 198.18.K.2, its link's root end 198.18.K.1 (198.18.0.0/15, RFC 2544 benchmark space).
# This kernel has no sch_netem, so a link is a TUN pair (root: fo-hK, namespace: eth0) joined by
# fo-wire (fo-wire.c), a userspace cable that delays each packet DELAY; RATE is `tc tbf` on both
# devices' egress. While up, an `unreachable 198.18.0.0/15` route keeps stray traffic off eth0.
# Needs root, iproute2 (ip, tc), cc; node for `receivers`.
set -euo pipefail
B=$(cd "$(dirname "$0")" && pwd)
S=${NETNS_STATE:-/tmp/fanout-bench/netns}
NET=198.18 GUARD=198.18.0.0/15 PROTO=203 # routes we add carry proto 203
MTU=${MTU:-1500} OFFLOAD=${OFFLOAD:-1} GSO=${GSO:-16384}

die() { echo "netns.sh: $*" >&2; exit 1; }
usage() { sed -n '2,18p' "$0" >&2; exit 2; }
our_ns() { ip netns list 2>/dev/null | awk '{print $1}' | grep -E '^fo-h[0-9]+$' || true; }
our_links() { ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | sed 's/@.*//' | grep -E '^fo-h[0-9]+$' || true; }

to_us() { # 10ms | 0.5ms | 800us | 1s | bare number = us (as tc)
  awk -v d="$1" 'BEGIN { if (!match(d, /^[0-9]+(\.[0-9]+)?/)) exit 1
    v = substr(d, 1, RLENGTH); u = substr(d, RLENGTH + 1)
    m = (u == "" || u == "us" || u == "usec") ? 1 : (u == "ms" || u == "msec") ? 1000 : (u == "s" || u == "sec") ? 1e6 : -1
    if (m < 0) exit 1; printf "%d\n", v * m + 0.5 }'
}
to_bps() { # tc rate -> bytes/s (bit, kbit, mbit, gbit, bps, kbps, mbps, gbps; k = 1000 as tc)
  awk -v r="$1" 'BEGIN { if (!match(r, /^[0-9]+(\.[0-9]+)?/)) exit 1
    v = substr(r, 1, RLENGTH); u = tolower(substr(r, RLENGTH + 1))
    f["bit"] = 1/8; f["kbit"] = 1e3/8; f["mbit"] = 1e6/8; f["gbit"] = 1e9/8
    f["bps"] = 1; f["kbps"] = 1e3; f["mbps"] = 1e6; f["gbps"] = 1e9
    if (!(u in f)) exit 1; printf "%d\n", v * f[u] }'
}

alive() { [ -d "/proc/$1" ] && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]; }
kill_wait() { # SIGTERM the given PIDs (ours), wait up to 3 s for them to go, then SIGKILL
  local pid left i
  for pid; do kill "$pid" 2>/dev/null || true; done
  for ((i = 0; i < 60; i++)); do
    left=; for pid; do alive "$pid" && left+=" $pid"; done
    [ -n "$left" ] || return 0; sleep 0.05
  done
  for pid in $left; do kill -9 "$pid" 2>/dev/null || true; done
}
# PIDs from our pid files matching $1 (glob) whose command line still contains $2; removes the files.
from_pidfiles() {
  local f pid
  for f in "$S"/$1; do
    [ -f "$f" ] || continue
    pid=$(cat "$f"); rm -f "$f"
    [[ $pid =~ ^[0-9]+$ ]] && tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$2" && echo "$pid"
  done
}

stop() { kill_wait $(from_pidfiles 'recv-*.pid' receiver.mjs); }

down() {
  local ns dev
  stop
  kill_wait $(from_pidfiles 'wire-*.pid' fo-wire)
  # anything still inside one of our namespaces was started by us (pid files lost, crashed run)
  kill_wait $(for ns in $(our_ns); do ip netns pids "$ns" 2>/dev/null; done)
  for ns in $(our_ns); do ip netns del "$ns" 2>/dev/null || echo "netns.sh: could not delete $ns" >&2; done
  for dev in $(our_links); do ip link del "$dev" 2>/dev/null || echo "netns.sh: could not delete $dev" >&2; done
  while ip route del unreachable "$GUARD" proto "$PROTO" 2>/dev/null; do :; done
  rm -f "$S/hosts"
}

shape() { # $1 = netns ('' = root), $2 = dev
  tc ${1:+-n "$1"} qdisc replace dev "$2" root tbf rate "$rate" burst "$burst" limit "$limit"
}

up() {
  [ $# -eq 3 ] || usage
  local n=$1 k ns dev ra ha dus bps wire=$S/fo-wire tick big rates delays
  [[ $n =~ ^[0-9]+$ ]] && (( n >= 1 && n <= 254 )) || die "N must be 1..254"
  IFS=, read -ra rates <<< "$2"; IFS=, read -ra delays <<< "$3"
  (( ${#rates[@]} == 1 || ${#rates[@]} == n )) || die "RATE: one value or $n"
  (( ${#delays[@]} == 1 || ${#delays[@]} == n )) || die "DELAY: one value or $n"
  for ((k = 0; k < n; k++)); do # validate every value before touching anything
    to_us "${delays[k % ${#delays[@]}]}" > /dev/null || die "bad DELAY '${delays[k % ${#delays[@]}]}' (e.g. 10ms, 500us)"
    to_bps "${rates[k % ${#rates[@]}]}" > /dev/null || die "bad RATE '${rates[k % ${#rates[@]}]}' (e.g. 100mbit)"
  done
  big=$(( OFFLOAD == 1 ? GSO + 1024 : 2 * MTU ))  # largest packet tbf must pass whole
  limit=${LIMIT:-$(( 1000 * MTU ))}
  command -v tc > /dev/null && command -v cc > /dev/null || die "needs iproute2 (ip, tc) and cc"
  [ "$(id -u)" = 0 ] || die "needs root"
  mkdir -p "$S"
  if [ ! -x "$wire" ] || [ "$B/fo-wire.c" -nt "$wire" ]; then
    cc -O2 -Wall -o "$wire.tmp" "$B/fo-wire.c" || die "cannot compile fo-wire.c"
    mv "$wire.tmp" "$wire"
  fi
  down
  [ -z "$(ip route show "$GUARD")" ] || die "a route for $GUARD already exists here; not touching it"
  trap 'rc=$?; if [ $rc -ne 0 ]; then echo "netns.sh: up failed, cleaning up" >&2; down; fi; exit $rc' EXIT
  trap 'exit 130' INT TERM
  ip route add unreachable "$GUARD" proto "$PROTO"
  for ((k = 1; k <= n; k++)); do
    ns=fo-h$k dev=fo-h$k ra=$NET.$k.1 ha=$NET.$k.2
    rate=${rates[(k - 1) % ${#rates[@]}]}; bps=$(to_bps "$rate"); dus=$(to_us "${delays[(k - 1) % ${#delays[@]}]}")
    tick=${TICK:-$(( dus / 10 < 1000 ? dus / 10 : 1000 ))}
    burst=${BURST:-$(( bps / 1000 > big ? bps / 1000 : big ))}
    echo "# link $k: rate $rate each way (tbf burst $burst B, limit $limit B), delay ${dus}us each way (tick ${tick}us)" >&2
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    ip tuntap add dev "$dev" mode tun vnet_hdr
    ip netns exec "$ns" ip tuntap add dev eth0 mode tun vnet_hdr
    sysctl -qw "net.ipv6.conf.$dev.disable_ipv6=1"
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.eth0.disable_ipv6=1
    ip link set "$dev" mtu "$MTU" gso_max_size "$GSO" up
    ip addr add "$ra" peer "$ha" dev "$dev"
    ip -n "$ns" link set eth0 mtu "$MTU" gso_max_size "$GSO" up
    ip -n "$ns" addr add "$ha" peer "$ra" dev eth0
    shape "" "$dev"
    shape "$ns" eth0
    "$wire" "$dev" "$ns" eth0 "$dus" --tick-us "$tick" $([ "$OFFLOAD" = 1 ] || echo --no-offload) > "$S/wire-$k.log" 2>&1 < /dev/null &
    echo $! > "$S/wire-$k.pid"
  done
  for ((k = 1; k <= n; k++)); do
    for _ in $(seq 100); do grep -q READY "$S/wire-$k.log" && break; sleep 0.05; done
    grep -q READY "$S/wire-$k.log" || { cat "$S/wire-$k.log" >&2; die "fo-wire $k did not start"; }
    ip route get "$NET.$k.2" | grep -q "dev fo-h$k " || die "route to $NET.$k.2 does not use fo-h$k"
  done
  echo "# $n links up: mtu $MTU, offload $OFFLOAD (gso $GSO)" >&2
  for ((k = 1; k <= n; k++)); do echo "$NET.$k.2"; done | tee "$S/hosts"
  trap - EXIT INT TERM
}

receivers() {
  [ $# -ge 1 ] && [[ $1 =~ ^[0-9]+$ ]] || usage
  local port=$1 k ha; shift
  [ -s "$S/hosts" ] || die "no links: run 'netns.sh up N RATE DELAY' first"
  stop
  local hs=() own
  IFS=, read -ra hs <<< "${SLOTS_PER_HOST:-}"
  k=0
  while read -r ha; do
    k=$((k + 1))
    ip route get "$ha" | grep -q "dev fo-h$k " || { stop; die "route to $ha does not use fo-h$k"; }
    own=(); [ -n "${hs[$((k - 1))]:-}" ] && own=(--slots "${hs[$((k - 1))]}") # the last --slots wins
    ip netns exec "fo-h$k" node "$B/receiver.mjs" --host 0.0.0.0 --ports "$port" "$@" "${own[@]}" > "$S/recv-$k.log" 2>&1 < /dev/null &
    echo $! > "$S/recv-$k.pid"
  done < "$S/hosts"
  for ((k = 1; k <= $(wc -l < "$S/hosts"); k++)); do
    for _ in $(seq 200); do grep -q READY "$S/recv-$k.log" && break; sleep 0.05; done
    grep -q READY "$S/recv-$k.log" || { cat "$S/recv-$k.log" >&2; stop; die "receiver in fo-h$k did not start"; }
  done
  while read -r ha; do echo "http://$ha:$port"; done < "$S/hosts"
}

status() {
  local k pid cpu
  [ -s "$S/hosts" ] || { echo "down"; return; }
  for ((k = 1; k <= $(wc -l < "$S/hosts"); k++)); do
    pid=$(cat "$S/wire-$k.pid" 2>/dev/null || echo -)
    cpu=$(awk -v t="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / t}' "/proc/$pid/stat" 2>/dev/null || echo dead)
    echo "fo-h$k $(sed -n "${k}p" "$S/hosts") wire pid $pid cpu_s $cpu"
    echo "  root->host: $(tc -s qdisc show dev "fo-h$k" | grep -m1 -o 'Sent.*')"
    echo "  host->root: $(tc -n "fo-h$k" -s qdisc show dev eth0 | grep -m1 -o 'Sent.*')"
  done
}

case ${1:-} in
  up) shift; up "$@" ;;
  down) down ;;
  receivers) shift; receivers "$@" ;;
  stop) stop ;;
  status) status ;;
  *) usage ;;
esac
