#!/usr/bin/env python3
"""Scrape target for bench/prometheus_head_memory.sh.

Serves N series shaped like tsdb/benches/head_memory.rs on /metrics (Prometheus text format):

    node_metric_<i%500>{instance="host<i/500>:9100",job="node",device="dev<i%7>"} <value> [<ts>]

with the value of scrape k given by the same function as the Rust bench (`node_like_value`):
i%10 in 0..4 constant (i%3), 5..7 counter-like (k*(1480+(k*7+i)%20)+i)/100, 8..9 integer
gauge 1e6 + ((k*31+i)%17)*4096.  Body k is generated when it is first requested (and k+1 is
precomputed right after), so values move on every scrape.

Modes:
  --timestamps explicit (default): every line carries the timestamp T0 + k*STEP_MS (15 s steps
      like the Rust bench, unless that cannot give one chunk per series; see below).  After
      SAMPLES bodies have been written completely, every further request gets an empty 200
      response: Prometheus appends nothing more and, since series with
      explicit timestamps are not tracked for staleness, writes no stale markers either, so the
      head stays frozen at exactly SAMPLES samples per series while memory is read.  A scrape
      whose body write fails (client timeout) does not advance k.
  --timestamps scrape: no timestamps (Prometheus uses the scrape time); k advances on every
      request and never freezes.

T0 (explicit mode) is chosen by `choose_t0`: within the head's appendable window (the head's
max time is "now" because of the synthetic `up`/`scrape_*` samples, and it refuses samples older
than max time - 1 h), all SAMPLES timestamps in one 2 h chunk range, and - simulating the head's
chunk cutting rule of Prometheus 2.x (`computeChunkEndTime` at 1/4 of 120 samples) - no chunk
cut before SAMPLES samples, so every series has exactly one head chunk.  If that is impossible at
--step-ms, a shorter step is used (/status reports t0_ms and step_ms).

GET /status returns JSON counters (bodies served, generation times).  The bound port is written
to --port-file.  The server exits by itself after --max-seconds.
"""
import argparse
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CHUNK_RANGE_MS = 2 * 3600 * 1000
SAMPLES_PER_CHUNK = 120




