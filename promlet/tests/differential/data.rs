//! The test's data set: about 250 series over 2 h at 15 s, written as OpenMetrics text that
//! both `promtool tsdb create-blocks-from openmetrics` and `promlet import` read.
//!
//! The output is a pure function of the code (a fixed-seed PRNG). Series are grouped into
//! scrape targets (`job`, `instance`); every series of a target shares its timestamps, which
//! sit at `T0 + k * 15 s + phase + jitter` with a per-target phase in [1 s, 14 s) and a jitter
//! of 0-4 ms. No sample ever lies on a multiple of 15 s, so a query whose times, ranges,
//! offsets and steps are multiples of 15 s never puts a sample on a window's left edge, where
//! Prometheus 2.42 (closed `[t - r, t]`) and promlet (open `(t - r, t]`) differ by design.
//!
//! Counters (and histogram counts) start at large values, as they do when scraping begins long
//! after the process started. A counter that starts near zero inside a window is where
//! Prometheus changed `rate()`'s extrapolation after 2.42 (prometheus/prometheus#13725, in
//! 2.51: the zero point now only shortens the half-interval extrapolation, it no longer
//! replaces it), so 2.42 and promlet (3.x semantics) differ there by design. Counter *resets*
//! inside the data are unaffected and stay.
//!
//! | metric | type | series | shape |
//! |---|---|--:|---|
//! | `http_requests_total{job,instance,method,code}` | counter | 72 | Poisson-like increments, a quarter of them reset once |
//! | `request_duration_seconds_{bucket,sum,count}{job,instance[,le]}` | histogram | 80 | 8 buckets; `w1` resets |
//! | `node_cpu_seconds_total{instance,cpu,mode}` | counter | 24 | 0.01 s resolution; `n2` reboots at 75 min |
//! | `node_memory_free_bytes{instance}` | gauge | 4 | integer random walk in 4 KiB pages |
//! | `temperature_celsius{instance,sensor}` | gauge | 12 | full-precision floats; `n3` has a 10 min gap |
//! | `disk_used_bytes{instance,device,mountpoint}` | gauge | 12 | slowly growing integers |
//! | `queue_depth{job,instance,queue}` | gauge | 16 | small integers (many ties) |
//! | `up{job,instance}` | gauge | 14 | 1, but `a3` is down for 7.5 min |
//! | `build_info{job,instance,version}` | gauge | 14 | 1 (for `group_left` joins) |
//! | `flaky_ratio{instance}` | gauge | 2 | values in [0, 1) with NaN, +Inf and -Inf |
//! | `batch_processed_total{instance}` | counter | 2 | `b0` starts at 30 min, `b1` stops at 70 min |
//! | `batch_last_success_timestamp_seconds{instance}` | gauge | 2 | a Unix time; `b0` only from 30 to 50 min |

use std::fmt::Write as _;
use std::path::Path;

/// The first scrape interval's start: 2026-01-01T00:00:00Z, aligned to 2 h blocks.
pub(crate) const T0_MS: i64 = 1_767_225_600_000;
/// The scrape interval.
pub(crate) const STEP_MS: i64 = 15_000;
/// Samples per series (2 h).
pub(crate) const POINTS: usize = 480;

/// splitmix64: small, fast and fully determined by its seed.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [0, n).
    fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// Approximately normal (sum of uniforms), mean 0, deviation 1.
    fn normal(&mut self) -> f64 {
        (0..12).map(|_| self.f64()).sum::<f64>() - 6.0
    }
}

/// A scrape target: its identifying labels and the timestamps all its series share.
struct Target {
    job: &'static str,
    instance: String,
    times: Vec<i64>,
}

impl Target {
    fn new(rng: &mut Rng, job: &'static str, instance: &str) -> Self {
        let phase = 1_000 + rng.below(13_000) as i64;
        let times = (0..POINTS as i64)
            .map(|k| {
                let jitter = if rng.below(100) < 85 {
                    0
                } else {
                    1 + rng.below(4) as i64
                };
                T0_MS + k * STEP_MS + phase + jitter
            })
            .collect();
        Self {
            job,
            instance: instance.to_string(),
            times,
        }
    }
}

/// The OpenMetrics text being built.
struct Out {
    text: String,
    series: usize,
    samples: usize,
}

impl Out {
    fn family(&mut self, name: &str, kind: &str) {
        let _ = writeln!(self.text, "# TYPE {name} {kind}");
    }

