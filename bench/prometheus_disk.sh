#!/usr/bin/env bash
# Storage benchmark: on-disk size of the same OpenMetrics data in Prometheus
# (promtool backfill) and, when PROMLET is set, in promlet.
#
#   bench/prometheus_disk.sh                 # generate data, run promtool, report
#   PROMLET=target/release/promlet bench/prometheus_disk.sh
#   PROMLET=... bench/prometheus_disk.sh --promlet-only   # reuse Prometheus results
#
# Environment (defaults in brackets):
#   HOSTS [10] HOURS [6] INTERVAL [15] SEED [1]   generator parameters
#   SETS ["realistic noisy"]                      data sets (gen_openmetrics.py --set)
#   MODES ["default max24h"]                      promtool block sizes: default = 2 h
#                                                 blocks; max24h = --max-block-duration=24h
#                                                 (promtool then uses 18 h blocks)
#   VERIFY [1]        compare `promtool tsdb dump` with the input, sample by sample
#   OUT [bench/out]   work directory (gitignored)
#   PROMLET []        path to the promlet binary; empty = skip the promlet part
#
# Outputs: markdown tables on stdout; JSON lines in $OUT/prometheus_disk.json
# (one object per set x mode) and, with PROMLET, $OUT/promlet_disk.json.
# Everything else (data files, TSDB dirs, logs) stays under $OUT.
#
# Bytes are apparent sizes (du -sb) of the block directories only (ULID dirs:
# chunks/, index, meta.json, tombstones); promtool writes no WAL.  CPU time
# and max RSS come from /usr/bin/time -v; the wall time is measured around
# the promtool call with nanosecond clock reads.  The machine is shared, so
# the load average at the start of each run is recorded too.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$BENCH_DIR/.." && pwd)
HOSTS=${HOSTS:-10}
HOURS=${HOURS:-6}
INTERVAL=${INTERVAL:-15}
SEED=${SEED:-1}
SETS=${SETS:-"realistic noisy"}
MODES=${MODES:-"default max24h"}
VERIFY=${VERIFY:-1}
OUT=${OUT:-$REPO_DIR/bench/out}
PROMLET=${PROMLET:-}
PROMTOOL=${PROMTOOL:-promtool}
PY=${PYTHON:-python3}

RUN_PROMETHEUS=1
for arg in "$@"; do
  case "$arg" in
    --promlet-only) RUN_PROMETHEUS=0 ;;
    -h|--help) sed -n '2,30p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "unknown argument: $arg" >&2; exit 2 ;;
  esac
done

mkdir -p "$OUT"
PROM_JSON="$OUT/prometheus_disk.json"
PROMLET_JSON="$OUT/promlet_disk.json"

log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
now_ns() { date +%s%N; }
loadavg() { cut -d' ' -f1 /proc/loadavg; }

# --------------------------------------------------------------------------
# Data generation (cached: regenerated only when the parameters change)
# --------------------------------------------------------------------------
gen_set() {
  local set=$1
  local om="$OUT/$set.om" stats="$OUT/$set.stats.json" params="$OUT/$set.params"
  local want="hosts=$HOSTS hours=$HOURS interval=$INTERVAL seed=$SEED gen=$(sha1sum "$BENCH_DIR/gen_openmetrics.py" | cut -c1-12)"
  if [[ -s "$om" && -s "$stats" && -f "$params" && "$(cat "$params")" == "$want" ]]; then
    log "reusing $om ($want)"
    return
  fi
  log "generating $set set ($want)"
  rm -f "$params"
  "$PY" "$BENCH_DIR/gen_openmetrics.py" --set "$set" --hosts "$HOSTS" --hours "$HOURS" \
      --interval "$INTERVAL" --seed "$SEED" -o "$om" --stats "$stats"
  echo "$want" > "$params"
}

json_get() { # json_get FILE KEY -> value of KEY in the (single-object) JSON file
  "$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"
}

# /usr/bin/time -v output -> "user_s sys_s maxrss_kb"
time_fields() {
  awk -F': ' '/User time \(seconds\)/{u=$2} /System time \(seconds\)/{s=$2}
              /Maximum resident set size/{r=$2} END{print u, s, r}' "$1"
}

