#!/usr/bin/env python3
"""Deterministic OpenMetrics benchmark data for the promlet storage benchmarks.

Writes an OpenMetrics text file that ``promtool tsdb create-blocks-from
openmetrics`` accepts (and that ``promlet import`` is meant to accept).  Only
the Python standard library is used; the output is a pure function of the
command-line arguments (same args + same --seed => byte-identical file).

Usage
-----
    gen_openmetrics.py --set realistic|noisy [--hosts 10] [--hours 6]
                       [--interval 15] [--start 1767225600] [--seed 1]
                       [--jitter-per-sample] [--no-phase]
                       [-o FILE] [--stats FILE.json]

At the end, one summary line (series, samples, ...) is printed to stderr, and
with --stats the same figures are written as a JSON object.

File layout (what promtool needs, and what the OpenMetrics spec requires)
--------------------------------------------------------------------------
* Every sample carries a timestamp: seconds with exactly three decimals
  (millisecond resolution), e.g. ``1767225615.003``.  promtool refuses samples
  without timestamps.  The decimal string maps exactly onto the integer
  millisecond (checked with promtool tsdb dump).
* Each metric family appears once: ``# HELP`` + ``# TYPE`` followed by all of
  its samples for all hosts (families are contiguous and sorted by name, as an
  exporter would expose them).  Counter families are declared without the
  ``_total`` suffix and their samples carry it (OpenMetrics style).
* Inside a family, each series (label set) is written as one contiguous run
  with strictly increasing timestamps ("series-major").  For histograms and
  summaries every MetricPoint (all ``_bucket``/quantile lines plus ``_sum`` and
  ``_count`` of one timestamp) is contiguous, and the MetricPoints follow each
  other in time order.
* Label names inside ``{}`` are sorted; ``le``/``quantile`` values use the
  OpenMetrics canonical form (``"1.0"``, ``"+Inf"``, ``"0.25"``).
* The file ends with ``# EOF\\n``.  There are no blank lines (promtool rejects
  them).

Series per host (instance="hostNN:9100", job="node")
----------------------------------------------------
With C CPUs per host (4..8, drawn per host): 10*C + 71 series, i.e. 111..151,
about 131 on average:

* node_cpu_seconds_total{cpu,mode}   8 modes x C  (counter, 0.01 s resolution)
* node_cpu_guest_seconds_total{cpu,mode=nice|user} 2 x C (always 0 in realistic)
* node_memory_{MemTotal,MemFree,MemAvailable,Buffers,Cached,Active,Inactive,
  Dirty,Slab,SwapTotal,SwapFree}_bytes                      11 (integer gauges)
* node_load1/5/15                                            3 (2 decimals)
* node_network_{receive,transmit}_bytes_total{device=eth0|eth1|lo} 6 (integer)
* node_disk_{read_bytes,written_bytes,io_time_seconds}_total{device=sda|sdb} 6
* node_filesystem_{avail,size}_bytes{device,fstype,mountpoint} x 3 mounts 6
* node_boot_time_seconds, node_time_seconds, up, scrape_duration_seconds 4
* go_goroutines, process_resident_memory_bytes, process_cpu_seconds_total,
  node_context_switches_total, node_procs_running            5
* prometheus_http_request_duration_seconds histogram, 2 handlers x
  (8 buckets + _sum + _count)                                20
* go_gc_duration_seconds summary (5 quantiles + _sum + _count) 7
* recording-rule outputs (full-precision float gauges, node-mixin names):
  instance:node_cpu_utilisation:rate5m, instance:node_memory_utilisation:ratio,
  instance:node_load1_per_cpu:ratio                          3

Every series has exactly one sample per interval: N = hours*3600/interval
samples (1440 for 6 h at 15 s).  Defaults (10 hosts, 6 h, 15 s) give about
1.3k series and 1.9M samples per set.

Timestamps
----------
Each host has its own 15 s grid: ``start + phase_h + k*interval`` where phase_h
is an integer number of milliseconds drawn uniformly from [1000, 14000) per
host (Prometheus spreads targets over the interval the same way; --no-phase
puts every host on ``start + k*interval``).  The three recording-rule series of
all hosts share one more grid (one rule group evaluation writes them all),
with its own phase.  By default the jitter is drawn once per scrape (per rule
evaluation), so all samples of one scrape share one timestamp, as in
Prometheus; --jitter-per-sample draws it for every sample instead.

* realistic: each scrape lands exactly on the grid with probability 0.9;
  otherwise it is off by d ms, d uniform in {1,2,3,4,5}, late (+d) with
  probability 0.8 and early (-d) with probability 0.2.  So 90 % of the
  timestamp deltas are exactly 15000 ms and the rest are 15000 +- 1..10 ms.
* noisy: offset uniform over the integers [-300, +300] ms for every scrape.

All timestamps lie in [start, start + hours) (the phase is >= 1 s, larger than
any jitter), so block boundaries aligned to 2 h / 6 h / 18 h start at
``start`` when start is aligned (the default 2026-01-01T00:00:00Z is a
multiple of 18 h).

Values
------
realistic (node_exporter-like):
* CPU counters in 0.01 s steps: per 15 s and CPU idle grows by ~14.x s
  (15 s minus busy time, with the interval jitter folded in), user/system by a
  utilisation profile (slow sine + AR(1) noise per host), iowait/softirq small
  and often 0, irq/steal/nice/guest mostly or always 0.
* memory gauges in 4096-byte pages: MemTotal/SwapTotal constant, SwapFree
  almost constant, the others random-walk and change in 40-95 % of scrapes;
  MemAvailable is derived from MemFree/Cached/Buffers.
* load averages: exponentially-damped averages of a Poisson run-queue sampled
  every 5 s, printed with 2 decimals.
* network byte counters: integer, varying increments (log-normal around a
  per-device rate); disk read bytes often unchanged, written bytes mostly
  growing, io_time in 1 ms steps.
* filesystem size constant, avail moving slowly in 4096-byte steps (/boot
  constant); boot time constant; node_time_seconds == scrape timestamp;
  up == 1; scrape_duration_seconds a full-precision float (ns / 1e9).
* histogram: /metrics gets exactly one request per scrape, /api/v1/query a
  Poisson number (often 0, so all its lines repeat); _sum is a float sum.
* summary: quantiles over the last 256 GC pauses; they only change when a GC
  happened in the interval (about half of the intervals).
* recording rules: full-precision floats, change at every evaluation.

noisy (same families, labels and sample counts): every value of every series
changes at every sample.  Counters increase by at least one unit of their
resolution with wide variation, gauges random-walk at their natural resolution
with a non-zero step (MemTotal, sizes, boot time included; ``up`` alternates
1/0), histograms get at least one observation <= the smallest bucket per
interval (so every cumulative bucket moves), summary quantiles are computed
from the pauses of the interval only, and node_time_seconds is the timestamp
plus a sub-ms latency as a full-precision float.

Number formats: counters/gauges of integer nature are printed as integers,
0.01-resolution values as ``%d.%02d``, ms-resolution seconds as ``%d.%03d``,
full-precision floats with Python repr() (shortest round-trip form, which Go's
ParseFloat reads back bit-identically).
"""