    /// One series: `values[k]` (if present) at `times[k]`.
    fn series(
        &mut self,
        name: &str,
        labels: &[(&str, &str)],
        times: &[i64],
        values: &[Option<f64>],
    ) {
        let mut labels: Vec<_> = labels.to_vec();
        labels.sort();
        let mut head = name.to_string();
        if !labels.is_empty() {
            head.push('{');
            for (i, (k, v)) in labels.iter().enumerate() {
                if i > 0 {
                    head.push(',');
                }
                let _ = write!(head, "{k}=\"{v}\"");
            }
            head.push('}');
        }
        self.series += 1;
        for (t, v) in times.iter().zip(values) {
            if let Some(v) = v {
                let _ = writeln!(self.text, "{head} {} {}", fmt_value(*v), fmt_ts(*t));
                self.samples += 1;
            }
        }
    }
}

fn fmt_value(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else {
        // Rust's Display is the shortest text that reads back as the same f64.
        format!("{v}")
    }
}

fn fmt_ts(ms: i64) -> String {
    format!("{}.{:03}", ms.div_euclid(1000), ms.rem_euclid(1000))
}

/// A counter from `start`: increments from `inc`, restarting from its increment at the `reset`
/// point.
fn counter(
    rng: &mut Rng,
    start: f64,
    reset: Option<usize>,
    mut inc: impl FnMut(&mut Rng) -> f64,
) -> Vec<f64> {
    let mut v = start;
    (0..POINTS)
        .map(|k| {
            let d = inc(rng);
            v = if Some(k) == reset { d } else { v + d };
            v
        })
        .collect()
}

fn some(values: Vec<f64>) -> Vec<Option<f64>> {
    values.into_iter().map(Some).collect()
}

/// Values present only for `k` in `range`.
fn only(values: Vec<f64>, range: std::ops::Range<usize>) -> Vec<Option<f64>> {
    values
        .into_iter()
        .enumerate()
        .map(|(k, v)| range.contains(&k).then_some(v))
        .collect()
}

/// What [`write`] produced.
pub(crate) struct DataSet {
    pub(crate) series: usize,
    pub(crate) samples: usize,
}

