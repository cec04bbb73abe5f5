#!/usr/bin/env python3
"""Query latency and memory: the same PromQL against promlet and Prometheus over HTTP.

Run by ``bench/query_bench.sh``, which loads the same data into both and starts the servers;
this script only sends the queries and measures.  Standard library only.

    query_bench.py --promlet HOST:PORT --promlet-pid PID \\
                   --prometheus HOST:PORT --prometheus-pid PID \\
                   --start UNIX_S --end UNIX_S [--runs 10] [--warmup 2] [--json FILE]

For every query: ``--warmup`` unmeasured runs on each server, then ``--runs`` measured rounds;
each round runs the query once on each server, alternating which goes first.  Wall time is
measured client-side around one HTTP request on a kept-alive connection (request sent, whole
body read).  Every answer must be ``"status":"success"``; the number of series in both answers
is compared and a mismatch is reported.

Memory: the peak RSS of each server during the range-query set.  Before the set, the kernel's
high-water mark is reset (``echo 5 > /proc/PID/clear_refs``), after it ``VmHWM`` is read; a
sampler also polls ``VmRSS``/``RssAnon``/``RssFile`` every 20 ms, because Prometheus maps its
chunk files and file-backed pages count towards its RSS (promlet reads files through the page
cache, outside its RSS).

The sampler also counts running ``rustc``/``cargo`` processes, to tell whether the run overlapped
with builds on this shared machine.
"""

import argparse
import http.client
import json
import os
import statistics
import sys
import threading
import time
import urllib.parse

# (name, query) pairs.  Metric names are those of gen_openmetrics.py --set realistic.
QUERIES = [
    ("sum rate", "sum(rate(node_cpu_seconds_total[5m]))"),
    ("sum by mode rate", "sum by (mode) (rate(node_cpu_seconds_total[5m]))"),
    ("sum by instance rate", "sum by (instance) (rate(node_network_receive_bytes_total[5m]))"),
    ("sum by job rate", "sum by (job) (rate(node_cpu_seconds_total[5m]))"),
    ("topk 10", "topk(10, rate(node_network_receive_bytes_total[5m]))"),
    ("histogram_quantile",
     "histogram_quantile(0.9, sum by (le) (rate(prometheus_http_request_duration_seconds_bucket[5m])))"),
    ("regex selector", 'node_filesystem_avail_bytes{mountpoint=~"/|/var.*", device!~"/dev/sdb.*"}'),
    ("count by", "count by (cpu) (node_cpu_seconds_total)"),
    ("binary op", "node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes"),
    ("avg_over_time 1h", "avg by (instance) (avg_over_time(node_load1[1h]))"),
    ("rate 1h window", 'sum by (instance) (rate(node_cpu_seconds_total{mode!="idle"}[1h]))'),
]

# Range queries: every query above over the whole data at 60 s, plus these at 15 s.
RANGE_15S = ["sum by (mode) (rate(node_cpu_seconds_total[5m]))"]


def read_status(pid):
    """Selected /proc/PID/status fields in KiB."""
    out = {}
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                key, _, rest = line.partition(":")
                if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "RssShmem"):
                    out[key] = int(rest.split()[0])
    except OSError:
        pass
    return out


def reset_hwm(pid):
    """Resets the peak-RSS mark (Linux >= 4.0); returns whether it worked."""
    try:
        with open("/proc/%d/clear_refs" % pid, "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def count_builders():
    n = 0
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/comm" % d) as f:
                if f.read().strip() in ("rustc", "cargo", "cc1", "cc1plus", "ld", "rust-lld"):
                    n += 1
        except OSError:
            pass
    return n


class Sampler(threading.Thread):
    """Polls RSS of some pids and the number of running build processes."""

    def __init__(self, pids, period=0.02):
        super().__init__(daemon=True)
        self.pids, self.period = pids, period
        self.peak = {p: {} for p in pids}
        self.builder_samples = 0
        self.samples = 0
        self.stop_ev = threading.Event()

    def run(self):
        k = 0
        while not self.stop_ev.is_set():
            for p in self.pids:
                st = read_status(p)
                for key, v in st.items():
                    if v > self.peak[p].get(key, 0):
                        self.peak[p][key] = v
            if k % 25 == 0:  # every 0.5 s
                self.samples += 1
                if count_builders() > 0:
                    self.builder_samples += 1
            k += 1
            time.sleep(self.period)

    def stop(self):
        self.stop_ev.set()
        self.join()


class Client:
    def __init__(self, name, hostport):
        self.name = name
        host, port = hostport.rsplit(":", 1)
        self.host, self.port = host, int(port)
        self.conn = None

    def get(self, path, params):
        url = path + "?" + urllib.parse.urlencode(params)
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=600)
            try:
                t0 = time.perf_counter()
                self.conn.request("GET", url)
                resp = self.conn.getresponse()
                body = resp.read()
                dt = time.perf_counter() - t0
                return resp.status, body, dt
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
        raise AssertionError("unreachable")