import argparse
import json
import math
import random
import sys
import time

DEFAULT_START = 1767225600  # 2026-01-01T00:00:00Z, a multiple of 18 h (and 2 h, 6 h)
MODES = ("idle", "iowait", "irq", "nice", "softirq", "steal", "system", "user")
PAGE = 4096


# ---------------------------------------------------------------- formatting
def f_c2(v):
    """Integer hundredths -> '123.45'."""
    return "%d.%02d" % divmod(v, 100)


def f_ms(v):
    """Integer milliseconds -> '123.456' (seconds)."""
    return "%d.%03d" % divmod(v, 1000)


def f_int(v):
    return str(v)


def f_float(v):
    return repr(float(v))


def labelstr(d):
    if not d:
        return ""
    return "{" + ",".join('%s="%s"' % (k, d[k]) for k in sorted(d)) + "}"


# ---------------------------------------------------------------- helpers
def poisson(rng, lam):
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, int(round(rng.gauss(lam, math.sqrt(lam)))))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def cumulate(start, incs):
    out, v = [], start
    for i, d in enumerate(incs):
        if i:
            v += d
        out.append(v)
    return out


def walk(rng, n, start, lo, hi, p_change, step, noisy):
    """Integer random walk; step() returns a step, reflected at the bounds.
    noisy: a change at every sample and never a zero step."""
    out, v = [], start
    for k in range(n):
        if k and (noisy or rng.random() < p_change):
            s = step()
            if s == 0:
                s = rng.choice((-1, 1))
            nv = v + s
            if nv < lo or nv > hi:
                nv = v - s
            if nv < lo or nv > hi:  # still outside (huge step): small move inwards
                nv = v + (1 if v <= lo else -1)
            v = nv
        out.append(v)
    return out


def force_change(vals):
    """Make consecutive integer values differ (noisy set)."""
    for k in range(1, len(vals)):
        if vals[k] == vals[k - 1]:
            vals[k] += 1
    return vals