/// Writes the data set to `path`.
pub(crate) fn write(path: &Path) -> DataSet {
    let mut rng = Rng(0x005E_ED0F_D1FF);
    let mut out = Out {
        text: String::new(),
        series: 0,
        samples: 0,
    };
    let apps: Vec<Target> = [("api", "a0"), ("api", "a1"), ("api", "a2"), ("api", "a3")]
        .into_iter()
        .chain([("web", "w0"), ("web", "w1"), ("web", "w2"), ("web", "w3")])
        .map(|(job, i)| Target::new(&mut rng, job, i))
        .collect();
    let nodes: Vec<Target> = ["n0", "n1", "n2", "n3"]
        .iter()
        .map(|i| Target::new(&mut rng, "node", i))
        .collect();
    let batches: Vec<Target> = ["b0", "b1"]
        .iter()
        .map(|i| Target::new(&mut rng, "batch", i))
        .collect();

    // Families are written in name order, each family contiguous, each series in time order.
    out.family("batch_last_success_timestamp_seconds", "gauge");
    for (b, present) in batches.iter().zip([120..200, 0..280]) {
        let values = b
            .times
            .iter()
            .map(|t| ((t / 1000) / 60 * 60) as f64)
            .collect();
        let labels = [("job", b.job), ("instance", b.instance.as_str())];
        out.series(
            "batch_last_success_timestamp_seconds",
            &labels,
            &b.times,
            &only(values, present),
        );
    }
    out.family("batch_processed", "counter");
    for (b, present) in batches.iter().zip([120..POINTS, 0..280]) {
        let start = (20 * (5_000 + rng.below(5_000))) as f64;
        let values = counter(&mut rng, start, None, |r| r.below(40) as f64);
        let labels = [("job", b.job), ("instance", b.instance.as_str())];
        out.series(
            "batch_processed_total",
            &labels,
            &b.times,
            &only(values, present),
        );
    }

    out.family("build_info", "gauge");
    for t in apps.iter().chain(&nodes).chain(&batches) {
        let version = match t.job {
            "web" => "1.1",
            "batch" => "2.0",
            _ => "1.0",
        };
        let labels = [
            ("job", t.job),
            ("instance", t.instance.as_str()),
            ("version", version),
        ];
        out.series("build_info", &labels, &t.times, &some(vec![1.0; POINTS]));
    }

    out.family("disk_used_bytes", "gauge");
    for (n, t) in nodes.iter().enumerate() {
        for (m, (device, mount)) in [("sda1", "/"), ("sda2", "/var"), ("sdb1", "/home")]
            .into_iter()
            .enumerate()
        {
            let mut v = (1 + n * 3 + m) as f64 * 1.0e9 + rng.below(1 << 20) as f64;
            let values = (0..POINTS)
                .map(|_| {
                    v += (rng.below(64) * 4096) as f64;
                    v
                })
                .collect();
            let labels = [
                ("job", t.job),
                ("instance", t.instance.as_str()),
                ("device", device),
                ("mountpoint", mount),
            ];
            out.series("disk_used_bytes", &labels, &t.times, &some(values));
        }
    }

    out.family("flaky_ratio", "gauge");
    for (n, t) in nodes.iter().take(2).enumerate() {
        let values = (0..POINTS)
            // The two series are NaN at different steps: which of two NaNs `topk`, `bottomk`
            // or `sort` puts first is a tie neither engine specifies.
            .map(|k| match (n, (k + 15 * n) % 37, k % 53) {
                (_, 5, _) => f64::NAN,
                (0, _, 7) => f64::INFINITY,
                (1, _, 7) => f64::NEG_INFINITY,
                _ => rng.f64(),
            })
            .collect();
        let labels = [("job", t.job), ("instance", t.instance.as_str())];
        out.series("flaky_ratio", &labels, &t.times, &some(values));
    }

    out.family("http_requests", "counter");
    for t in &apps {
        for method in ["GET", "POST", "PUT"] {
            for code in ["200", "404", "500"] {
                let per_s = match code {
                    "200" => 2.0 + 18.0 * rng.f64(),
                    "404" => 0.2 + rng.f64(),
                    _ => 0.05 * rng.f64(),
                };
                let reset = (rng.below(4) == 0).then(|| 40 + rng.below(400) as usize);
                let start = (per_s * 15.0 * (5_000.0 + 5_000.0 * rng.f64())).floor();
                let values = counter(&mut rng, start, reset, |r| {
                    (per_s * 15.0 * (0.5 + r.f64())).floor()
                });
                let labels = [
                    ("job", t.job),
                    ("instance", t.instance.as_str()),
                    ("method", method),
                    ("code", code),
                ];
                out.series("http_requests_total", &labels, &t.times, &some(values));
            }
        }
    }

    out.family("node_cpu_seconds", "counter");
    for t in &nodes {
        for cpu in ["0", "1"] {
            let busy = 0.1 + 0.5 * rng.f64();
            let reset = (t.instance == "n2").then_some(300);
            for mode in ["idle", "system", "user"] {
                // Hundredths of a second, so every value is a two-decimal number.
                let uptime_intervals = 5_000 + rng.below(5_000);
                let start =
                    (uptime_intervals * 1500) as f64 * if mode == "idle" { 0.7 } else { 0.15 };
                let values = counter(&mut rng, start.round(), reset, |r| {
                    let u = (busy + 0.1 * r.normal()).clamp(0.0, 1.0);
                    let share = match mode {
                        "idle" => 1.0 - u,
                        "system" => 0.3 * u,
                        _ => 0.7 * u,
                    };
                    (share * 1500.0).round()
                });
                let values = values.into_iter().map(|v| v / 100.0).collect();
                let labels = [
                    ("job", t.job),
                    ("instance", t.instance.as_str()),
                    ("cpu", cpu),
                    ("mode", mode),
                ];
                out.series("node_cpu_seconds_total", &labels, &t.times, &some(values));
            }
        }
    }

    out.family("node_memory_free_bytes", "gauge");
    for t in &nodes {
        let mut pages = 400_000 + rng.below(100_000) as i64;
        let values = (0..POINTS)
            .map(|_| {
                pages += rng.below(2001) as i64 - 1000;
                (pages * 4096) as f64
            })
            .collect();
        let labels = [("job", t.job), ("instance", t.instance.as_str())];
        out.series("node_memory_free_bytes", &labels, &t.times, &some(values));
    }

    out.family("queue_depth", "gauge");
    for t in &apps {
        for queue in ["q1", "q2"] {
            let mut v = rng.below(10) as i64;
            let values = (0..POINTS)
                .map(|_| {
                    v = (v + rng.below(5) as i64 - 2).clamp(0, 20);
                    v as f64
                })
                .collect();
            let labels = [
                ("job", t.job),
                ("instance", t.instance.as_str()),
                ("queue", queue),
            ];
            out.series("queue_depth", &labels, &t.times, &some(values));
        }
    }

    request_duration(&mut rng, &mut out, &apps);

    out.family("temperature_celsius", "gauge");
    for t in &nodes {
        for sensor in ["board", "cpu", "gpu"] {
            let base = 35.0 + 15.0 * rng.f64();
            let phase = 6.3 * rng.f64();
            let values: Vec<f64> = (0..POINTS)
                .map(|k| {
                    base + 8.0 * (k as f64 * std::f64::consts::TAU / 240.0 + phase).sin()
                        + 0.5 * rng.normal()
                })
                .collect();
            let values = if t.instance == "n3" {
                values
                    .into_iter()
                    .enumerate()
                    .map(|(k, v)| (!(200..240).contains(&k)).then_some(v))
                    .collect()
            } else {
                some(values)
            };
            let labels = [
                ("job", t.job),
                ("instance", t.instance.as_str()),
                ("sensor", sensor),
            ];
            out.series("temperature_celsius", &labels, &t.times, &values);
        }
    }

    out.family("up", "gauge");
    for t in apps.iter().chain(&nodes).chain(&batches) {
        let values = (0..POINTS)
            .map(|k| {
                if t.instance == "a3" && (100..130).contains(&k) {
                    0.0
                } else {
                    1.0
                }
            })
            .collect();
        let values = match t.instance.as_str() {
            "b0" => only(values, 120..POINTS),
            "b1" => only(values, 0..280),
            _ => some(values),
        };
        let labels = [("job", t.job), ("instance", t.instance.as_str())];
        out.series("up", &labels, &t.times, &values);
    }

    out.text.push_str("# EOF\n");
    std::fs::write(path, &out.text).expect("write the data set");
    DataSet {
        series: out.series,
        samples: out.samples,
    }
}