# --------------------------------------------------------------------------
# Prometheus side
# --------------------------------------------------------------------------
run_promtool() {
  local set=$1 mode=$2
  local om="$OUT/$set.om" db="$OUT/prom/$set-$mode" tlog="$OUT/prom/$set-$mode.time"
  local flags=()
  case "$mode" in
    default) ;;
    max24h) flags=(--max-block-duration=24h) ;;
    max*) flags=(--max-block-duration="${mode#max}") ;;
    *) echo "unknown mode $mode" >&2; exit 2 ;;
  esac
  mkdir -p "$OUT/prom"
  rm -rf "$db"
  local la t0 t1
  la=$(loadavg)
  log "promtool tsdb create-blocks-from openmetrics ${flags[*]:+${flags[*]} }$set.om ($mode)"
  t0=$(now_ns)
  /usr/bin/time -v -o "$tlog" "$PROMTOOL" tsdb create-blocks-from openmetrics "${flags[@]}" \
      "$om" "$db" > "$OUT/prom/$set-$mode.log" 2>&1 || {
    echo "promtool failed for $set/$mode:" >&2; cat "$OUT/prom/$set-$mode.log" >&2; exit 1; }
  t1=$(now_ns)
  read -r user_s sys_s rss_kb < <(time_fields "$tlog")

  # Sizes: block (ULID) directories only.
  local blocks=() b
  for b in "$db"/*/; do
    b=${b%/}
    [[ -f "$b/meta.json" ]] && blocks+=("$b")
  done
  local total chunks index
  total=$(du -sb "${blocks[@]}" | awk '{s+=$1} END{print s+0}')
  chunks=$(du -sb "${blocks[@]/%//chunks}" | awk '{s+=$1} END{print s+0}')
  index=$(stat -c %s "${blocks[@]/%//index}" | awk '{s+=$1} END{print s+0}')

  # Independent check: dump everything and compare with the input file.
  local verify_json='null'
  if [[ "$VERIFY" == 1 ]]; then
    log "verifying $set/$mode with promtool tsdb dump"
    mkdir -p "$db/wal"   # `tsdb dump` opens the dir as a read-only DB and wants a wal/
    verify_json=$("$PROMTOOL" tsdb dump "$db" | "$PY" "$BENCH_DIR/om_verify.py" "$om" --json) || true
    [[ -n "$verify_json" ]] || verify_json='null'
  fi

  "$PY" - "$set" "$mode" "$OUT/$set.stats.json" "$t0" "$t1" "$user_s" "$sys_s" "$rss_kb" \
      "$total" "$chunks" "$index" "$la" "$verify_json" "$("$PROMTOOL" --version 2>&1 | head -1)" \
      "${flags[*]:-}" "${blocks[@]}" >> "$PROM_JSON" <<'EOF'
import json, os, sys
(set_, mode, stats_f, t0, t1, user_s, sys_s, rss_kb, total, chunks, index, la, verify,
 version, flags), blocks = sys.argv[1:16], sys.argv[16:]
gen = json.load(open(stats_f))
metas = [json.load(open(os.path.join(b, "meta.json"))) for b in blocks]
samples = sum(m["stats"]["numSamples"] for m in metas)
wall = (int(t1) - int(t0)) / 1e9
verify = json.loads(verify)
series = verify["db_series"] if verify else max(m["stats"]["numSeries"] for m in metas)
total, chunks, index = int(total), int(chunks), int(index)
rec = {
    "engine": "prometheus", "tool": version, "set": set_, "mode": mode, "flags": flags,
    "input_bytes": gen["bytes"], "gen_series": gen["series"], "gen_samples": gen["samples"],
    "samples": samples, "series": series,
    "series_note": "distinct, from tsdb dump" if verify else "max numSeries over blocks",
    "blocks": len(metas),
    "block_hours": sorted({round((m["maxTime"] - m["minTime"]) / 3.6e6, 2) for m in metas}),
    "chunks": sum(m["stats"]["numChunks"] for m in metas),
    "bytes_total": total, "bytes_chunks": chunks, "bytes_index": index,
    "bytes_per_sample": total / samples, "chunk_bytes_per_sample": chunks / samples,
    "index_bytes_per_series": index / series,
    "wall_s": round(wall, 3), "user_s": float(user_s), "sys_s": float(sys_s),
    "cpu_s": round(float(user_s) + float(sys_s), 2), "max_rss_mb": round(int(rss_kb) / 1024, 1),
    "samples_per_s": round(samples / wall), "samples_per_cpu_s": round(samples / max(0.01, float(user_s) + float(sys_s))),
    "loadavg_1m_before": float(la), "verify": verify,
    "samples_match_generator": samples == gen["samples"],
}
print(json.dumps(rec))
if samples != gen["samples"]:
    print("WARNING: %s/%s: TSDB holds %d samples, generator wrote %d" % (set_, mode, samples, gen["samples"]),
          file=sys.stderr)
if verify and not verify["ok"]:
    print("WARNING: %s/%s: dump differs from input: %s" % (set_, mode, verify), file=sys.stderr)
EOF
}

prometheus_table() {
  "$PY" - "$PROM_JSON" <<'EOF'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print("| set | promtool blocks | samples | series | total bytes | chunks/ bytes | index bytes "
      "| B/sample total | B/sample chunks | promtool wall s | CPU s | max RSS MiB | samples/s | dump check |")
print("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|")
for r in recs:
    v = r["verify"]
    check = "not run" if v is None else ("exact" if v["ok"] else "MISMATCH")
    if not r["samples_match_generator"]:
        check += " (samples != generator %d)" % r["gen_samples"]
    blocks = "%s: %d x %sh" % (r["mode"], r["blocks"], "/".join("%g" % h for h in r["block_hours"]))
    print("| %s | %s | %d | %d | %d | %d | %d | %.3f | %.3f | %.2f | %.2f | %.0f | %d | %s |" % (
        r["set"], blocks, r["samples"], r["series"], r["bytes_total"], r["bytes_chunks"],
        r["bytes_index"], r["bytes_per_sample"], r["chunk_bytes_per_sample"], r["wall_s"],
        r["cpu_s"], r["max_rss_mb"], r["samples_per_s"], check))
EOF
}

# --------------------------------------------------------------------------
# promlet side (runs only when PROMLET points at the binary)
#   promlet import FILE --data DIR        (progress output only on a TTY)
#   promlet inspect --data DIR --json     -> {"series","samples","chunks",
#                                             "bytes_on_disk","bytes_per_sample"}
# --------------------------------------------------------------------------
run_promlet() {
  local set=$1
  local om="$OUT/$set.om" db="$OUT/promlet/$set" tlog="$OUT/promlet/$set.time"
  mkdir -p "$OUT/promlet"
  rm -rf "$db"
  local la t0 t1
  la=$(loadavg)
  log "promlet import $set.om --data $db"
  t0=$(now_ns)
  /usr/bin/time -v -o "$tlog" "$PROMLET" import "$om" --data "$db" \
      > "$OUT/promlet/$set.import.log" 2>&1 < /dev/null || {
    echo "promlet import failed for $set:" >&2; tail -20 "$OUT/promlet/$set.import.log" >&2; exit 1; }
  t1=$(now_ns)
  read -r user_s sys_s rss_kb < <(time_fields "$tlog")
  local inspect du_total
  inspect=$("$PROMLET" inspect --data "$db" --json)
  du_total=$(du -sb "$db" | cut -f1)
  "$PY" - "$set" "$OUT/$set.stats.json" "$t0" "$t1" "$user_s" "$sys_s" "$rss_kb" "$la" \
      "$du_total" "$inspect" >> "$PROMLET_JSON" <<'EOF'
import json, sys
set_, stats_f, t0, t1, user_s, sys_s, rss_kb, la, du_total, inspect = sys.argv[1:11]
gen = json.load(open(stats_f))
ins = json.loads(inspect)
wall = (int(t1) - int(t0)) / 1e9
samples = int(ins["samples"])
rec = {
    "engine": "promlet", "set": set_, "input_bytes": gen["bytes"],
    "gen_series": gen["series"], "gen_samples": gen["samples"],
    "samples": samples, "series": int(ins["series"]), "chunks": ins.get("chunks"),
    "bytes_on_disk": int(ins["bytes_on_disk"]), "bytes_du": int(du_total),
    "bytes_per_sample": int(ins["bytes_on_disk"]) / samples,
    "bytes_per_sample_reported": ins.get("bytes_per_sample"),
    "wall_s": round(wall, 3), "user_s": float(user_s), "sys_s": float(sys_s),
    "cpu_s": round(float(user_s) + float(sys_s), 2), "max_rss_mb": round(int(rss_kb) / 1024, 1),
    "samples_per_s": round(samples / wall), "loadavg_1m_before": float(la),
    "samples_match_generator": samples == gen["samples"],
    "series_match_generator": int(ins["series"]) == gen["series"],
}
print(json.dumps(rec))
for k in ("samples", "series"):
    if rec[k + "_match_generator"] is False:
        print("WARNING: promlet %s: %s=%s, generator wrote %s" % (set_, k, rec[k], gen[k]), file=sys.stderr)
if abs(rec["bytes_du"] - rec["bytes_on_disk"]) > 0.05 * rec["bytes_du"]:
    print("NOTE: promlet %s: inspect bytes_on_disk=%d vs du -sb %d" % (set_, rec["bytes_on_disk"], rec["bytes_du"]),
          file=sys.stderr)
EOF
}

comparison_table() {
  "$PY" - "$PROM_JSON" "$PROMLET_JSON" <<'EOF'
import json, sys
prom = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
pl = {r["set"]: r for r in (json.loads(l) for l in open(sys.argv[2]) if l.strip())}
print("| set | Prometheus blocks | Prom B/sample | promlet B/sample | ratio promlet/Prom "
      "| Prom chunks-only B/sample | Prom import s | promlet import s | ratio promlet/Prom "
      "| Prom CPU s | promlet CPU s | promlet samples ok |")
print("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|")
for r in prom:
    p = pl.get(r["set"])
    if not p:
        continue
    print("| %s | %s | %.3f | %.3f | %.2f | %.3f | %.2f | %.2f | %.2f | %.2f | %.2f | %s |" % (
        r["set"], r["mode"], r["bytes_per_sample"], p["bytes_per_sample"],
        p["bytes_per_sample"] / r["bytes_per_sample"], r["chunk_bytes_per_sample"],
        r["wall_s"], p["wall_s"], p["wall_s"] / r["wall_s"], r["cpu_s"], p["cpu_s"],
        "yes" if p["samples_match_generator"] else "NO (%d vs %d)" % (p["samples"], p["gen_samples"])))
EOF
}

# --------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------
echo "# Storage benchmark: Prometheus (promtool backfill)$([[ -n "$PROMLET" ]] && echo " vs promlet")"
echo
echo "machine: $(nproc) CPUs, $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(free -g | awk '/^Mem:/{print $2}') GiB RAM; data: hosts=$HOSTS hours=$HOURS interval=${INTERVAL}s seed=$SEED"
echo

for set in $SETS; do gen_set "$set"; done

if [[ "$RUN_PROMETHEUS" == 1 ]]; then
  : > "$PROM_JSON"
  for set in $SETS; do
    for mode in $MODES; do run_promtool "$set" "$mode"; done
  done
elif [[ ! -s "$PROM_JSON" ]]; then
  echo "--promlet-only: no Prometheus results in $PROM_JSON; run without --promlet-only first" >&2
  exit 1
fi
echo "## Prometheus ($("$PROMTOOL" --version 2>&1 | head -1 | sed 's/ (.*//'))"
echo
prometheus_table
echo

if [[ -z "$PROMLET" ]]; then
  echo "promlet: skipped (set PROMLET=/path/to/promlet to import the same files and compare)"
  log "PROMLET not set; skipping the promlet side"
elif [[ ! -x "$PROMLET" ]]; then
  echo "promlet: skipped ($PROMLET is not an executable file)"
  log "PROMLET=$PROMLET is not executable; skipping"
else
  : > "$PROMLET_JSON"
  for set in $SETS; do run_promlet "$set"; done
  echo "## promlet vs Prometheus"
  echo
  comparison_table
fi