# ---------------------------------------------------------------- generator
class Gen:
    def __init__(self, a):
        self.a = a
        self.noisy = a.set == "noisy"
        self.n = int(round(a.hours * 3600 / a.interval))
        if self.n < 2:
            sys.exit("need at least 2 samples per series (hours/interval)")
        self.iv_ms = int(round(a.interval * 1000))
        self.start_ms = a.start * 1000
        self.series = 0
        self.samples = 0
        self.lines = 0
        self.bytes = 0
        self.hosts = [self.make_host(i) for i in range(a.hosts)]
        self.rule_ts = self.make_grid(self.rng_common("rules-phase"), self.rng("rules-jitter"))

    def rng(self, *parts):
        """RNG for one model; independent of the order in which things are generated."""
        return random.Random(":".join(str(p) for p in (self.a.seed, self.a.set) + parts))

    def rng_common(self, *parts):
        """RNG shared by both sets: host shapes (CPUs, RAM, uptime, phase, utilisation)."""
        return random.Random(":".join(str(p) for p in (self.a.seed, "common") + parts))

    # --- timestamps
    def offset(self, rng):
        if self.noisy:
            return rng.randint(-300, 300)
        if rng.random() < 0.9:
            return 0
        d = rng.randint(1, 5)
        return d if rng.random() < 0.8 else -d

    def make_grid(self, prng, rng):
        phase = 0 if self.a.no_phase else prng.randrange(1000, 14000)
        base = self.start_ms + phase
        if self.a.no_phase and self.noisy:
            base += 300  # keep every timestamp >= start
        elif self.a.no_phase:
            base += 5
        ms = [base + k * self.iv_ms + self.offset(rng) for k in range(self.n)]
        return {"base": base, "ms": ms, "str": [f_ms(t) for t in ms]}

    def series_ts(self, grid, key):
        """Timestamp strings for one series (shared unless --jitter-per-sample)."""
        if not self.a.jitter_per_sample:
            return grid["str"]
        rng = self.rng("ts", key)
        b = grid["base"]
        return [f_ms(b + k * self.iv_ms + self.offset(rng)) for k in range(self.n)]

    # --- per-host context
    def make_host(self, i):
        rng = self.rng_common("host", i)
        width = max(2, len(str(self.a.hosts)))
        h = {
            "idx": i,
            "name": "host%0*d" % (width, i + 1),
            "ncpu": rng.randint(4, 8),
            "uptime": rng.randint(3600 * 6, 86400 * 90),
            "ram_gib": rng.choice((4, 8, 16, 16, 32, 64)),
        }
        h["instance"] = h["name"] + ":9100"
        h["grid"] = self.make_grid(rng, self.rng("jitter", i))
        ms = h["grid"]["ms"]
        h["dt"] = [self.iv_ms] + [ms[k] - ms[k - 1] for k in range(1, self.n)]
        # utilisation profile: base * (1 + 0.4 sin) + AR(1) noise, in [0.005, 0.95]
        base = rng.uniform(0.03, 0.35)
        period = rng.uniform(2, 8) * 3600 / self.a.interval
        ph = rng.uniform(0, 2 * math.pi)
        ar, util = 0.0, []
        for k in range(self.n):
            ar = 0.9 * ar + rng.gauss(0, 0.03)
            u = base * (1 + 0.4 * math.sin(2 * math.pi * k / period + ph)) + ar * base
            util.append(min(0.95, max(0.005, u)))
        h["util"] = util
        h["labels"] = {"instance": h["instance"], "job": "node"}
        h["cache"] = {}
        return h

    def hl(self, h, **extra):
        d = dict(h["labels"])
        d.update(extra)
        return d

    # --- shared per-host models (cached: used by several families)
    def memory(self, h):
        c = h["cache"]
        if "mem" in c:
            return c["mem"]
        rng, n, noisy = self.rng("mem", h["idx"]), self.n, self.noisy
        total = h["ram_gib"] * 262144 - rng.randint(20000, 60000)  # pages
        m = {}
        m["MemTotal"] = walk(rng, n, total, 1, 2 * total, 0.0, lambda: rng.randint(-4, 4), noisy)

        def g(name, frac_lo, frac_hi, p, sd, lo_f=0.0, hi_f=0.9):
            start = int(total * rng.uniform(frac_lo, frac_hi))
            sdx = sd * (3 if noisy else 1)
            m[name] = walk(rng, n, start, int(total * lo_f), int(total * hi_f), p,
                           lambda: int(round(rng.gauss(0, sdx))), noisy)

        g("MemFree", 0.10, 0.50, 0.95, 1500, 0.02, 0.80)
        g("Buffers", 0.01, 0.05, 0.40, 40, 0.001, 0.10)
        g("Cached", 0.20, 0.45, 0.70, 800, 0.05, 0.70)
        g("Active", 0.20, 0.40, 0.85, 1000, 0.05, 0.80)
        g("Inactive", 0.10, 0.30, 0.60, 600, 0.02, 0.60)
        g("Slab", 0.02, 0.06, 0.50, 25, 0.005, 0.20)
        m["Dirty"] = walk(rng, n, rng.randint(0, 5000), 0, 30000, 0.9,
                          lambda: int(round(rng.gauss(0, 500 * (3 if noisy else 1)))), noisy)
        swap = rng.choice((0, 0, 524288, 1048576))
        m["SwapTotal"] = walk(rng, n, swap, 0, 2097152, 0.0, lambda: rng.randint(-4, 4), noisy)
        used = rng.randint(0, swap // 50) if swap else 0
        m["SwapFree"] = walk(rng, n, swap - used, 0, 2097152, 0.005,
                             lambda: rng.randint(-20, 20), noisy)
        m["MemAvailable"] = [
            min(m["MemTotal"][k], m["MemFree"][k] + (m["Cached"][k] * 7) // 10 + m["Buffers"][k])
            for k in range(n)
        ]
        if noisy:
            force_change(m["MemAvailable"])
        c["mem"] = m
        return m

    def load(self, h):
        c = h["cache"]
        if "load" in c:
            return c["load"]
        rng, ncpu = self.rng("load", h["idx"]), h["ncpu"]
        e = [math.exp(-5.0 / 60), math.exp(-5.0 / 300), math.exp(-5.0 / 900)]
        l0 = h["util"][0] * ncpu * 1.2
        la = [l0, l0, l0]
        out = ([], [], [])
        for k in range(self.n):
            lam = h["util"][k] * ncpu * 1.2 + 0.05
            for _ in range(3):  # the kernel updates every 5 s
                r = poisson(rng, lam)
                la = [la[i] * e[i] + r * (1 - e[i]) for i in range(3)]
            for i in range(3):
                out[i].append(int(round(la[i] * 100)))
        if self.noisy:
            for o in out:
                force_change(o)
        c["load"] = out
        return out

    # --- emitting
    def emit(self, w, prefixes, cols, ts):
        """One series / MetricPoint group: prefixes[j] + cols[j][k] + ' ' + ts[k]."""
        npfx = len(prefixes)
        if npfx == 1:
            p = prefixes[0]
            buf = "".join([p + v + " " + t + "\n" for v, t in zip(cols[0], ts)])
        else:
            parts = []
            for k in range(self.n):
                t = " " + ts[k] + "\n"
                for j in range(npfx):
                    parts.append(prefixes[j] + cols[j][k] + t)
            buf = "".join(parts)
        w(buf)
        self.series += npfx
        self.samples += npfx * self.n
        self.lines += npfx * self.n
        self.bytes += len(buf)

    def simple(self, w, name, labels, vals, ts):
        self.emit(w, [name + labelstr(labels) + " "], [vals], ts)

    # --- families (name, type, help, function(w, host))
    def fam_cpu(self, w, h):
        rng, noisy, n = self.rng("cpu", h["idx"]), self.noisy, self.n
        for cpu in range(h["ncpu"]):
            skew = rng.uniform(0.7, 1.3) * (1.3 if cpu == 0 else 1.0)
            up = h["uptime"] * 100  # ticks
            b0 = h["util"][0] * skew
            start = {
                "idle": int(up * (1 - b0) * rng.uniform(0.97, 0.99)),
                "user": int(up * b0 * 0.62),
                "system": int(up * b0 * 0.28),
                "iowait": int(up * rng.uniform(0.0005, 0.005)),
                "softirq": int(up * rng.uniform(0.0005, 0.003)),
                "irq": 0 if rng.random() < 0.7 else int(up * 0.0001),
                "steal": int(up * rng.uniform(0, 0.001)),
                "nice": int(up * rng.uniform(0, 0.0005)),
            }
            inc = {m: [] for m in MODES}
            for k in range(n):
                T = h["dt"][k] / 10.0  # ticks in this interval
                busy = h["util"][k] * skew * T
                if noisy:
                    user = max(1, int(round(busy * 0.62 + rng.gauss(0, 0.3 * busy + 20))))
                    system = max(1, int(round(busy * 0.28 + rng.gauss(0, 0.3 * busy + 10))))
                    small = {m: rng.randint(1, 30) for m in ("iowait", "softirq", "irq", "steal", "nice")}
                    idle = max(1, int(round(T - user - system - sum(small.values()))) + rng.randint(-40, 40))
                else:
                    user = max(0, int(round(busy * 0.62 + rng.gauss(0, 0.08 * busy + 1))))
                    system = max(0, int(round(busy * 0.28 + rng.gauss(0, 0.05 * busy + 1))))
                    small = {
                        "iowait": 0 if rng.random() < 0.5 else int(rng.expovariate(1 / 4.0)),
                        "softirq": 0 if rng.random() < 0.4 else rng.randint(1, 3 + int(busy * 0.03)),
                        "irq": 0 if rng.random() < 0.97 else 1,
                        "steal": 0 if rng.random() < 0.9 else rng.randint(1, 4),
                        "nice": 0 if rng.random() < 0.95 else rng.randint(1, 3),
                    }
                    idle = max(0, int(round(T - user - system - sum(small.values()))) + rng.randint(-3, 3))
                inc["user"].append(user)
                inc["system"].append(system)
                inc["idle"].append(idle)
                for m, v in small.items():
                    inc[m].append(v)
            for m in MODES:
                vals = [f_c2(v) for v in cumulate(start[m], inc[m])]
                self.simple(w, "node_cpu_seconds_total", self.hl(h, cpu=str(cpu), mode=m), vals,
                            self.series_ts(h["grid"], ("cpu", h["idx"], cpu, m)))

    def fam_cpu_guest(self, w, h):
        rng = self.rng("guest", h["idx"])
        for cpu in range(h["ncpu"]):
            for m in ("nice", "user"):
                if self.noisy:
                    vals = cumulate(rng.randint(0, 10000), [rng.randint(1, 20) for _ in range(self.n)])
                else:
                    vals = [0] * self.n
                self.simple(w, "node_cpu_guest_seconds_total", self.hl(h, cpu=str(cpu), mode=m),
                            [f_c2(v) for v in vals], self.series_ts(h["grid"], ("guest", h["idx"], cpu, m)))

    def fam_memory(self, key):
        def f(w, h):
            vals = [f_int(p * PAGE) for p in self.memory(h)[key]]
            self.simple(w, "node_memory_%s_bytes" % key, h["labels"], vals,
                        self.series_ts(h["grid"], ("mem", h["idx"], key)))
        return f

    def fam_load(self, i, name):
        def f(w, h):
            vals = [f_c2(v) for v in self.load(h)[i]]
            self.simple(w, name, h["labels"], vals, self.series_ts(h["grid"], (name, h["idx"])))
        return f

    def fam_net(self, direction):
        def f(w, h):
            rng, noisy = self.rng("net", direction, h["idx"]), self.noisy
            for dev, lo_e, hi_e in (("eth0", 4.0, 6.5), ("eth1", 2.5, 4.5), ("lo", 3.0, 4.5)):
                rate = 10 ** rng.uniform(lo_e, hi_e)
                sigma = 1.0 if noisy else 0.5
                p_zero = 0.0 if noisy else (0.3 if dev == "eth1" else 0.0)
                incs = []
                for k in range(self.n):
                    if rng.random() < p_zero:
                        incs.append(0)
                        continue
                    u = h["util"][k] / 0.2
                    v = int(rate * h["dt"][k] / 1000.0 * (0.5 + u) * rng.lognormvariate(0, sigma))
                    incs.append(max(1, v) if noisy else max(0, v))
                start = int(rate * h["uptime"] * rng.uniform(0.5, 1.5))
                vals = [f_int(v) for v in cumulate(start, incs)]
                self.simple(w, "node_network_%s_bytes_total" % direction, self.hl(h, device=dev),
                            vals, self.series_ts(h["grid"], ("net", direction, h["idx"], dev)))
        return f

    def fam_disk(self, what):
        def f(w, h):
            rng, noisy = self.rng("disk", what, h["idx"]), self.noisy
            for dev in ("sda", "sdb"):
                incs = []
                scale = rng.uniform(0.3, 3.0)
                for k in range(self.n):
                    u = h["util"][k]
                    if what == "read_bytes":
                        if not noisy and rng.random() < 0.75:
                            incs.append(0)
                        else:
                            incs.append(PAGE * (1 + int(rng.expovariate(1 / (50.0 * scale)))))
                    elif what == "written_bytes":
                        if not noisy and rng.random() < 0.1:
                            incs.append(0)
                        else:
                            incs.append(PAGE * (1 + int(rng.expovariate(1 / (300.0 * scale)))))
                    else:  # io_time_seconds, in ms
                        if not noisy and rng.random() < 0.2:
                            incs.append(0)
                        else:
                            v = int(rng.expovariate(1 / (u * 200 * scale + 5)))
                            incs.append(max(1, v) if noisy else v)
                if what == "io_time_seconds":
                    start = int(h["uptime"] * rng.uniform(1, 20))  # ms
                    vals = [f_ms(v) for v in cumulate(start, incs)]
                else:
                    start = PAGE * int(h["uptime"] * rng.uniform(1, 200))
                    vals = [f_int(v) for v in cumulate(start, incs)]
                self.simple(w, "node_disk_%s_total" % what, self.hl(h, device=dev), vals,
                            self.series_ts(h["grid"], ("disk", what, h["idx"], dev)))
        return f

    FS = (("/dev/sda1", "ext4", "/"), ("/dev/sdb1", "xfs", "/var"), ("/dev/sda2", "ext4", "/boot"))

    def fs_model(self, h):
        c = h["cache"]
        if "fs" in c:
            return c["fs"]
        rng, noisy = self.rng("fs", h["idx"]), self.noisy
        out = {}
        for dev, fstype, mp in self.FS:
            size = {"/": rng.choice((20, 40, 80)) * 262144 - rng.randint(1000, 50000),
                    "/var": rng.choice((50, 100, 200)) * 262144 - rng.randint(1000, 50000),
                    "/boot": 262144 - rng.randint(1000, 20000)}[mp]
            sizes = walk(rng, self.n, size, 1, 2 * size, 0.0, lambda: rng.randint(-4, 4), noisy)
            p = {"/": 0.5, "/var": 0.8, "/boot": 0.0}[mp]
            sd = {"/": 16, "/var": 64, "/boot": 1}[mp]

            def step(sd=sd):
                return -abs(int(rng.gauss(0, sd))) if rng.random() < 0.8 else int(abs(rng.gauss(0, 4 * sd)))

            avail = walk(rng, self.n, int(size * rng.uniform(0.2, 0.8)), 0, size, p, step, noisy)
            out[mp] = (sizes, avail)
        c["fs"] = out
        return out

    def fam_fs(self, which):
        def f(w, h):
            model = self.fs_model(h)
            for dev, fstype, mp in self.FS:
                vals = [f_int(p * PAGE) for p in model[mp][0 if which == "size" else 1]]
                self.simple(w, "node_filesystem_%s_bytes" % which,
                            self.hl(h, device=dev, fstype=fstype, mountpoint=mp), vals,
                            self.series_ts(h["grid"], ("fs", which, h["idx"], mp)))
        return f

    def fam_boot_time(self, w, h):
        rng = self.rng("boot", h["idx"])
        bt = self.a.start - h["uptime"]
        vals = walk(rng, self.n, bt, 0, 2 * bt, 0.0, lambda: rng.randint(-3, 3), self.noisy)
        self.simple(w, "node_boot_time_seconds", h["labels"], [f_int(v) for v in vals],
                    self.series_ts(h["grid"], ("boot", h["idx"])))

    def fam_time(self, w, h):
        ts = self.series_ts(h["grid"], ("time", h["idx"]))
        if self.noisy:
            rng = self.rng("time", h["idx"])
            vals = [f_float(float(t) + rng.uniform(0.0002, 0.004)) for t in ts]
        else:
            vals = list(ts)  # == scrape timestamp
        self.simple(w, "node_time_seconds", h["labels"], vals, ts)

    def fam_up(self, w, h):
        vals = ["1" if (k % 2 == 0 or not self.noisy) else "0" for k in range(self.n)]
        self.simple(w, "up", h["labels"], vals, self.series_ts(h["grid"], ("up", h["idx"])))

    def fam_scrape_duration(self, w, h):
        rng = self.rng("scrape_dur", h["idx"])
        med = rng.uniform(0.008, 0.05)
        vals = [f_float(int(med * 1e9 * rng.lognormvariate(0, 0.3)) / 1e9) for _ in range(self.n)]
        self.simple(w, "scrape_duration_seconds", h["labels"], vals,
                    self.series_ts(h["grid"], ("scrape_dur", h["idx"])))

    def fam_goroutines(self, w, h):
        rng = self.rng("goroutines", h["idx"])
        vals = walk(rng, self.n, rng.randint(8, 40), 5, 200, 0.3,
                    lambda: rng.choice((-1, 1)) * rng.randint(1, 5 if self.noisy else 3), self.noisy)
        self.simple(w, "go_goroutines", h["labels"], [f_int(v) for v in vals],
                    self.series_ts(h["grid"], ("goroutines", h["idx"])))

    def fam_rss(self, w, h):
        rng = self.rng("rss", h["idx"])
        vals = walk(rng, self.n, rng.randint(3000, 8000), 1000, 50000, 0.8,
                    lambda: int(rng.gauss(0, 30)), self.noisy)
        self.simple(w, "process_resident_memory_bytes", h["labels"], [f_int(v * PAGE) for v in vals],
                    self.series_ts(h["grid"], ("rss", h["idx"])))

    def fam_proc_cpu(self, w, h):
        rng = self.rng("proc_cpu", h["idx"])
        incs = [rng.randint(1, 20) if self.noisy else rng.choice((0, 0, 1, 1, 1, 2, 2, 3, 4))
                for _ in range(self.n)]
        vals = cumulate(int(h["uptime"] * rng.uniform(0.5, 2)), incs)
        self.simple(w, "process_cpu_seconds_total", h["labels"], [f_c2(v) for v in vals],
                    self.series_ts(h["grid"], ("proc_cpu", h["idx"])))

    def fam_ctxt(self, w, h):
        rng = self.rng("ctxt", h["idx"])
        sigma = 0.8 if self.noisy else 0.2
        incs = [max(1, int(h["ncpu"] * h["dt"][k] / 1000.0 * (200 + 3000 * h["util"][k])
                           * rng.lognormvariate(0, sigma))) for k in range(self.n)]
        vals = cumulate(int(h["uptime"] * h["ncpu"] * rng.uniform(300, 1500)), incs)
        self.simple(w, "node_context_switches_total", h["labels"], [f_int(v) for v in vals],
                    self.series_ts(h["grid"], ("ctxt", h["idx"])))

    def fam_procs_running(self, w, h):
        rng = self.rng("procs_running", h["idx"])
        vals = [1 + poisson(rng, h["util"][k] * h["ncpu"]) for k in range(self.n)]
        if self.noisy:
            force_change(vals)
        self.simple(w, "node_procs_running", h["labels"], [f_int(v) for v in vals],
                    self.series_ts(h["grid"], ("procs_running", h["idx"])))

    BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)
    LE = ("0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "1.0", "+Inf")

    def fam_http_hist(self, w, h):
        name = "prometheus_http_request_duration_seconds"
        for handler, med, lam in (("/api/v1/query", 0.03, None), ("/metrics", 0.008, 1)):
            rng = self.rng("hist", h["idx"], handler)
            qlam = rng.uniform(0, 3)
            nb = len(self.BUCKETS)
            counts = sorted(rng.randint(0, 50000) for _ in range(nb + 1))  # cumulative => monotonic
            total_sum = sum(counts) * med / 5.0
            cols = [[] for _ in range(nb + 3)]
            for k in range(self.n):
                if k:
                    if handler == "/metrics":
                        obs = [med * rng.lognormvariate(0, 0.4)]
                    else:
                        obs = [med * rng.lognormvariate(0, 1.0) for _ in range(poisson(rng, qlam))]
                    if self.noisy:
                        obs.append(rng.uniform(0.0001, self.BUCKETS[0]))
                        obs += [med * rng.lognormvariate(0, 1.0) for _ in range(poisson(rng, 2))]
                    for d in obs:
                        d = int(d * 1e9) / 1e9  # ns resolution, like time.Since().Seconds()
                        total_sum += d
                        for j, le in enumerate(self.BUCKETS):
                            if d <= le:
                                counts[j] += 1
                        counts[nb] += 1
                for j in range(nb + 1):
                    cols[j].append(f_int(counts[j]))
                cols[nb + 1].append(f_float(total_sum))
                cols[nb + 2].append(f_int(counts[nb]))
            lb = self.hl(h, handler=handler)
            prefixes = [name + "_bucket" + labelstr(dict(lb, le=le)) + " " for le in self.LE]
            prefixes += [name + "_sum" + labelstr(lb) + " ", name + "_count" + labelstr(lb) + " "]
            self.emit(w, prefixes, cols, self.series_ts(h["grid"], ("hist", h["idx"], handler)))

    QUANTILES = ("0.0", "0.25", "0.5", "0.75", "1.0")

    def fam_gc_summary(self, w, h):
        name = "go_gc_duration_seconds"
        rng = self.rng("gc", h["idx"])
        med = rng.uniform(20e-6, 80e-6)

        def pause():
            return int(med * 1e9 * rng.lognormvariate(0, 0.5)) / 1e9

        window = [pause() for _ in range(256)]
        count = rng.randint(1000, 100000)
        total = sum(window) * count / 256.0
        cols = [[] for _ in range(7)]
        qs = None
        for k in range(self.n):
            new = []
            if k == 0 or self.noisy:
                new = [pause() for _ in range(4 + poisson(rng, 1))]
            elif rng.random() < 0.5:
                new = [pause() for _ in range(1 + poisson(rng, 0.5))]
            for p in new:
                total += p
            count += len(new) if k else 0
            if new or qs is None:
                if self.noisy:
                    src = sorted(new)
                else:
                    window = (window + new)[-256:]
                    src = sorted(window)
                nq = [src[int(round(q * (len(src) - 1)))] for q in (0, 0.25, 0.5, 0.75, 1)]
                if self.noisy and qs is not None:  # never repeat a value (1 ns nudge)
                    nq = [v + 1e-9 if v == o else v for v, o in zip(nq, qs)]
                qs = nq
            for j in range(5):
                cols[j].append(f_float(qs[j]))
            cols[5].append(f_float(total))
            cols[6].append(f_int(count))
        lb = h["labels"]
        prefixes = [name + labelstr(dict(lb, quantile=q)) + " " for q in self.QUANTILES]
        prefixes += [name + "_sum" + labelstr(lb) + " ", name + "_count" + labelstr(lb) + " "]
        self.emit(w, prefixes, cols, self.series_ts(h["grid"], ("gc", h["idx"])))

    def fam_rule_cpu(self, w, h):
        rng = self.rng("rule_cpu", h["idx"])
        vals = [f_float(min(1.0, u * (1 + rng.gauss(0, 0.03)))) for u in h["util"]]
        self.simple(w, "instance:node_cpu_utilisation:rate5m", h["labels"], vals,
                    self.series_ts(self.rule_ts, ("rule_cpu", h["idx"])))

    def fam_rule_mem(self, w, h):
        m = self.memory(h)
        vals = [f_float(1 - m["MemAvailable"][k] / m["MemTotal"][k]) for k in range(self.n)]
        self.simple(w, "instance:node_memory_utilisation:ratio", h["labels"], vals,
                    self.series_ts(self.rule_ts, ("rule_mem", h["idx"])))

    def fam_rule_load(self, w, h):
        vals = [f_float((v / 100.0) / h["ncpu"]) for v in self.load(h)[0]]
        self.simple(w, "instance:node_load1_per_cpu:ratio", h["labels"], vals,
                    self.series_ts(self.rule_ts, ("rule_load", h["idx"])))

    def families(self):
        F = [
            ("go_gc_duration_seconds", "summary", "A summary of the pause duration of garbage collection cycles.", self.fam_gc_summary),
            ("go_goroutines", "gauge", "Number of goroutines that currently exist.", self.fam_goroutines),
            ("instance:node_cpu_utilisation:rate5m", "gauge", "Recording rule.", self.fam_rule_cpu),
            ("instance:node_load1_per_cpu:ratio", "gauge", "Recording rule.", self.fam_rule_load),
            ("instance:node_memory_utilisation:ratio", "gauge", "Recording rule.", self.fam_rule_mem),
            ("node_boot_time_seconds", "gauge", "Node boot time, in unixtime.", self.fam_boot_time),
            ("node_context_switches", "counter", "Total number of context switches.", self.fam_ctxt),
            ("node_cpu_guest_seconds", "counter", "Seconds the CPUs spent in guests (VMs) for each mode.", self.fam_cpu_guest),
            ("node_cpu_seconds", "counter", "Seconds the CPUs spent in each mode.", self.fam_cpu),
            ("node_disk_io_time_seconds", "counter", "Total seconds spent doing I/Os.", self.fam_disk("io_time_seconds")),
            ("node_disk_read_bytes", "counter", "The total number of bytes read successfully.", self.fam_disk("read_bytes")),
            ("node_disk_written_bytes", "counter", "The total number of bytes written successfully.", self.fam_disk("written_bytes")),
            ("node_filesystem_avail_bytes", "gauge", "Filesystem space available to non-root users in bytes.", self.fam_fs("avail")),
            ("node_filesystem_size_bytes", "gauge", "Filesystem size in bytes.", self.fam_fs("size")),
            ("node_load1", "gauge", "1m load average.", self.fam_load(0, "node_load1")),
            ("node_load15", "gauge", "15m load average.", self.fam_load(2, "node_load15")),
            ("node_load5", "gauge", "5m load average.", self.fam_load(1, "node_load5")),
        ]
        for key in ("Active", "Buffers", "Cached", "Dirty", "Inactive", "MemAvailable", "MemFree",
                    "MemTotal", "Slab", "SwapFree", "SwapTotal"):
            F.append(("node_memory_%s_bytes" % key, "gauge", "Memory information field %s_bytes." % key,
                      self.fam_memory(key)))
        F += [
            ("node_network_receive_bytes", "counter", "Network device statistic receive_bytes.", self.fam_net("receive")),
            ("node_network_transmit_bytes", "counter", "Network device statistic transmit_bytes.", self.fam_net("transmit")),
            ("node_procs_running", "gauge", "Number of processes in runnable state.", self.fam_procs_running),
            ("node_time_seconds", "gauge", "System time in seconds since epoch (1970).", self.fam_time),
            ("process_cpu_seconds", "counter", "Total user and system CPU time spent in seconds.", self.fam_proc_cpu),
            ("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", self.fam_rss),
            ("prometheus_http_request_duration_seconds", "histogram", "Histogram of latencies for HTTP requests.", self.fam_http_hist),
            ("scrape_duration_seconds", "gauge", "Duration of the scrape.", self.fam_scrape_duration),
            ("up", "gauge", "1 if the target is reachable.", self.fam_up),
        ]
        F.sort(key=lambda f: f[0])
        return F

    def run(self, out):
        w = out.write
        for fam, typ, help_, fn in self.families():
            hdr = "# HELP %s %s\n# TYPE %s %s\n" % (fam, help_, fam, typ)
            w(hdr)
            self.bytes += len(hdr)
            for h in self.hosts:
                fn(w, h)
        w("# EOF\n")
        self.bytes += 6


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--set", choices=("realistic", "noisy"), default="realistic")
    ap.add_argument("--hosts", type=int, default=10)
    ap.add_argument("--hours", type=float, default=6.0)
    ap.add_argument("--interval", type=float, default=15.0, help="scrape interval in seconds")
    ap.add_argument("--start", type=int, default=DEFAULT_START,
                    help="unix seconds (default 1767225600 = 2026-01-01T00:00:00Z)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--jitter-per-sample", action="store_true",
                    help="draw the timestamp jitter per sample instead of per scrape")
    ap.add_argument("--no-phase", action="store_true",
                    help="no per-host phase: every grid starts at --start (+5 ms / +300 ms margin)")
    ap.add_argument("-o", "--output", default="-", help="output file (default stdout)")
    ap.add_argument("--stats", help="also write the summary as a JSON object to this file")
    a = ap.parse_args()
    if a.hosts < 1 or a.interval <= 0 or a.hours <= 0:
        ap.error("--hosts, --hours and --interval must be positive")

    t0 = time.time()
    g = Gen(a)
    if a.output == "-":
        g.run(sys.stdout)
        sys.stdout.flush()
    else:
        with open(a.output, "w", buffering=1 << 20) as f:
            g.run(f)
    stats = {
        "set": a.set, "hosts": a.hosts, "hours": a.hours, "interval": a.interval,
        "start": a.start, "seed": a.seed, "jitter_per_sample": a.jitter_per_sample,
        "no_phase": a.no_phase, "samples_per_series": g.n,
        "series": g.series, "samples": g.samples, "bytes": g.bytes,
        "min_ts_ms": min(min(h["grid"]["ms"]) for h in g.hosts + [{"grid": g.rule_ts}]),
        "max_ts_ms": max(max(h["grid"]["ms"]) for h in g.hosts + [{"grid": g.rule_ts}]),
        "gen_seconds": round(time.time() - t0, 2),
    }
    if a.jitter_per_sample:  # the grids do not bound per-sample jitter exactly
        del stats["min_ts_ms"], stats["max_ts_ms"]
    if a.stats:
        with open(a.stats, "w") as f:
            json.dump(stats, f)
            f.write("\n")
    print("gen_openmetrics: set=%s hosts=%d hours=%g interval=%gs series=%d samples=%d bytes=%d (%.1fs)"
          % (a.set, a.hosts, a.hours, a.interval, g.series, g.samples, g.bytes, stats["gen_seconds"]),
          file=sys.stderr)


if __name__ == "__main__":
    main()