/// `request_duration_seconds`: a classic histogram per app target. Each interval brings a
/// Poisson-like number of log-normal observations; `w1` restarts (all counts to 0) at 62.5 min.
/// The buckets of `request_duration_seconds`: `le` as written and as a number.
const LES: [(&str, f64); 8] = [
    ("0.05", 0.05),
    ("0.1", 0.1),
    ("0.25", 0.25),
    ("0.5", 0.5),
    ("1.0", 1.0),
    ("2.5", 2.5),
    ("5.0", 5.0),
    ("+Inf", f64::INFINITY),
];

/// One log-normal observation into cumulative bucket `counts` and `sum`.
fn observe(rng: &mut Rng, mu: f64, counts: &mut [u64; 8], sum: &mut f64) {
    let d = (mu + 0.9 * rng.normal()).exp();
    *sum += d;
    for (c, (_, le)) in counts.iter_mut().zip(LES) {
        if d <= le {
            *c += 1;
        }
    }
}

fn request_duration(rng: &mut Rng, out: &mut Out, apps: &[Target]) {
    let name = "request_duration_seconds";
    out.family(name, "histogram");
    for t in apps {
        let per_interval = 5.0 + 60.0 * rng.f64();
        let mu = -2.0 + rng.f64();
        // Counts from before the data starts: 2,000 observations, scaled up.
        let mut counts = [0u64; 8];
        let mut sum = 0.0f64;
        for _ in 0..2_000 {
            observe(rng, mu, &mut counts, &mut sum);
        }
        let scale = (per_interval * 2.5).floor() as u64 + 1;
        counts.iter_mut().for_each(|c| *c *= scale);
        sum *= scale as f64;
        let mut rows: Vec<([u64; 8], f64)> = Vec::with_capacity(POINTS);
        for k in 0..POINTS {
            if t.instance == "w1" && k == 250 {
                counts = [0; 8];
                sum = 0.0;
            }
            let n = (per_interval * (0.5 + rng.f64())).floor() as usize;
            for _ in 0..n {
                observe(rng, mu, &mut counts, &mut sum);
            }
            rows.push((counts, sum));
        }
        let base = [("job", t.job), ("instance", t.instance.as_str())];
        // One MetricPoint (all buckets, _sum, _count) per timestamp, as an exporter shows it.
        let head = |suffix: &str, le: Option<&str>| {
            let mut labels = base.to_vec();
            if let Some(le) = le {
                labels.push(("le", le));
            }
            labels.sort();
            let body: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
            format!("{name}{suffix}{{{}}}", body.join(","))
        };
        let bucket_heads: Vec<String> = LES
            .iter()
            .map(|(le, _)| head("_bucket", Some(le)))
            .collect();
        let sum_head = head("_sum", None);
        let count_head = head("_count", None);
        for (tm, (counts, sum)) in t.times.iter().zip(&rows) {
            let ts = fmt_ts(*tm);
            for (h, c) in bucket_heads.iter().zip(counts) {
                let _ = writeln!(out.text, "{h} {c} {ts}");
            }
            let _ = writeln!(out.text, "{sum_head} {} {ts}", fmt_value(*sum));
            let _ = writeln!(out.text, "{count_head} {} {ts}", counts[7]);
            out.samples += 10;
        }
        out.series += 10;
    }
}
