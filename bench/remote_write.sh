#!/usr/bin/env bash
# Remote write ingestion under load, promlet against Prometheus: the same pre-encoded stream
# of SERIES series × POINTS samples (remote write 1.0, at most 2000 samples per request, one
# sample per series per request, WRITERS keep-alive connections) sent to each server in turn,
# with one query thread running `sum(rate(load_metric[1m]))` and a 5-series selector every 500 ms
# at the ingestion front.
#
#   cargo build --release -p promlet && cargo build --release -p collector --example rw_load
#   bash bench/remote_write.sh [SERIES] [POINTS] [WRITERS]
#
# Each server runs alone (the other is not started yet or already stopped), on a free
# loopback port with its own temporary data directory: `promlet serve --collect-host=false`
# and `prometheus --web.enable-remote-write-receiver` with an empty configuration. The load
# generator (collector/examples/rw_load.rs) encodes every body before the clock starts and
# reads the server's utime+stime from /proc/PID/stat just before the first request and just
# after the last, and its VmHWM after the last. Then every sample is counted back with
# `sum(count_over_time(load_metric[1h]))` and `count(...)` against what was accepted.
set -euo pipefail
cd "$(dirname "$0")/.."

SERIES=${1:-10000}
POINTS=${2:-3000}
WRITERS=${3:-4}
PROMLET=${PROMLET:-target/release/promlet}
PROMETHEUS=${PROMETHEUS:-prometheus}
LOAD=${LOAD:-target/release/examples/rw_load}
STEP_MS=1000
work=$(mktemp -d /tmp/remote_write.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# One shared time base, so both servers receive byte-identical requests.
START_MS=$(( $(date +%s%3N) - (POINTS - 1) * STEP_MS ))
: > "$work/prometheus.yml"

run() { # name port pid
  local name=$1 port=$2 pid=$3 base="http://127.0.0.1:$2"
  for _ in $(seq 300); do curl -sf "$base/-/ready" >/dev/null && break; sleep 0.1; done
  cut -d' ' -f1 /proc/loadavg > "$work/$name.load"
  "$LOAD" --url "$base/api/v1/write" --series "$SERIES" --points "$POINTS" --writers "$WRITERS" \
    --step-ms "$STEP_MS" --start-ms "$START_MS" --duration 600 --pid "$pid" \
    --query-url "$base" --query-threads 1 --query-interval-ms 500 \
    --query 'sum(rate(load_metric[1m]))' --query 'load_metric{series=~"1|22|333|4444|5555"}' \
    > "$work/$name.json"
  # Count back at the newest timestamp: the stream spans less than an hour.
  local t stored series
  t=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["last_ms"] / 1000)' "$work/$name.json")
  stored=$(curl -sf "$base/api/v1/query" --data-urlencode 'query=sum(count_over_time(load_metric[1h]))' \
    --data-urlencode "time=$t" | python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else 0)')
  series=$(curl -sf "$base/api/v1/query" --data-urlencode 'query=count(last_over_time(load_metric[1h]))' \
    --data-urlencode "time=$t" | python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else 0)')
  kill "$pid"; wait "$pid" 2>/dev/null || true
  python3 - "$work/$name.json" "$stored" "$series" "$(du -sk "$work/$name" | cut -f1)" \
    "$(cat "$work/$name.load") $(cut -d' ' -f1 /proc/loadavg)" <<'PY'
import json, sys
p = sys.argv[1]
r = json.load(open(p))
r["stored"], r["stored_series"], r["disk_kib"] = int(float(sys.argv[2])), int(float(sys.argv[3])), int(sys.argv[4])
r["load"] = sys.argv[5]
json.dump(r, open(p, "w"))
PY
}

port=$(free_port)
PROMLET_LOG=warn "$PROMLET" serve --collect-host=false --listen 127.0.0.1:"$port" \
  --data "$work/promlet" >"$work/promlet.log" 2>&1 &
run promlet "$port" $!

port=$(free_port)
"$PROMETHEUS" --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/prometheus" \
  --web.listen-address=127.0.0.1:"$port" --web.enable-remote-write-receiver \
  >"$work/prometheus.log" 2>&1 &
run prometheus "$port" $!

python3 - "$work/promlet.json" "$work/prometheus.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
print(f'{a["samples_planned"]:,} samples: {a["series"]:,} series x {a["points"]} points, '
      f'{a["requests"]} requests of <= {a["batch"]} samples, {a["writers"]} writers, '
      f'{a["body_bytes"] / 2**20:.0f} MiB snappy')
rows = [
    ("samples accepted", "samples_accepted", "{:,}"),
    ("samples stored (counted back)", "stored", "{:,}"),
    ("series stored", "stored_series", "{:,}"),
    ("write errors (requests)", "request_errors", "{}"),
    ("wall time, s", "wall_s", "{:.1f}"),
    ("samples/s", "samples_per_s", "{:,.0f}"),
    ("server CPU, s", "server_cpu_s", "{:.1f}"),
    ("samples per server CPU-second", "samples_per_server_cpu_s", "{:,.0f}"),
    ("generator CPU, s", "client_cpu_s", "{:.1f}"),
    ("request p50, ms", "req_p50_ms", "{:.1f}"),
    ("request p99, ms", "req_p99_ms", "{:.1f}"),
    ("queries (errors, empty)", None, None),
    ("query p50, ms", "query_p50_ms", "{:.1f}"),
    ("query p99, ms", "query_p99_ms", "{:.1f}"),
    ("peak RSS (VmHWM), MiB", None, None),
    ("data dir after, MiB", None, None),
]
def cell(r, key, fmt, label):
    if label.startswith("queries"):
        return f'{r["queries"]} ({r["query_errors"]}, {r["query_empty"]})'
    if label.startswith("peak RSS"):
        return f'{r["server_hwm_kib"] / 1024:.0f}'
    if label.startswith("data dir"):
        return f'{r["disk_kib"] / 1024:.0f}'
    return fmt.format(r[key])
ratio_of = {"samples_per_s": 1, "samples_per_server_cpu_s": 1, "req_p99_ms": 1, "query_p99_ms": 1,
            "server_hwm_kib": 1}
print(f'| {"":32} | {"promlet":>14} | {"Prometheus":>14} | {"promlet/Prom":>12} |')
for label, key, fmt in rows:
    ratio = ""
    k = "server_hwm_kib" if label.startswith("peak RSS") else key
    if k in ratio_of and b[k]:
        ratio = f"{a[k] / b[k]:.2f}"
    print(f'| {label:32} | {cell(a, key, fmt, label):>14} | {cell(b, key, fmt, label):>14} | {ratio:>12} |')
for qa, qb in zip(a["query_by_expr"], b["query_by_expr"]):
    print(f'query {qa["query"]}: p50/p99 {qa["p50_ms"]:.1f}/{qa["p99_ms"]:.1f} ms (n={qa["n"]}) against '
          f'{qb["p50_ms"]:.1f}/{qb["p99_ms"]:.1f} ms (n={qb["n"]})')
for name, r in (("promlet", a), ("Prometheus", b)):
    before, after = r["load"].split()
    print(f'{name}: 1-minute load average {before} before its run, {after} after '
          f'(the machine is shared: other processes count in it)')
for name, r in (("promlet", a), ("Prometheus", b)):
    lost = r["samples_planned"] - r["stored"]
    verdict = "no sample lost" if lost == 0 else f"LOST {lost:,}"
    print(f'{name}: planned {r["samples_planned"]:,}, sent {r["samples_sent"]:,}, '
          f'accepted {r["samples_accepted"]:,}, stored {r["stored"]:,}: {verdict}')
PY
