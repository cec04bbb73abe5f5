#!/usr/bin/env bash
# Exposition parsing throughput: promlet's parser against the parser in Prometheus's own
# `promtool check metrics` (prometheus/common expfmt, plus promtool's lint), on the same input
# in the same run.
#
#   cargo build --release -p collector --example parse_exposition && bash bench/exposition.sh [COPIES] [N]
#
# Input: COPIES copies of the node_exporter 1.5 scrape in collector/tests/fixtures, each copy's
# metric names prefixed `rK_` so that families stay unique (about 57 KB per copy).
# promlet: target/release/examples/parse_exposition parses it N times, reporting its own CPU.
# promtool: run N times on the same file; its CPU is the children's utime+stime (getrusage).
set -euo pipefail
cd "$(dirname "$0")/.."

COPIES=${1:-200}
N=${2:-5}
EXAMPLE=${EXAMPLE:-target/release/examples/parse_exposition}
SRC=collector/tests/fixtures/node_exporter.prom
input=$(mktemp /tmp/exposition.XXXXXX.prom)
trap 'rm -f "$input"' EXIT
for k in $(seq "$COPIES"); do
    sed -e "s/^# \(HELP\|TYPE\) /&r${k}_/" -e "s/^\([a-zA-Z_:]\)/r${k}_\1/" "$SRC"
done >"$input"
bytes=$(stat -c %s "$input")
samples=$(grep -cv '^#' "$input")

promlet=$("$EXAMPLE" "$input" "$N")
pl_mib=$(echo "$promlet" | sed -n 's/.*mib_per_cpu_s=\([0-9.]*\).*/\1/p')

pt_cpu=$(python3 - "$input" "$N" <<'PY'
import resource, subprocess, sys
path, n = sys.argv[1], int(sys.argv[2])
for _ in range(n):
    with open(path, "rb") as f:
        subprocess.run(["promtool", "check", "metrics"], stdin=f,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print((r.ru_utime + r.ru_stime) / n)
PY
)
pt_mib=$(echo "$bytes / 1048576 / $pt_cpu" | bc -l)

printf 'input: %s bytes, %s samples (%s copies of %s)\n' "$bytes" "$samples" "$COPIES" "$SRC"
printf 'promlet parser: %s\n' "$promlet"
printf 'promtool %s check metrics: %.1f ms CPU per run, %.1f MiB/CPU-s\n' \
    "$(promtool --version 2>&1 | head -1 | awk '{print $3}')" "$(echo "$pt_cpu * 1000" | bc -l)" "$pt_mib"
printf 'ratio promlet/promtool throughput: %.2f\n' "$(echo "$pl_mib / $pt_mib" | bc -l)"
