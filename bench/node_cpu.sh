#!/usr/bin/env bash
# CPU time per scrape: promlet's node collection (collect + render as Prometheus text) against
# node_exporter 1.5 with the same collectors and filters, on this host, in the same run.
#
#   cargo build --release -p collector --example node_collect && bash bench/node_cpu.sh [N]
#
# node_exporter: started on a free loopback port, scraped N times with curl after a warm-up;
# its CPU is utime+stime from /proc/PID/stat before and after (curl's own CPU is not counted).
# promlet: target/release/examples/node_collect collects and renders N times and reports its
# own utime+stime. Both figures include reading every file; node_exporter's also includes
# HTTP and its self-metrics (go_*, process_*), a small part of its scrape.
set -euo pipefail
cd "$(dirname "$0")/.."

N=${1:-500}
EXAMPLE=${EXAMPLE:-target/release/examples/node_collect}
EXPORTER=${EXPORTER:-prometheus-node-exporter}
MP_EXCLUDE='^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)'
HZ=$(getconf CLK_TCK)

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$EXPORTER" --web.listen-address=127.0.0.1:"$port" --collector.disable-defaults \
    --collector.cpu --collector.diskstats --collector.filesystem --collector.loadavg \
    --collector.meminfo --collector.netdev --collector.pressure --collector.stat --collector.time \
    --collector.netdev.device-exclude= \
    --collector.filesystem.mount-points-exclude="$MP_EXCLUDE" >/dev/null 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -sf "127.0.0.1:$port/metrics" >/dev/null && break; sleep 0.05; done

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
for _ in $(seq 20); do curl -sf "127.0.0.1:$port/metrics" >/dev/null; done   # warm-up
t0=$(ticks $pid)
start=$(date +%s.%N)
for _ in $(seq "$N"); do curl -sf "127.0.0.1:$port/metrics" >/dev/null; done
end=$(date +%s.%N)
t1=$(ticks $pid)
ne_ms=$(echo "($t1 - $t0) * 1000 / $HZ / $N" | bc -l)
ne_wall=$(echo "($end - $start) * 1000 / $N" | bc -l)
samples=$(curl -sf "127.0.0.1:$port/metrics" | grep -v '^#' | grep -cv '^go_\|^process_\|^promhttp_\|^node_scrape_\|^node_exporter_build')

promlet=$("$EXAMPLE" "$N" 2>&1 >/dev/null)
pl_ms=$(echo "$promlet" | sed -n 's/.*cpu_ms_per_collection=\([0-9.]*\).*/\1/p')

printf 'node_exporter %s: %.3f ms CPU per scrape (%.3f ms wall incl. curl), %s node samples\n' \
    "$("$EXPORTER" --version 2>&1 | head -1 | awk '{print $3}')" "$ne_ms" "$ne_wall" "$samples"
printf 'promlet: %s\n' "$promlet"
printf 'ratio promlet/node_exporter CPU: %.3f\n' "$(echo "$pl_ms / $ne_ms" | bc -l)"
