#!/usr/bin/env bash
# The remote-write sender through a receiver outage: promlet receives a live stream of
# SERIES series at one sample per second each (50k samples/s by default) for MINUTES minutes
# while its remote_write target (a Prometheus) is down; then the Prometheus starts, and the
# script measures promlet's memory during the outage, how long the backlog takes to drain,
# and whether every sample arrived.
#
#   cargo build --release -p promlet && cargo build --release -p collector --example rw_load
#   bash bench/remote_write_outage.sh [SERIES] [MINUTES]
#
# promlet's queue is its storage (a watermark and windows of at most 10 s read back), so its
# memory should not grow with the outage; Prometheus's remote write reads its WAL too, while
# the issue quotes ~700 B per queued sample for an in-memory queue. During the drain the
# script samples promlet's RSS and thread count every 0.5 s, and notes when promlet's own
# counter says everything was sent (Prometheus's count, queried every second, lags it).
set -euo pipefail
cd "$(dirname "$0")/.."
SERIES=${1:-50000}
MINUTES=${2:-10}
PROMLET=${PROMLET:-target/release/promlet}
LOAD=${LOAD:-target/release/examples/rw_load}
work=$(mktemp -d /tmp/rw_outage.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
kib() { awk -v k="$2" '$1==k":" {print $2}' "/proc/$1/status"; }

pport=$(free_port); lport=$(free_port)
cat > "$work/promlet.yml" <<YML
remote_write:
  - url: http://127.0.0.1:$pport/api/v1/write
    name: outage
YML
PROMLET_LOG=warn "$PROMLET" serve --collect-host=false --listen "127.0.0.1:$lport" \
  --data "$work/promlet" --config.file "$work/promlet.yml" >/dev/null 2>&1 &
ppid=$!
for _ in $(seq 100); do curl -sf "127.0.0.1:$lport/-/ready" >/dev/null && break; sleep 0.1; done
echo "promlet RSS at start: $(( $(kib $ppid VmRSS) / 1024 )) MiB"

points=$((MINUTES * 60))
start_ms=$(( $(date +%s%3N) + 20000 ))
end_s=$(( start_ms / 1000 + points ))
"$LOAD" --url "http://127.0.0.1:$lport/api/v1/write" --series "$SERIES" --points "$points" \
  --step-ms 1000 --start-ms "$start_ms" --realtime=true --writers 4 --batch 5000 \
  --duration $((points + 120)) > "$work/load.json" &
lpid=$!
peak=0
while kill -0 $lpid 2>/dev/null; do
  r=$(kib $ppid VmRSS); (( r > peak )) && peak=$r
  sleep 5
done
echo "load: $(cat "$work/load.json" | head -c 300)"
echo "promlet RSS during the ${MINUTES}-minute outage: peak $((peak / 1024)) MiB"

# promlet's RSS (KiB) and threads during the drain, every 0.5 s.
( while kill -0 $ppid 2>/dev/null; do echo "$(kib $ppid VmRSS) $(kib $ppid Threads)"; sleep 0.5; done ) \
  > "$work/drain_rss.txt" 2>/dev/null &
spid=$!
sent_metric() {
  curl -sf "127.0.0.1:$lport/metrics" | awk '/^promlet_remote_write_samples_sent_total/ {print int($2)}'
}
t0=$(date +%s.%N)
t_sent=""
prometheus --config.file=/dev/null --storage.tsdb.path="$work/prom" \
  --web.listen-address="127.0.0.1:$pport" --web.enable-remote-write-receiver \
  --log.level=warn >/dev/null 2>&1 &
want=$((SERIES * points))
got=0
for _ in $(seq 1800); do
  if [[ -z "$t_sent" && "$(sent_metric)" -ge "$want" ]]; then t_sent=$(date +%s.%N); fi
  got=$(curl -sf "127.0.0.1:$pport/api/v1/query" --data-urlencode "query=sum(count_over_time(load_metric[2h]))" \
    | python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(int(float(r[0]["value"][1])) if r else 0)' 2>/dev/null || echo 0)
  [[ "$got" -ge "$want" ]] && break
  sleep 1
done
t1=$(date +%s.%N)
kill $spid 2>/dev/null || true
secs() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.1f", b - a}'; }
echo "backlog drained in $(secs "$t0" "$t1") s: Prometheus holds $got of $want samples" \
  "(promlet had sent them all after $(secs "$t0" "${t_sent:-$t1}") s)"
echo "promlet during the drain: peak RSS $(( $(sort -n "$work/drain_rss.txt" | tail -1 | cut -d' ' -f1) / 1024 )) MiB," \
  "at most $(cut -d' ' -f2 "$work/drain_rss.txt" | sort -n | tail -1) threads"
echo "promlet peak RSS over the whole run (VmHWM): $(( $(kib $ppid VmHWM) / 1024 )) MiB"
curl -sf "127.0.0.1:$lport/metrics" | grep '^promlet_remote_write' || true
