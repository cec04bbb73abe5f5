#!/usr/bin/env bash
# Query benchmark: the same data in promlet and in Prometheus, the same PromQL over HTTP.
#
#   cargo build --release -p promlet && bench/query_bench.sh
#
# Environment (defaults in brackets):
#   HOSTS [76] HOURS [6] SEED [1]   data: gen_openmetrics.py --set realistic (about 131
#                                    series per host: 76 hosts give ~10k series, 14.3M samples)
#   RUNS [10] WARMUP [2]            measured and warm-up runs per query and server
#   PROMLET [target/release/promlet]  PROMLET_REV [git HEAD]: the revision it was built from
#   OUT [bench/out/query]           work directory (gitignored; the data file is ~1.5 GB)
#
# Steps: generate the OpenMetrics file (cached by parameters); backfill it with
# `promtool tsdb create-blocks-from openmetrics --max-block-duration=24h` (one block, so
# Prometheus has nothing to compact while it is measured) and with `promlet import`
# (both cached); start `prometheus` and `promlet serve` on free ports; run
# bench/query_bench.py, which times every query on both and samples both servers' memory.
# Prints markdown tables; raw measurements go to $OUT/query_bench.json.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$BENCH_DIR/.." && pwd)
HOSTS=${HOSTS:-76}
HOURS=${HOURS:-6}
SEED=${SEED:-1}
RUNS=${RUNS:-10}
WARMUP=${WARMUP:-2}
START=1767225600 # gen_openmetrics.py's default start, 2026-01-01T00:00:00Z
PROMLET=${PROMLET:-$REPO_DIR/target/release/promlet}
OUT=${OUT:-$REPO_DIR/bench/out/query}
PY=${PYTHON:-python3}

case "${1:-}" in
  -h|--help) sed -n '2,19p' "${BASH_SOURCE[0]}"; exit 0 ;;
  "") ;;
  *) echo "unknown argument: $1" >&2; exit 2 ;;
esac
[[ -x "$PROMLET" ]] || { echo "no promlet binary at $PROMLET (cargo build --release -p promlet)" >&2; exit 1; }

log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
mkdir -p "$OUT"
END=$((START + HOURS * 3600))
OM="$OUT/data.om"
PARAMS="hosts=$HOSTS hours=$HOURS seed=$SEED gen=$(sha1sum "$BENCH_DIR/gen_openmetrics.py" | cut -c1-12)"

# ---------------------------------------------------------------- data, cached
if [[ -s "$OM" && -f "$OUT/data.params" && "$(cat "$OUT/data.params")" == "$PARAMS" ]]; then
  log "reusing $OM ($PARAMS)"
else
  log "generating $OM ($PARAMS)"
  rm -f "$OUT/data.params" "$OUT/prom.params" "$OUT/promlet.params"
  "$PY" "$BENCH_DIR/gen_openmetrics.py" --set realistic --hosts "$HOSTS" --hours "$HOURS" \
      --seed "$SEED" -o "$OM" --stats "$OUT/data.stats.json"
  echo "$PARAMS" > "$OUT/data.params"
fi

if [[ -f "$OUT/prom.params" && "$(cat "$OUT/prom.params")" == "$PARAMS" ]]; then
  log "reusing the Prometheus blocks"
else
  log "promtool tsdb create-blocks-from openmetrics --max-block-duration=24h"
  rm -rf "$OUT/prom"
  promtool tsdb create-blocks-from openmetrics --max-block-duration=24h "$OM" "$OUT/prom" \
      > "$OUT/promtool.log" 2>&1
  echo "$PARAMS" > "$OUT/prom.params"
fi

PROMLET_REV=${PROMLET_REV:-$(git -C "$REPO_DIR" rev-parse --short HEAD 2>/dev/null || echo unknown)}
PROMLET_ID="$PARAMS bin=$(sha1sum "$PROMLET" | cut -c1-12)"
if [[ -f "$OUT/promlet.params" && "$(cat "$OUT/promlet.params")" == "$PROMLET_ID" ]]; then
  log "reusing the promlet data directory"
else
  log "promlet import"
  rm -rf "$OUT/promlet"
  "$PROMLET" import "$OM" --data "$OUT/promlet" < /dev/null > "$OUT/import.log" 2>&1
  echo "$PROMLET_ID" > "$OUT/promlet.params"
fi

# ---------------------------------------------------------------- servers
free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PROM_PID= PROMLET_PID=
cleanup() {
  [[ -n "$PROM_PID" ]] && kill "$PROM_PID" 2>/dev/null && wait "$PROM_PID" 2>/dev/null
  [[ -n "$PROMLET_PID" ]] && kill "$PROMLET_PID" 2>/dev/null && wait "$PROMLET_PID" 2>/dev/null
  return 0
}
trap cleanup EXIT

wait_ready() { # wait_ready NAME HOST:PORT PID
  local deadline=$((SECONDS + 300))
  until curl -sf "http://$2/-/ready" > /dev/null; do
    kill -0 "$3" 2>/dev/null || { echo "$1 exited; see its log in $OUT" >&2; exit 1; }
    ((SECONDS < deadline)) || { echo "$1 not ready after 300 s" >&2; exit 1; }
    sleep 0.2
  done
}

printf 'global:\n  evaluation_interval: 1m\n' > "$OUT/prometheus.yml"
PROM_ADDR=127.0.0.1:$(free_port)
prometheus --config.file="$OUT/prometheus.yml" --storage.tsdb.path="$OUT/prom" \
    --web.listen-address="$PROM_ADDR" --storage.tsdb.retention.time=3650d \
    --log.level=warn > "$OUT/prometheus.log" 2>&1 &
PROM_PID=$!
PROMLET_ADDR=127.0.0.1:$(free_port)
PROMLET_LOG=warn "$PROMLET" serve --collect-host=false --data "$OUT/promlet" --listen "$PROMLET_ADDR" --retention 0 \
    > "$OUT/promlet.log" 2>&1 &
PROMLET_PID=$!
wait_ready Prometheus "$PROM_ADDR" "$PROM_PID"
wait_ready promlet "$PROMLET_ADDR" "$PROMLET_PID"
log "both ready: Prometheus $PROM_ADDR (pid $PROM_PID), promlet $PROMLET_ADDR (pid $PROMLET_PID)"

# ---------------------------------------------------------------- measure
STATS="$OUT/data.stats.json"
echo "# Query benchmark: promlet vs Prometheus"
echo
echo "- machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), $(free -g | awk '/^Mem:/{print $2}') GiB RAM; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- data: $("$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); print("%d series, %d samples, %d h at 15 s (gen_openmetrics.py --set realistic --hosts %d)" % (d["series"], d["samples"], d["hours"], d["hosts"]))' "$STATS")"
echo "- Prometheus: $(prometheus --version 2>&1 | head -1 | sed 's/ (.*//'); promlet: $PROMLET_REV ($PROMLET)"
echo "- each query: $WARMUP warm-up runs, then $RUNS measured runs per server (alternating); medians of client-side wall time"
echo "- instant queries at $END (the end of the data); range queries $START..$END"
echo
"$PY" "$BENCH_DIR/query_bench.py" --promlet "$PROMLET_ADDR" --promlet-pid "$PROMLET_PID" \
    --prometheus "$PROM_ADDR" --prometheus-pid "$PROM_PID" --start "$START" --end "$END" \
    --runs "$RUNS" --warmup "$WARMUP" --json "$OUT/query_bench.json"
echo
echo "- load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