def first_cut(t0, step, samples):
    """Index of the first sample that would start a new head chunk (Prometheus 2.x rule), or None."""
    range_end = (t0 // CHUNK_RANGE_MS) * CHUNK_RANGE_MS + CHUNK_RANGE_MS
    next_at = range_end
    for k in range(samples):
        t = t0 + k * step
        if k == SAMPLES_PER_CHUNK // 4:  # numSamples == samplesPerChunk/4 before this append
            cur = t0 + (k - 1) * step
            n = (next_at - t0) // ((cur - t0 + 1) * 4)
            if n > 1:
                next_at = t0 + (next_at - t0) // n
        if k > 0 and (t >= next_at or k >= 2 * SAMPLES_PER_CHUNK):
            return k
    return None


def choose_t0(now_ms, samples, step):
    """(T0, step, one_chunk): latest T0 (whole seconds) with every sample in the past and in
    the head's appendable window and one head chunk per series.

    The head refuses samples older than its max time - 1 h, and its max time is "now" (the
    synthetic scrape series); the scraper refuses samples more than 10 min in the future.  With
    120 samples x 15 s = 30 min and "now" 20-30 min into a 2 h chunk range, no such T0 exists:
    then shorter steps are tried.  Any step from 0.128 s to 16.383 s gives byte-identical XOR
    chunks here (the first delta is a 2-byte uvarint, every later delta-of-delta is 0).
    """
    lowest = now_ms - 3600_000 + 180_000  # 3 min inside the 1 h appendable window
    for st in [step] + [s for s in (10_000, 5_000, 2_000, 1_000) if s < step]:
        t0 = (now_ms - samples * st - 60_000) // 1000 * 1000
        while t0 >= lowest:
            if first_cut(t0, st, samples) is None:
                return t0, st, True
            t0 -= 15_000
    # No such T0 (very large SAMPLES): latest in-window T0 at the given step; chunks get cut.
    return max(lowest, (now_ms - samples * step - 60_000) // 1000 * 1000), step, False


class Target:
    def __init__(self, series, samples, explicit, t0, step):
        self.series, self.samples, self.explicit = series, samples, explicit
        self.t0, self.step = t0, step
        self.prefix = [
            'node_metric_%d{instance="host%d:9100",job="node",device="dev%d"} ' % (i % 500, i // 500, i % 7)
            for i in range(series)
        ]
        # The constant half never changes: keep "prefix value" ready.
        self.const = [(i, self.prefix[i] + str(i % 3)) for i in range(series) if i % 10 <= 4]
        self.moving = [(i, self.prefix[i]) for i in range(series) if i % 10 > 4]
        self.lock = threading.Lock()
        self.bodies = {}
        self.served = 0  # bodies written completely
        self.requests = 0
        self.failed_writes = 0
        self.gen_times = []
        self.started = time.time()

    def gen(self, k):
        with self.lock:
            if k in self.bodies:
                return self.bodies[k]
        t = time.perf_counter()
        end = " %d\n" % (self.t0 + k * self.step) if self.explicit else "\n"
        parts = [line + end for _, line in self.const]
        for i, p in self.moving:
            c = i % 10
            if c <= 7:
                v = repr((k * (1480 + (k * 7 + i) % 20) + i) / 100)
            else:
                v = str(1_000_000 + ((k * 31 + i) % 17) * 4096)
            parts.append(p + v + end)
        body = "".join(parts).encode()
        dt = time.perf_counter() - t
        with self.lock:
            self.bodies = {kk: b for kk, b in self.bodies.items() if kk >= k - 1}
            self.bodies[k] = body
            self.gen_times.append(dt)
        return body

    def status(self):
        with self.lock:
            g = self.gen_times
            return {
                "series": self.series, "samples": self.samples, "explicit_timestamps": self.explicit,
                "t0_ms": self.t0 if self.explicit else None, "step_ms": self.step,
                "served": self.served, "requests": self.requests, "failed_writes": self.failed_writes,
                "frozen": self.explicit and self.served >= self.samples,
                "gen_s_avg": round(sum(g) / len(g), 4) if g else None,
                "gen_s_max": round(max(g), 4) if g else None,
                "uptime_s": round(time.time() - self.started, 1),
            }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--series", type=int, required=True)
    ap.add_argument("--samples", type=int, required=True)
    ap.add_argument("--timestamps", choices=["explicit", "scrape"], default="explicit")
    ap.add_argument("--step-ms", type=int, default=15_000)
    ap.add_argument("--t0-ms", type=int, default=0, help="0 = choose (see choose_t0)")
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--max-seconds", type=float, default=1800)
    ap.add_argument("--print-t0", action="store_true", help="print the chosen T0 and exit")
    a = ap.parse_args()

    explicit = a.timestamps == "explicit"
    t0, step, one_chunk = (a.t0_ms, a.step_ms, first_cut(a.t0_ms, a.step_ms, a.samples) is None) \
        if a.t0_ms else choose_t0(int(time.time() * 1000), a.samples, a.step_ms)
    if a.print_t0:
        print(json.dumps({"t0_ms": t0, "step_ms": step, "one_chunk": one_chunk}))
        return
    tgt = Target(a.series, a.samples, explicit, t0, step)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def send_body(self, body, ctype):
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()

        def do_GET(self):
            if self.path.startswith("/status"):
                st = tgt.status()
                st["one_chunk_per_series"] = one_chunk if explicit else None
                self.send_body(json.dumps(st).encode(), "application/json")
                return
            if not self.path.startswith("/metrics"):
                self.send_error(404)
                return
            with tgt.lock:
                tgt.requests += 1
                k = tgt.served
            frozen = explicit and k >= tgt.samples
            body = b"" if (frozen or tgt.series == 0) else tgt.gen(k)
            try:
                self.send_body(body, "text/plain; version=0.0.4; charset=utf-8")
            except (BrokenPipeError, ConnectionResetError):
                with tgt.lock:
                    tgt.failed_writes += 1
                return
            with tgt.lock:
                tgt.served += 1
            nxt = k + 1
            if tgt.series and not (explicit and nxt >= tgt.samples):
                threading.Thread(target=tgt.gen, args=(nxt,), daemon=True).start()

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    if tgt.series:
        tgt.gen(0)
    with open(a.port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    import os
    os.replace(a.port_file + ".tmp", a.port_file)
    threading.Timer(a.max_seconds, srv.shutdown).start()
    srv.serve_forever(poll_interval=0.5)


if __name__ == "__main__":
    main()
