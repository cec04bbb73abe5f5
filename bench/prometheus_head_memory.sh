#!/usr/bin/env bash
# Prometheus head memory per active series, for comparison with
# `cargo bench -p tsdb --bench head_memory` (tsdb/benches/head_memory.rs).
#
#   bench/prometheus_head_memory.sh                      # SERIES=200000 SAMPLES=60
#   SERIES=200000 SAMPLES=120 bench/prometheus_head_memory.sh
#
# Environment (defaults in brackets):
#   SERIES [200000]      series in the scraped exposition (same labels/values as head_memory.rs)
#   SAMPLES [60]         samples per series to ingest (= scraped bodies)
#   BASELINE_SERIES [0]  series of the baseline run (0 = empty exposition)
#   INTERVAL [1]         scrape_interval = scrape_timeout, seconds
#   TIMESTAMPS [explicit]  explicit: lines carry T0 + k*15 s (like the Rust bench; a shorter step
#                        if 15 s cannot keep one head chunk per series now) and the target
#                        serves empty bodies after SAMPLES scrapes, so the head is frozen at
#                        exactly SAMPLES samples/series (no stale markers: explicitly
#                        timestamped series are not staleness-tracked) and every series has one
#                        head chunk.  scrape: no timestamps, values keep moving; memory is read
#                        right after the SAMPLES-th scrape and a few more samples land while it
#                        settles (reported).  Also drops the scrape cache's staleness maps.
#   SETTLE [10]          seconds between the two forced-GC readings
#   T0_MS [0]            explicit mode: timestamp of the first sample (0 = chosen by serve_series.py
#                        so that every series keeps one head chunk; see choose_t0 there)
#   PROMETHEUS [prometheus]  binary;  PYTHON [python3];  KEEP [0] keep the work dir
#   JSON_OUT []          append one JSON object per run (baseline, N) to this file
#
# Method: two complete runs, one with SERIES and one with BASELINE_SERIES series, each with a fresh
# Prometheus (temp storage dir, free loopback port) scraping a fresh bench/serve_series.py target
# (honor_labels: true, so the file's job/instance labels are kept).  In each run, once SAMPLES
# bodies were ingested: (a) VmRSS and Go heap metrics as they are; (b) GET
# /debug/pprof/heap?gc=1 (runs runtime.GC()) then VmRSS + /metrics; (c) SETTLE s later the same
# again.  "settled" = the lower of (b) and (c) (the second GC also empties sync.Pools' victim
# caches, e.g. the 16 MB scrape buffer).  Per-series figures are (run N - baseline) / (N - base).
# Prometheus figures include the scrape cache (per-series entry keyed by the metric text), which
# a real Prometheus always has for active series; the Rust bench has no scraper.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SERIES=${SERIES:-200000}
SAMPLES=${SAMPLES:-60}
BASELINE_SERIES=${BASELINE_SERIES:-0}
INTERVAL=${INTERVAL:-1}
TIMESTAMPS=${TIMESTAMPS:-explicit}
SETTLE=${SETTLE:-10}
T0_MS=${T0_MS:-0}
PROMETHEUS=${PROMETHEUS:-prometheus}
PY=${PYTHON:-python3}
KEEP=${KEEP:-0}
JSON_OUT=${JSON_OUT:-}

case "${1:-}" in -h|--help) sed -n '2,35p' "${BASH_SOURCE[0]}"; exit 0 ;; "") ;; *) echo "unknown argument: $1" >&2; exit 2 ;; esac
case "$TIMESTAMPS" in explicit|scrape) ;; *) echo "TIMESTAMPS must be explicit or scrape" >&2; exit 2 ;; esac

WORK=$(mktemp -d "${TMPDIR:-/tmp}/prom_head_mem.XXXXXX")
SRV_PID=''
PROM_PID=''
EVAL_TIME=''
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