def series_count(body):
    doc = json.loads(body)
    if doc.get("status") != "success":
        raise RuntimeError("query failed: %s" % body[:300])
    res = doc["data"]["result"]
    return len(res) if isinstance(res, list) else 1


def run_query(clients, path, params, runs, warmup):
    """Returns {name: [seconds...]}, {name: series}, {name: bytes}, {name: first-run seconds}.

    The first run of a query on a server is its first warm-up run: promlet's read cache may
    not hold what it needs yet (though earlier queries may have filled it)."""
    times = {c.name: [] for c in clients}
    series, size, first = {}, {}, {}
    for c in clients:
        for i in range(warmup):
            status, body, dt = c.get(path, params)
            if i == 0:
                first[c.name] = dt
            if status != 200:
                raise RuntimeError("%s: HTTP %d for %s: %s" % (c.name, status, params, body[:300]))
            series[c.name] = series_count(body)
            size[c.name] = len(body)
    for r in range(runs):
        order = clients if r % 2 == 0 else clients[::-1]
        for c in order:
            status, body, dt = c.get(path, params)
            if status != 200:
                raise RuntimeError("%s: HTTP %d for %s" % (c.name, status, params))
            times[c.name].append(dt)
    return times, series, size, first


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--promlet", required=True)
    ap.add_argument("--prometheus", required=True)
    ap.add_argument("--promlet-pid", type=int, required=True)
    ap.add_argument("--prometheus-pid", type=int, required=True)
    ap.add_argument("--start", type=int, required=True, help="range start, Unix seconds")
    ap.add_argument("--end", type=int, required=True, help="range end and instant time")
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--json", help="write all measurements here")
    args = ap.parse_args()

    clients = [Client("promlet", args.promlet), Client("Prometheus", args.prometheus)]
    pids = {"promlet": args.promlet_pid, "Prometheus": args.prometheus_pid}
    rows = []

    def record(kind, name, query, step, path, params):
        t, s, b, first = run_query(clients, path, params, args.runs, args.warmup)
        med = {k: statistics.median(v) for k, v in t.items()}
        rows.append({
            "kind": kind, "name": name, "query": query, "step_s": step, "first_s": first,
            "median_s": med, "min_s": {k: min(v) for k, v in t.items()},
            "all_s": t, "series": s, "bytes": b,
            "ratio": med["promlet"] / med["Prometheus"],
        })
        r = rows[-1]
        print("%-7s %-22s promlet %8.1f ms  Prometheus %8.1f ms  ratio %.2f  series %s" % (
            kind, name, med["promlet"] * 1e3, med["Prometheus"] * 1e3, r["ratio"],
            "/".join(str(s[c.name]) for c in clients)), file=sys.stderr)

    idle = {n: read_status(p) for n, p in pids.items()}
    sampler = Sampler(list(pids.values()))
    sampler.start()
    for name, q in QUERIES:
        record("instant", name, q, None, "/api/v1/query", {"query": q, "time": args.end})
    instant_hwm = {n: read_status(p).get("VmHWM") for n, p in pids.items()}

    hwm_reset = {n: reset_hwm(p) for n, p in pids.items()}
    sampler.stop()
    range_sampler = Sampler(list(pids.values()))
    range_sampler.start()
    for name, q in QUERIES:
        record("range", name, q, 60, "/api/v1/query_range",
               {"query": q, "start": args.start, "end": args.end, "step": 60})
    for q in RANGE_15S:
        record("range", "15 s step: " + q, q, 15, "/api/v1/query_range",
               {"query": q, "start": args.start, "end": args.end, "step": 15})
    range_sampler.stop()
    after = {n: read_status(p) for n, p in pids.items()}

    memory = {}
    for n, p in pids.items():
        memory[n] = {
            "idle_rss_kib": idle[n].get("VmRSS"),
            "idle_rss_anon_kib": idle[n].get("RssAnon"),
            "peak_hwm_after_instant_kib": instant_hwm[n],
            "hwm_reset": hwm_reset[n],
            "range_peak_hwm_kib": after[n].get("VmHWM"),
            "range_peak_sampled": range_sampler.peak[p],
        }
    overlap = {
        "instant": [sampler.builder_samples, sampler.samples],
        "range": [range_sampler.builder_samples, range_sampler.samples],
    }
    summary = {}
    for kind in ("instant", "range"):
        ratios = [r["ratio"] for r in rows if r["kind"] == kind]
        firsts = [r["first_s"]["promlet"] / r["first_s"]["Prometheus"]
                  for r in rows if r["kind"] == kind and r["first_s"]]
        summary[kind] = {"median_ratio": statistics.median(ratios), "queries": len(ratios),
                         "promlet_faster": sum(1 for x in ratios if x < 1),
                         "median_first_run_ratio": statistics.median(firsts) if firsts else None}

    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rows": rows, "memory": memory, "summary": summary,
                       "builder_overlap": overlap, "runs": args.runs, "warmup": args.warmup},
                      f, indent=1)

    print("| kind | query | promlet median ms | Prometheus median ms | promlet / Prometheus "
          "| first run: promlet / Prometheus ms | series |")
    print("|---|---|--:|--:|--:|--:|--:|")
    for r in rows:
        q = r["query"] if r["step_s"] != 15 else r["query"] + " (step 15 s)"
        kind = r["kind"] if r["kind"] == "instant" else "range %d s" % r["step_s"]
        s = r["series"]
        series = str(s["promlet"]) if s["promlet"] == s["Prometheus"] else "%d vs %d (DIFFER)" % (
            s["promlet"], s["Prometheus"])
        f = r["first_s"]
        print("| %s | `%s` | %.1f | %.1f | %.2f | %.1f / %.1f | %s |" % (
            kind, q.replace("|", "\\|"), r["median_s"]["promlet"] * 1e3,
            r["median_s"]["Prometheus"] * 1e3, r["ratio"], f["promlet"] * 1e3,
            f["Prometheus"] * 1e3, series))
    print()
    for kind in ("instant", "range"):
        s = summary[kind]
        print("Median of promlet/Prometheus ratios, %s queries: **%.2f** (promlet faster on %d of %d);"
              " of first runs: %.2f." % (
            kind, s["median_ratio"], s["promlet_faster"], s["queries"], s["median_first_run_ratio"]))
    print()
    print("| server | RSS idle MiB (anon) | peak RSS during range queries MiB (VmHWM) | "
          "sampled peak RssAnon MiB | sampled peak RssFile MiB |")
    print("|---|--:|--:|--:|--:|")
    for n in ("promlet", "Prometheus"):
        m = memory[n]
        pk = m["range_peak_sampled"]
        mib = lambda k: "%.0f" % (k / 1024) if k else "n/a"
        print("| %s | %s (%s) | %s%s | %s | %s |" % (
            n, mib(m["idle_rss_kib"]), mib(m["idle_rss_anon_kib"]), mib(m["range_peak_hwm_kib"]),
            "" if m["hwm_reset"] else " (HWM not reset: since start)",
            mib(pk.get("RssAnon")), mib(pk.get("RssFile"))))
    print()
    for kind, (b, n) in overlap.items():
        print("Build processes seen during the %s set: %d of %d half-second samples." % (kind, b, n))


if __name__ == "__main__":
    main()
