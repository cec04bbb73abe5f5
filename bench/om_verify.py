#!/usr/bin/env python3
"""Check that a TSDB holds exactly the samples of an OpenMetrics file.

    promtool tsdb dump DIR | om_verify.py FILE.om [--dump -] [--json]

Both inputs are reduced to one digest per series (sorted label set incl.
__name__): sample count, first/last timestamp and a SHA-1 over the
(int64 ms timestamp, float64 bits) pairs in time order.  Values are compared
bit for bit (Go's %g in `promtool tsdb dump` and Python's repr both print the
shortest round-trip form).  Exit status 0 when everything matches.

Dump lines look like:  {__name__="up", instance="h:9100", job="node"} 1 1767225600000
OpenMetrics lines:     up{instance="h:9100",job="node"} 1 1767225600.000
Only what gen_openmetrics.py writes is supported (no exemplars, no escapes
other than \\" and \\\\ in label values, timestamps always present).
"""

import argparse
import hashlib
import json
import struct
import sys


def parse_labels(s, i):
    """s[i] == '{'; returns (list of (name, value), index after '}')."""
    out = []
    i += 1
    n = len(s)
    while i < n:
        while s[i] in " ,":
            i += 1
        if s[i] == "}":
            return out, i + 1
        eq = s.index("=", i)
        name = s[i:eq].strip()
        j = eq + 2  # skip ="
        val = []
        while s[j] != '"':
            if s[j] == "\\":
                j += 1
                val.append({"n": "\n"}.get(s[j], s[j]))
            else:
                val.append(s[j])
            j += 1
        out.append((name, "".join(val)))
        i = j + 1
    raise ValueError("unterminated label set: %r" % s)


def ts_ms_from_om(t):
    if "." in t:
        sec, frac = t.split(".")
        frac = (frac + "000")[:3]
        neg = sec.startswith("-")
        ms = abs(int(sec)) * 1000 + int(frac)
        return -ms if neg else ms
    return int(t) * 1000


class Acc:
    __slots__ = ("n", "first", "last", "h", "unsorted")

    def __init__(self):
        self.n, self.first, self.last, self.h, self.unsorted = 0, None, None, hashlib.sha1(), 0

    def add(self, ts, v):
        if self.last is not None and ts <= self.last:
            self.unsorted += 1
        if self.first is None:
            self.first = ts
        self.last = ts
        self.n += 1
        self.h.update(struct.pack("<qd", ts, v))


def digest_om(path):
    series = {}
    cache = {}
    with open(path) as f:
        for line in f:
            if line.startswith("#") or line == "\n":
                continue
            sp = line.rstrip("\n").rsplit(" ", 2)
            key = cache.get(sp[0])
            if key is None:
                head = sp[0]
                b = head.find("{")
                if b < 0:
                    labels = [("__name__", head)]
                else:
                    labels, _ = parse_labels(head, b)
                    labels.append(("__name__", head[:b]))
                key = tuple(sorted(labels))
                cache[sp[0]] = key
            acc = series.get(key)
            if acc is None:
                acc = series[key] = Acc()
            acc.add(ts_ms_from_om(sp[2]), float(sp[1]))
    return series


def digest_dump(stream):
    series = {}
    cache = {}
    for line in stream:
        if not line.startswith("{"):
            continue
        sp = line.rstrip("\n").rsplit(" ", 2)
        key = cache.get(sp[0])
        if key is None:
            labels, _ = parse_labels(sp[0], 0)
            key = tuple(sorted(labels))
            cache[sp[0]] = key
        acc = series.get(key)
        if acc is None:
            acc = series[key] = Acc()
        acc.add(int(sp[2]), float(sp[1]))
    return series


def main():
    ap = argparse.ArgumentParser(description="compare an OpenMetrics file with `promtool tsdb dump` output")
    ap.add_argument("om")
    ap.add_argument("--dump", default="-", help="dump output file (default stdin)")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    a = ap.parse_args()

    om = digest_om(a.om)
    if a.dump == "-":
        db = digest_dump(sys.stdin)
    else:
        with open(a.dump) as f:
            db = digest_dump(f)

    missing = [k for k in om if k not in db]
    extra = [k for k in db if k not in om]
    differ = [k for k in om if k in db and (om[k].n != db[k].n or om[k].h.digest() != db[k].h.digest())]
    res = {
        "om_series": len(om), "om_samples": sum(x.n for x in om.values()),
        "db_series": len(db), "db_samples": sum(x.n for x in db.values()),
        "om_unsorted_samples": sum(x.unsorted for x in om.values()),
        "missing_series": len(missing), "extra_series": len(extra), "differing_series": len(differ),
    }
    res["ok"] = not (missing or extra or differ)
    if a.json:
        print(json.dumps(res))
    else:
        for k, v in res.items():
            print("%-22s %s" % (k, v))
        for what, keys in (("missing", missing), ("extra", extra), ("differing", differ)):
            for k in keys[:5]:
                line = "%s: %s" % (what, dict(k))
                if what == "differing":
                    line += " om n=%d [%s..%s] db n=%d [%s..%s]" % (
                        om[k].n, om[k].first, om[k].last, db[k].n, db[k].first, db[k].last)
                print(line)
    sys.exit(0 if res["ok"] else 1)


if __name__ == "__main__":
    main()
