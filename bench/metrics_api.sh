#!/usr/bin/env bash
# The resource metrics API at scale: `GET /apis/metrics.k8s.io/v1beta1/pods` over PODS pods
# (two containers each, on NODES nodes) stored in a real promlet data directory, timed with
# curl, and promlet serve's memory with and without those pods.
#
#   cargo build --release -p promlet && bash bench/metrics_api.sh [PODS] [NODES]
#
# Data: for every container, two CPU samples 25 s and 10 s before "now" and one working-set
# sample; for every node the kubelet's node_* series. Written as OpenMetrics, loaded with
# `promlet import`, then served by `promlet serve --collect-host=false`. Latency: median and
# max of 10 requests after 2 warm-ups (curl's time_total, including JSON transfer). Memory:
# VmRSS/VmHWM of the server after the requests, against an empty server given the same
# requests. No metrics-server can run here (it needs a cluster); its published sizing is
# 2 MiB per node (../shared/reference/k8s/02-metrics-server-internals-and-user-demands.md).
set -euo pipefail
cd "$(dirname "$0")/.."
PODS=${1:-10000}
NODES=${2:-100}
PROMLET=${PROMLET:-target/release/promlet}
work=$(mktemp -d /tmp/metrics_api.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
mem() { awk '/^VmRSS|^VmHWM/ {printf "%s %.1f MiB  ", $1, $2/1024}' "/proc/$1/status"; }

python3 - "$PODS" "$NODES" "$work/data.om" <<'PY'
import sys, time
pods, nodes, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
now = int(time.time()); t1, t2 = now - 25, now - 10
with open(out, "w") as f:
    w = f.write
    w("# TYPE node_cpu_usage_seconds_total gauge\n")
    for n in range(nodes):
        w(f'node_cpu_usage_seconds_total{{node="node-{n}"}} {1000+n} {t1}\n')
        w(f'node_cpu_usage_seconds_total{{node="node-{n}"}} {1003+n} {t2}\n')
    w("# TYPE node_memory_working_set_bytes gauge\n")
    for n in range(nodes):
        w(f'node_memory_working_set_bytes{{node="node-{n}"}} {(4+n%4)<<30} {t2}\n')
    for name, vals in (("container_cpu_usage_seconds_total", ((t1, 0.0), (t2, 1.0))),
                       ("container_memory_working_set_bytes", ((t2, None),))):
        w(f"# TYPE {name} gauge\n")
        for p in range(pods):
            for c in ("app", "sidecar"):
                l = f'container="{c}",namespace="ns-{p % 50}",node="node-{p % nodes}",pod="pod-{p}"'
                for t, v in vals:
                    v = (p % 97 + 1) * (1 << 20) if v is None else v * (p % 13 + 1) / 10
                    w(f"{name}{{{l}}} {v} {t}\n")
    w("# EOF\n")
PY
"$PROMLET" import "$work/data.om" --data "$work/data" >/dev/null 2>&1

measure() { # label data-dir
  local port pid
  port=$(free_port)
  PROMLET_LOG=warn "$PROMLET" serve --collect-host=false --listen 127.0.0.1:"$port" --data "$2" >/dev/null 2>&1 &
  pid=$!
  for _ in $(seq 100); do curl -sf "127.0.0.1:$port/-/ready" >/dev/null && break; sleep 0.1; done
  local url="http://127.0.0.1:$port/apis/metrics.k8s.io/v1beta1/pods"
  for _ in 1 2; do curl -sf "$url" -o /dev/null; done
  local times items
  times=$(for _ in $(seq 10); do curl -sf "$url" -o /dev/null -w '%{time_total}\n'; done | sort -n)
  items=$(curl -sf "$url" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["items"]))')
  printf '%-12s pods listed: %s, median %.1f ms, max %.1f ms, %s\n' "$1" "$items" \
    "$(echo "$times" | sed -n 5p | awk '{print $1*1000}')" "$(echo "$times" | tail -1 | awk '{print $1*1000}')" "$(mem $pid)"
  local n1="http://127.0.0.1:$port/apis/metrics.k8s.io/v1beta1/namespaces/ns-7/pods"
  printf '%-12s one namespace: %.1f ms; nodes: %.1f ms\n' "$1" \
    "$(curl -sf "$n1" -o /dev/null -w '%{time_total}' | awk '{print $1*1000}')" \
    "$(curl -sf "http://127.0.0.1:$port/apis/metrics.k8s.io/v1beta1/nodes" -o /dev/null -w '%{time_total}' | awk '{print $1*1000}')"
  [[ -n "${PERF:-}" && "$1" != empty ]] && { perf record -q -g -p $pid -o "${PERF_DATA:-/tmp/metrics_api.perf}" -- sleep 6 & local perf=$!; sleep 0.5; for _ in $(seq 15); do curl -sf "$url" -o /dev/null; done; wait $perf; }
  kill $pid; wait $pid 2>/dev/null || true
}
mkdir -p "$work/empty"
measure "empty" "$work/empty"
measure "$PODS pods" "$work/data"
