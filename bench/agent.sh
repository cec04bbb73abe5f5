#!/usr/bin/env bash
# The whole agent against node_exporter, over HTTP, in the same run: CPU per scrape and
# resident memory after N scrapes.
#
#   cargo build --release -p promlet && bash bench/agent.sh [N]
#
# Both run with their defaults: `promlet agent` (node_exporter's families plus cAdvisor's for
# every cgroup of this host) and `prometheus-node-exporter` (every default collector). Each is
# scraped N times with curl after a warm-up; CPU is utime+stime from /proc/PID/stat before and
# after; memory is VmRSS and VmHWM afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."

N=${1:-500}
PROMLET=${PROMLET:-target/release/promlet}
EXPORTER=${EXPORTER:-prometheus-node-exporter}
HZ=$(getconf CLK_TCK)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
mem() { awk '/^VmRSS|^VmHWM/ {printf "%s %.1f MiB  ", $1, $2/1024}' "/proc/$1/status"; }

measure() { # name pid url
  local name=$1 pid=$2 url=$3
  for _ in $(seq 100); do curl -sf "$url" >/dev/null && break; sleep 0.05; done
  for _ in $(seq 20); do curl -sf "$url" >/dev/null; done
  local t0 t1 series
  t0=$(ticks "$pid")
  for _ in $(seq "$N"); do curl -sf "$url" >/dev/null; done
  t1=$(ticks "$pid")
  series=$(curl -sf "$url" | grep -cv '^#')
  printf '%-14s %.3f ms CPU per scrape, %s series, %s\n' "$name" \
      "$(echo "($t1 - $t0) * 1000 / $HZ / $N" | bc -l)" "$series" "$(mem "$pid")"
}

p1=$(free_port); p2=$(free_port)
PROMLET_LOG=warn "$PROMLET" agent --listen 127.0.0.1:"$p1" >/dev/null 2>&1 & a=$!
"$EXPORTER" --web.listen-address=127.0.0.1:"$p2" >/dev/null 2>&1 & e=$!
trap 'kill $a $e 2>/dev/null || true' EXIT
measure "promlet agent" "$a" "http://127.0.0.1:$p1/metrics"
measure "node_exporter" "$e" "http://127.0.0.1:$p2/metrics"