stop_pid() { # stop_pid PID SECONDS: TERM, wait up to SECONDS, then KILL
  local pid=$1 secs=$2 i
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < secs * 10; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  stop_pid "$PROM_PID" 30; PROM_PID=''
  stop_pid "$SRV_PID" 5; SRV_PID=''
  if [[ "$KEEP" == 1 ]]; then log "work dir kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
rss_kb() { awk '/^VmRSS:/{print $2}' "/proc/$1/status"; }
prom_metrics() { # prom_metrics FILE: save Prometheus's own /metrics
  curl -sf --max-time 20 "http://127.0.0.1:$PPORT/metrics" > "$1"
}
metric() { # metric FILE SERIES -> value as integer (SERIES = name plus labels exactly as exposed)
  awk -v n="$2" '$1==n{printf "%.0f\n", $2; f=1; exit} END{if(!f) print "null"}' "$1"
}
served() { curl -sf --max-time 5 "http://127.0.0.1:$TPORT/status" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["served"])'; }

# reading LABEL: RSS + Go heap + head counters -> one JSON object on stdout
reading() {
  local tag=$1 m="$WORK/$RUN.$1.metrics" rss
  rss=$(rss_kb "$PROM_PID")
  prom_metrics "$m"
  printf '{"tag":"%s","t":%s,"rss_bytes":%s,"heap_inuse":%s,"heap_alloc":%s,"heap_sys":%s,"heap_released":%s,"head_series":%s,"head_chunks":%s,"samples_appended":%s,"served":%s}\n' \
    "$tag" "$(date +%s.%N)" "$((rss * 1024))" \
    "$(metric "$m" go_memstats_heap_inuse_bytes)" "$(metric "$m" go_memstats_heap_alloc_bytes)" \
    "$(metric "$m" go_memstats_heap_sys_bytes)" "$(metric "$m" go_memstats_heap_released_bytes)" \
    "$(metric "$m" prometheus_tsdb_head_series)" "$(metric "$m" prometheus_tsdb_head_chunks)" \
    "$(metric "$m" 'prometheus_tsdb_head_samples_appended_total{type="float"}')" "$(served)"
}

force_gc() { # runtime.GC() via the pprof handler; keep the (text) heap profile
  curl -sf --max-time 60 "http://127.0.0.1:$PPORT/debug/pprof/heap?gc=1&debug=1" > "$WORK/$RUN.heap.$1.txt"
}

query() { # query EXPR -> raw JSON of /api/v1/query (exits on error)
  local out
  out=$(curl -s --max-time 60 "http://127.0.0.1:$PPORT/api/v1/query" --data-urlencode "query=$1" \
        --data-urlencode "time=$EVAL_TIME") || true
  [[ "$out" == *'"status":"success"'* ]] || { echo "query failed: $1: ${out:-no answer}" >&2; exit 1; }
  echo "$out"
}

# run_one N RUNNAME: full run with N series; appends the run's JSON object to $WORK/results.json
run_one() {
  local n=$1
  RUN=$2
  local portfile="$WORK/$RUN.port" i
  log "[$RUN] target: $n series, $SAMPLES samples, timestamps=$TIMESTAMPS"
  "$PY" "$BENCH_DIR/serve_series.py" --series "$n" --samples "$SAMPLES" --timestamps "$TIMESTAMPS" --t0-ms "$T0_MS" \
      --port-file "$portfile" --max-seconds $((SAMPLES * INTERVAL * 6 + 900)) \
      > "$WORK/$RUN.server.log" 2>&1 &
  SRV_PID=$!
  for ((i = 0; i < 600; i++)); do [[ -s "$portfile" ]] && break; kill -0 "$SRV_PID" || break; sleep 0.1; done
  [[ -s "$portfile" ]] || { echo "target did not start" >&2; cat "$WORK/$RUN.server.log" >&2; exit 1; }
  TPORT=$(cat "$portfile")
  PPORT=$(free_port)
  mkdir -p "$WORK/$RUN.tsdb"
  cat > "$WORK/$RUN.yml" <<EOF
global:
  scrape_interval: ${INTERVAL}s
  scrape_timeout: ${INTERVAL}s
scrape_configs:
  - job_name: head-memory-bench
    honor_labels: true
    static_configs:
      - targets: ['127.0.0.1:$TPORT']
EOF
  "$PROMETHEUS" --config.file="$WORK/$RUN.yml" --storage.tsdb.path="$WORK/$RUN.tsdb" \
      --web.listen-address="127.0.0.1:$PPORT" > "$WORK/$RUN.prometheus.log" 2>&1 &
  PROM_PID=$!
  for ((i = 0; i < 600; i++)); do
    curl -sf --max-time 2 "http://127.0.0.1:$PPORT/-/ready" > /dev/null 2>&1 && break
    kill -0 "$PROM_PID" 2>/dev/null || { echo "prometheus exited:" >&2; tail "$WORK/$RUN.prometheus.log" >&2; exit 1; }
    sleep 0.1
  done
  local t_ready; t_ready=$(date +%s.%N)
  log "[$RUN] prometheus pid $PROM_PID on 127.0.0.1:$PPORT, target 127.0.0.1:$TPORT, ready RSS $(( $(rss_kb "$PROM_PID") / 1024 )) MiB"

  # Wait until body SAMPLES has been ingested: Prometheus scrapes a target sequentially and
  # appends before its next scrape, so SAMPLES+1 served responses mean SAMPLES bodies are in.
  local deadline=$(( $(date +%s) + SAMPLES * INTERVAL * 4 + 180 )) s=0 last=0
  while :; do
    s=$(served || echo 0)
    (( s > SAMPLES )) && break
    kill -0 "$PROM_PID" 2>/dev/null || { echo "prometheus died" >&2; tail "$WORK/$RUN.prometheus.log" >&2; exit 1; }
    (( $(date +%s) < deadline )) || { echo "timeout: only $s of $SAMPLES bodies served" >&2; exit 1; }
    if (( $(date +%s) - last >= 15 )); then
      last=$(date +%s); log "[$RUN] $s/$SAMPLES bodies served, RSS $(( $(rss_kb "$PROM_PID") / 1024 )) MiB"
    fi
    sleep 0.5
  done
  sleep 0.3
  local r_a r_b r_c
  r_a=$(reading at_samples)
  force_gc 1
  r_b=$(reading gc1)
  log "[$RUN] ingested; settling ${SETTLE}s"
  sleep "$SETTLE"
  force_gc 2
  r_c=$(reading gc2)

  # Checks and scrape durations (after the memory readings: queries allocate).  Evaluated at
  # the last sample's time if the target put the samples in the near future (see serve_series.py).
  EVAL_TIME=$(curl -sf --max-time 5 "http://127.0.0.1:$TPORT/status" | "$PY" -c '
import json, sys, time
st = json.load(sys.stdin)
t = time.time()
if st["t0_ms"]:
    t = max(t, (st["t0_ms"] + st["samples"] * st["step_ms"]) / 1000)
print("%.3f" % (t + 1))')
  local q_dur q_n q_cnt q_up
  q_dur=$(query 'scrape_duration_seconds{job="head-memory-bench"}[3h]')
  q_n=$(query 'scrape_samples_scraped{job="head-memory-bench"}[3h]')
  q_cnt='[]'
  if (( n > 0 )); then # samples per series for the 10 metric names node_metric_0..9 (all value kinds)
    q_cnt=$(for i in 0 1 2 3 4 5 6 7 8 9; do query "count_over_time(node_metric_$i{job=\"node\"}[3h])"; done |
            "$PY" -c 'import json,sys; print(json.dumps([int(r["value"][1]) for l in sys.stdin for r in json.loads(l)["data"]["result"]]))')
  fi
  q_up=$(query 'up{job="head-memory-bench"}[3h]')
  local status; status=$(curl -sf --max-time 5 "http://127.0.0.1:$TPORT/status")
  local pcpu; pcpu=$(awk '{print ($14+$15)/100}' "/proc/$PROM_PID/stat")

  stop_pid "$PROM_PID" 60; PROM_PID=''
  stop_pid "$SRV_PID" 5; SRV_PID=''

  "$PY" - "$RUN" "$n" "$SAMPLES" "$INTERVAL" "$TIMESTAMPS" "$t_ready" "$pcpu" "$status" \
      "$r_a" "$r_b" "$r_c" "$q_dur" "$q_n" "$q_cnt" "$q_up" >> "$WORK/results.json" <<'EOF'
import json, statistics, sys
run, n, samples, interval, ts_mode, t_ready, pcpu, status = sys.argv[1:9]
r_a, r_b, r_c = (json.loads(x) for x in sys.argv[9:12])
q_dur, q_n, q_up = (json.loads(x)["data"]["result"] for x in sys.argv[12:14] + sys.argv[15:16])
q_cnt = json.loads(sys.argv[14])
n, samples = int(n), int(samples)
st = json.loads(status)
def vals(res):
    return {int(float(t) * 1000): float(v) for t, v in res[0]["values"]} if res else {}
dur, scraped, up = vals(q_dur), vals(q_n), vals(q_up)
# durations of the scrapes that returned a non-empty body (all scrapes for an empty target)
body = [dur[t] for t in sorted(dur) if (scraped.get(t, 0) > 0 or n == 0)][:samples]
counts = q_cnt
settled = min((r_b, r_c), key=lambda r: r["heap_inuse"])
rec = {
    "run": run, "series": n, "samples": samples, "interval_s": float(interval), "timestamps": ts_mode,
    "at_samples": r_a, "gc1": r_b, "gc2": r_c,
    "settled_heap_inuse": settled["heap_inuse"], "settled_heap_alloc": min(r_b["heap_alloc"], r_c["heap_alloc"]),
    "settled_rss": min(r_b["rss_bytes"], r_c["rss_bytes"]),
    "scrapes": len(up), "failed_scrapes": sum(1 for v in up.values() if v == 0),
    "scrape_s_first": round(body[0], 3) if body else None,
    "scrape_s_median_rest": round(statistics.median(body[1:]), 3) if len(body) > 1 else None,
    "scrape_s_max_rest": round(max(body[1:]), 3) if len(body) > 1 else None,
    "check_series": len(counts), "check_min_samples": min(counts) if counts else None,
    "check_max_samples": max(counts) if counts else None,
    "target": st, "prometheus_cpu_s": float(pcpu),
}
print(json.dumps(rec))
EOF
  log "[$RUN] done: $(tail -1 "$WORK/results.json" | "$PY" -c 'import json,sys; r=json.load(sys.stdin); print("settled heap_inuse %.1f MiB, RSS %.1f MiB, head_series %s, scrapes %s (failed %s), check samples %s..%s" % (r["settled_heap_inuse"]/2**20, r["settled_rss"]/2**20, r["gc2"]["head_series"], r["scrapes"], r["failed_scrapes"], r["check_min_samples"], r["check_max_samples"]))')"
}

# --------------------------------------------------------------------------
systemctl stop prometheus 2>/dev/null || true
command -v "$PROMETHEUS" > /dev/null || { echo "prometheus not found" >&2; exit 1; }
PVER=$("$PROMETHEUS" --version 2>&1 | head -1)
echo "# Prometheus head memory per series"
echo
echo "machine: $(nproc) CPUs ($(lscpu | sed -n 's/^Model name: *//p' | head -1)), $(free -g | awk '/^Mem:/{print $2" GiB RAM, "$7" GiB available"}'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "prometheus: $PVER; GOGC=${GOGC:-default}"
echo "SERIES=$SERIES SAMPLES=$SAMPLES BASELINE_SERIES=$BASELINE_SERIES INTERVAL=${INTERVAL}s TIMESTAMPS=$TIMESTAMPS SETTLE=${SETTLE}s"
echo

: > "$WORK/results.json"
run_one "$BASELINE_SERIES" base
run_one "$SERIES" series
[[ -n "$JSON_OUT" ]] && cat "$WORK/results.json" >> "$JSON_OUT"

"$PY" - "$WORK/results.json" "$WORK/base.heap.2.txt" "$WORK/series.heap.2.txt" <<'EOF'
import collections, json, math, re, sys
base, run = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]

def heap_profile(path):
    """In-use bytes of a `debug=1` heap profile, un-sampled like pprof does, keyed by the
    innermost github.com/prometheus/prometheus function of each allocation stack."""
    txt = open(path).read()
    rate = int(re.search(r"@ heap/(\d+)", txt).group(1)) / 2
    agg = collections.Counter()
    for block in txt.split("\n\n"):
        lines = block.strip().split("\n")
        h = re.match(r"(\d+): (\d+) \[", lines[0])
        if not h or int(h.group(1)) == 0:
            continue
        objs, size = int(h.group(1)), int(h.group(2))
        fn = "(outside the prometheus module)"
        for l in lines[1:]:
            f = l.split()
            if len(f) >= 3 and f[0] == "#" and f[2].startswith("github.com/prometheus/prometheus/"):
                fn = re.sub(r"\+0x[0-9a-f]+$", "", f[2][len("github.com/prometheus/prometheus/"):])
                break
        agg[fn] += size / (1 - math.exp(-(size / objs) / rate))
    return agg
d = run["series"] - base["series"]
per = lambda a, b: (a - b) / d
ok_samples = run["check_min_samples"] == run["check_max_samples"] == run["samples"]
extra = run["gc2"]["served"] - run["samples"] if run["timestamps"] == "scrape" else 0
chunks = (run["gc2"]["head_chunks"] - base["gc2"]["head_chunks"]) / d
print("| series | samples/series | timestamps | scrape interval | head chunks/series | RSS B/series at %d samples | RSS B/series settled "
      "| Go heap-in-use B/series at %d samples | Go heap-in-use B/series settled (min of 2 forced GCs) "
      "| Go heap-alloc B/series settled | scrape duration s (first / median / max) | head series | samples check |"
      % (run["samples"], run["samples"]))
print("|--:|--:|---|--:|--:|--:|--:|--:|--:|--:|---|--:|---|")
print("| %d | %d%s | %s | %gs | %.2f | %.0f | %.0f | %.0f | %.0f | %.0f | %s / %s / %s | %s (base %s) | %s |" % (
    run["series"], run["samples"], " (+%d while settling)" % extra if extra else "",
    "explicit, %g s step" % (run["target"]["step_ms"] / 1000) if run["timestamps"] == "explicit" else "scrape time",
    run["interval_s"], chunks,
    per(run["at_samples"]["rss_bytes"], base["at_samples"]["rss_bytes"]),
    per(run["settled_rss"], base["settled_rss"]),
    per(run["at_samples"]["heap_inuse"], base["at_samples"]["heap_inuse"]),
    per(run["settled_heap_inuse"], base["settled_heap_inuse"]),
    per(run["settled_heap_alloc"], base["settled_heap_alloc"]),
    run["scrape_s_first"], run["scrape_s_median_rest"], run["scrape_s_max_rest"],
    run["gc2"]["head_series"], base["gc2"]["head_series"],
    ("%d series x %d samples, exact" % (run["check_series"], run["samples"])) if ok_samples else
    "%d series, %s..%s samples" % (run["check_series"], run["check_min_samples"], run["check_max_samples"])))
print()
for r in (base, run):
    print("%s: %d series; RSS MiB at/gc1/gc2 %.1f/%.1f/%.1f; heap_inuse MiB %.1f/%.1f/%.1f; heap_alloc MiB %.1f/%.1f/%.1f; "
          "head_chunks %s; samples_appended %s; scrapes %d (failed %d); target served %d bodies, failed writes %d, "
          "body generation avg %s s; prometheus CPU %.1f s" % (
        r["run"], r["series"], *(r[k]["rss_bytes"] / 2**20 for k in ("at_samples", "gc1", "gc2")),
        *(r[k]["heap_inuse"] / 2**20 for k in ("at_samples", "gc1", "gc2")),
        *(r[k]["heap_alloc"] / 2**20 for k in ("at_samples", "gc1", "gc2")),
        r["gc2"]["head_chunks"], r["gc2"]["samples_appended"], r["scrapes"], r["failed_scrapes"],
        r["target"]["served"], r["target"]["failed_writes"], r["target"]["gen_s_avg"], r["prometheus_cpu_s"]))
print()
hb, hr = heap_profile(sys.argv[2]), heap_profile(sys.argv[3])
diff = {k: hr.get(k, 0) - hb.get(k, 0) for k in set(hb) | set(hr)}
print("Go heap in use after the 2nd forced GC, by allocating function (innermost Prometheus frame), "
      "(run - baseline) / %d series; from the sampled heap profile (one sample per ~512 KiB, "
      "scaled as pprof does), so indicative only:" % d)
print()
print("| allocated in | B/series |")
print("|---|--:|")
top = sorted(diff.items(), key=lambda kv: -kv[1])
for k, v in top[:12]:
    print("| %s | %.0f |" % (k, v / d))
print("| (rest) | %.0f |" % (sum(v for _, v in top[12:]) / d))
print("| total (profile) | %.0f |" % (sum(diff.values()) / d))
EOF
