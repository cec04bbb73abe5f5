//! Remote write load generator: a fixed, pre-encoded stream of Prometheus remote write 1.0
//! requests sent to one receiver over a few keep-alive connections, with optional concurrent
//! PromQL queries, bounded in sample count and in time. Prints one JSON line on stdout.
//!
//! ```text
//! cargo run --release -p collector --example rw_load -- \
//!     --url http://127.0.0.1:9090/api/v1/write --series 10000 --points 600 --writers 4 \
//!     [--per-request 1] [--batch 2000] [--step-ms 1000] [--start-ms MS] [--duration 300] \
//!     [--pid SERVER_PID] \
//!     [--query-url http://127.0.0.1:9090 --query-threads 1 --query-interval-ms 500 \
//!      --query 'sum(rate(load_metric[1m]))' --query 'load_metric{series=~"1|2|3"}']
//! ```
//!
//! The stream: `--series` series `load_metric{job="load",instance="host-<i/100>",series="<i>"}`,
//! each with `--points` samples `--step-ms` apart (a counter growing by a pseudo-random
//! step), ending at `--start-ms` plus the span (default: the span ends now). The series are
//! split evenly over `--writers` connections; each writer sends its series round by round
//! (`--per-request` consecutive samples of each series per request, at most `--batch`
//! samples per request), so every series receives strictly increasing timestamps, in order.
//! Every body is encoded and snappy-compressed before the clock starts. The same arguments
//! (with the same `--start-ms`) give byte-identical requests.
//!
//! Queries run back to back at most every `--query-interval-ms` per thread while the writers
//! run, at the ingestion front: `time` is the newest timestamp that every writer has had
//! acknowledged, so a `[1m]` range covers data already written.
//!
//! With `--pid`, the receiver's CPU time (utime + stime from `/proc/PID/stat`) is read just
//! before the first request and just after the last, and its peak RSS (`VmHWM`) after the
//! last; the generator's own CPU time over the same interval is reported as well.

use std::io::Write as _;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use collector::remote_write::proto::{TimeSeries, encode_write_request};

const USAGE: &str = "usage: rw_load --url URL [--series N] [--points N] [--writers N] \
[--per-request N] [--batch N] [--step-ms MS] [--start-ms MS] [--duration SECS] [--pid PID] \
[--query-url BASE] [--query-threads N] [--query-interval-ms MS] [--query EXPR]... \
[--realtime=true]";

struct Args {
    url: String,
    series: usize,
    points: usize,
    writers: usize,
    per_request: usize,
    batch: usize,
    step_ms: i64,
    start_ms: Option<i64>,
    duration: Duration,
    query_url: Option<String>,
    query_threads: usize,
    query_interval: Duration,
    queries: Vec<String>,
    pid: Option<u32>,
    /// Send each request no earlier than its newest sample's timestamp (a live stream).
    realtime: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        url: String::new(),
        series: 10_000,
        points: 600,
        writers: 4,
        per_request: 1,
        batch: 2000,
        step_ms: 1000,
        start_ms: None,
        duration: Duration::from_secs(300),
        query_url: None,
        query_threads: 1,
        query_interval: Duration::from_millis(500),
        queries: Vec::new(),
        pid: None,
        realtime: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let (key, inline) = match arg.split_once('=') {
            Some((k, v)) if k.starts_with("--") => (k.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        if key == "--help" || key == "-h" {
            return Err(USAGE.to_string());
        }
        let value = match inline {
            Some(v) => v,
            None => it.next().ok_or_else(|| format!("{key} needs a value"))?,
        };
        let num = |v: &str| -> Result<u64, String> {
            v.parse::<u64>().map_err(|e| format!("{key}: {v:?}: {e}"))
        };
        match key.as_str() {
            "--url" => a.url = value,
            "--series" => a.series = num(&value)? as usize,
            "--points" => a.points = num(&value)? as usize,
            "--writers" => a.writers = num(&value)? as usize,
            "--per-request" => a.per_request = num(&value)? as usize,
            "--batch" => a.batch = num(&value)? as usize,
            "--step-ms" => a.step_ms = num(&value)? as i64,
            "--start-ms" => a.start_ms = Some(num(&value)? as i64),
            "--duration" => a.duration = Duration::from_secs(num(&value)?),
            "--query-url" => a.query_url = Some(value.trim_end_matches('/').to_string()),
            "--query-threads" => a.query_threads = num(&value)? as usize,
            "--query-interval-ms" => a.query_interval = Duration::from_millis(num(&value)?),
            "--query" => a.queries.push(value),
            "--pid" => a.pid = Some(num(&value)? as u32),
            "--realtime" => a.realtime = value != "false",
            _ => return Err(format!("unknown argument {key}\n{USAGE}")),
        }
    }
    if a.url.is_empty() {
        return Err(format!("--url is required\n{USAGE}"));
    }
    if a.series == 0 || a.points == 0 || a.writers == 0 || a.per_request == 0 || a.batch == 0 {
        return Err("--series, --points, --writers, --per-request and --batch must be > 0".into());
    }
    if a.writers > a.series {
        return Err("--writers must not exceed --series".into());
    }
    if a.per_request > a.batch {
        return Err("--per-request must not exceed --batch".into());
    }
    if a.query_url.is_some() && a.queries.is_empty() {
        a.queries = vec![
            "sum(rate(load_metric[1m]))".to_string(),
            r#"load_metric{series=~"1|2|3|4|5"}"#.to_string(),
        ];
    }
    Ok(a)
}

/// One pre-encoded request.
struct Request {
    body: Vec<u8>,
    samples: u64,
    /// The newest timestamp in the request.
    max_t: i64,
    /// Whether this is the last request of its round (the writer's front advances).
    ends_round: bool,
}

/// A counter's next increment: a deterministic pseudo-random 0..=99.
fn step(series: usize, t: usize) -> f64 {
    let mut x = (series as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (t as u64);
    x ^= x >> 33;
    x = x.wrapping_mul(0xFF51_AFD7_ED55_8CCD);
    x ^= x >> 33;
    (x % 100) as f64
}

/// The requests of the writer owning series `lo..hi`, in sending order.
fn encode_writer(a: &Args, lo: usize, hi: usize, start_ms: i64) -> Vec<Request> {
    let labels: Vec<Vec<(String, String)>> = (lo..hi)
        .map(|i| {
            vec![
                ("__name__".to_string(), "load_metric".to_string()),
                ("instance".to_string(), format!("host-{}", i / 100)),
                ("job".to_string(), "load".to_string()),
                ("series".to_string(), i.to_string()),
            ]
        })
        .collect();
    let n = hi - lo;
    // Requests per round, with series spread evenly over them.
    let per_round = (n * a.per_request).div_ceil(a.batch);
    let mut values = vec![0.0f64; n];
    let mut out = Vec::new();
    let mut encoder = snap::raw::Encoder::new();
    let mut t0 = 0;
    while t0 < a.points {
        let t1 = (t0 + a.per_request).min(a.points);
        for c in 0..per_round {
            let (s_lo, s_hi) = (n * c / per_round, n * (c + 1) / per_round);
            let series: Vec<TimeSeries> = (s_lo..s_hi)
                .map(|s| TimeSeries {
                    labels: labels[s].clone(),
                    samples: (t0..t1)
                        .map(|t| {
                            values[s] += step(lo + s, t);
                            (start_ms + t as i64 * a.step_ms, values[s])
                        })
                        .collect(),
                    histograms: 0,
                })
                .collect();
            let raw = encode_write_request(&series);
            out.push(Request {
                body: encoder.compress_vec(&raw).expect("snappy"),
                samples: ((s_hi - s_lo) * (t1 - t0)) as u64,
                max_t: start_ms + (t1 as i64 - 1) * a.step_ms,
                ends_round: c + 1 == per_round,
            });
        }
        t0 = t1;
    }
    out
}

/// CPU seconds (user + system) of process `pid` ("self" for this one).
fn cpu_s(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name: state is the first, utime the 12th, stime the 13th.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<u64> = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|x| x.parse().ok())
        .collect();
    f.iter().sum::<u64>() as f64 / procfs::ticks_per_second() as f64
}

/// A `/proc/PID/status` field in KiB (`VmHWM`, `VmRSS`).
fn status_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// Milliseconds at the `q` quantile (nearest rank) of `d`, sorting it.
fn quantile_ms(d: &mut [Duration], q: f64) -> f64 {
    if d.is_empty() {
        return 0.0;
    }
    d.sort_unstable();
    let i = ((q * d.len() as f64).ceil() as usize).clamp(1, d.len()) - 1;
    d[i].as_secs_f64() * 1000.0
}

#[derive(Default)]
struct WriterResult {
    latencies: Vec<Duration>,
    requests: u64,
    errors: u64,
    samples_sent: u64,
    samples_accepted: u64,
}

/// Wall-clock ms since the epoch.
fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(120)))
        .build()
        .new_agent()
}

fn write(
    url: &str,
    realtime: bool,
    requests: &[Request],
    front: &AtomicI64,
    deadline: Instant,
    first_errors: &AtomicU64,
) -> WriterResult {
    let agent = agent();
    let mut r = WriterResult {
        latencies: Vec::with_capacity(requests.len()),
        ..Default::default()
    };
    for req in requests {
        if Instant::now() >= deadline {
            break;
        }
        if realtime {
            let ahead = req.max_t - now_ms();
            if ahead > 0 {
                std::thread::sleep(Duration::from_millis(ahead.unsigned_abs()));
            }
        }
        let t = Instant::now();
        let res = agent
            .post(url)
            .header("Content-Encoding", "snappy")
            .header("Content-Type", "application/x-protobuf")
            .header("X-Prometheus-Remote-Write-Version", "0.1.0")
            .send(&req.body[..]);
        let ok = match res {
            Ok(mut resp) => {
                let text = resp.body_mut().read_to_string().unwrap_or_default();
                let status = resp.status().as_u16();
                if (200..300).contains(&status) {
                    true
                } else {
                    if first_errors.fetch_add(1, Ordering::Relaxed) < 5 {
                        eprintln!("rw_load: POST {url}: HTTP {status}: {}", text.trim());
                    }
                    false
                }
            }
            Err(e) => {
                if first_errors.fetch_add(1, Ordering::Relaxed) < 5 {
                    eprintln!("rw_load: POST {url}: {e}");
                }
                false
            }
        };
        r.latencies.push(t.elapsed());
        r.requests += 1;
        r.samples_sent += req.samples;
        if ok {
            r.samples_accepted += req.samples;
        } else {
            r.errors += 1;
        }
        if req.ends_round {
            front.store(req.max_t, Ordering::Release);
        }
    }
    r
}

#[derive(Default)]
struct QueryResult {
    latencies: Vec<Duration>,
    /// Latencies by expression, in `--query` order.
    by_expr: Vec<Vec<Duration>>,
    errors: u64,
    empty: u64,
}

fn query(
    a: &Args,
    base: &str,
    offset: usize,
    fronts: &[AtomicI64],
    stop: &AtomicBool,
) -> QueryResult {
    let agent = agent();
    let url = format!("{base}/api/v1/query");
    let mut r = QueryResult {
        by_expr: vec![Vec::new(); a.queries.len()],
        ..Default::default()
    };
    let mut i = offset;
    while !stop.load(Ordering::Acquire) {
        let started = Instant::now();
        let front = fronts
            .iter()
            .map(|f| f.load(Ordering::Acquire))
            .min()
            .unwrap_or(0);
        let which = i % a.queries.len();
        let expr = &a.queries[which];
        i += 1;
        let time = format!("{}.{:03}", front.div_euclid(1000), front.rem_euclid(1000));
        let res = agent
            .get(&url)
            .query("query", expr)
            .query("time", &time)
            .call();
        match res {
            Ok(mut resp) => {
                let status = resp.status().as_u16();
                let text = resp
                    .body_mut()
                    .with_config()
                    .limit(256 << 20)
                    .read_to_string()
                    .unwrap_or_default();
                if status != 200 || !text.contains(r#""status":"success""#) {
                    if r.errors < 3 {
                        eprintln!("rw_load: query {expr:?}: HTTP {status}: {}", text.trim());
                    }
                    r.errors += 1;
                } else if text.contains(r#""result":[]"#) {
                    r.empty += 1;
                }
            }
            Err(e) => {
                if r.errors < 3 {
                    eprintln!("rw_load: query {expr:?}: {e}");
                }
                r.errors += 1;
            }
        }
        r.latencies.push(started.elapsed());
        r.by_expr[which].push(started.elapsed());
        if let Some(rest) = a.query_interval.checked_sub(started.elapsed()) {
            std::thread::sleep(rest);
        }
    }
    r
}

fn main() {
    let a = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let span = (a.points as i64 - 1) * a.step_ms;
    let start_ms = a.start_ms.unwrap_or_else(|| {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock after 1970");
        now.as_millis() as i64 - span
    });

    let enc_started = Instant::now();
    let per_writer: Vec<Vec<Request>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..a.writers)
            .map(|w| {
                let (lo, hi) = (a.series * w / a.writers, a.series * (w + 1) / a.writers);
                let a = &a;
                s.spawn(move || encode_writer(a, lo, hi, start_ms))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread panicked"))
            .collect()
    });
    let encode_s = enc_started.elapsed().as_secs_f64();
    let body_bytes: usize = per_writer.iter().flatten().map(|r| r.body.len()).sum();
    let n_requests: usize = per_writer.iter().map(Vec::len).sum();
    eprintln!(
        "rw_load: {} samples in {n_requests} requests ({:.1} MiB snappy) encoded in {encode_s:.1} s",
        a.series * a.points,
        body_bytes as f64 / f64::from(1 << 20)
    );

    let fronts: Vec<AtomicI64> = (0..a.writers)
        .map(|_| AtomicI64::new(start_ms - a.step_ms))
        .collect();
    let stop = AtomicBool::new(false);
    let first_errors = AtomicU64::new(0);
    let server = a.pid.map(|p| p.to_string());
    let server_cpu0 = server.as_deref().map_or(0.0, cpu_s);
    let self_cpu0 = cpu_s("self");
    let started = Instant::now();
    let deadline = started + a.duration;
    let (writers, wall, (server_cpu_s, client_cpu_s), queries) = std::thread::scope(|s| {
        let query_handles: Vec<_> = match &a.query_url {
            Some(base) => (0..a.query_threads)
                .map(|q| {
                    let (a, fronts, stop) = (&a, &fronts, &stop);
                    s.spawn(move || query(a, base, q, fronts, stop))
                })
                .collect(),
            None => Vec::new(),
        };
        let handles: Vec<_> = per_writer
            .iter()
            .zip(&fronts)
            .map(|(reqs, front)| {
                let (url, first_errors, realtime) = (&a.url, &first_errors, a.realtime);
                s.spawn(move || write(url, realtime, reqs, front, deadline, first_errors))
            })
            .collect();
        let writers: Vec<WriterResult> = handles
            .into_iter()
            .map(|h| h.join().expect("thread panicked"))
            .collect();
        let wall = started.elapsed();
        let cpu = (
            server.as_deref().map_or(0.0, cpu_s) - server_cpu0,
            cpu_s("self") - self_cpu0,
        );
        stop.store(true, Ordering::Release);
        let queries: Vec<QueryResult> = query_handles
            .into_iter()
            .map(|h| h.join().expect("thread panicked"))
            .collect();
        (writers, wall, cpu, queries)
    });

    let sum = |f: fn(&WriterResult) -> u64| writers.iter().map(f).sum::<u64>();
    let (sent, accepted) = (sum(|w| w.samples_sent), sum(|w| w.samples_accepted));
    let mut lat: Vec<Duration> = writers.iter().flat_map(|w| w.latencies.clone()).collect();
    let mut qlat: Vec<Duration> = queries.iter().flat_map(|q| q.latencies.clone()).collect();
    let by_expr: Vec<serde_json::Value> = a
        .queries
        .iter()
        .enumerate()
        .map(|(k, expr)| {
            let mut d: Vec<Duration> = queries.iter().flat_map(|q| q.by_expr[k].clone()).collect();
            serde_json::json!({
                "query": expr,
                "n": d.len(),
                "p50_ms": quantile_ms(&mut d, 0.50),
                "p99_ms": quantile_ms(&mut d, 0.99),
            })
        })
        .collect();
    let wall_s = wall.as_secs_f64();
    let last_t = fronts
        .iter()
        .map(|f| f.load(Ordering::Acquire))
        .max()
        .unwrap_or(0);
    let out = serde_json::json!({
        "url": a.url,
        "series": a.series,
        "points": a.points,
        "writers": a.writers,
        "per_request": a.per_request,
        "batch": a.batch,
        "step_ms": a.step_ms,
        "start_ms": start_ms,
        "last_ms": last_t,
        "encode_s": encode_s,
        "body_bytes": body_bytes,
        "samples_planned": (a.series * a.points) as u64,
        "samples_sent": sent,
        "samples_accepted": accepted,
        "requests": sum(|w| w.requests),
        "request_errors": sum(|w| w.errors),
        "timed_out": sent < (a.series * a.points) as u64,
        "wall_s": wall_s,
        "samples_per_s": accepted as f64 / wall_s,
        "req_p50_ms": quantile_ms(&mut lat, 0.50),
        "req_p99_ms": quantile_ms(&mut lat, 0.99),
        "req_max_ms": lat.last().map_or(0.0, |d| d.as_secs_f64() * 1000.0),
        "queries": qlat.len(),
        "query_errors": queries.iter().map(|q| q.errors).sum::<u64>(),
        "query_empty": queries.iter().map(|q| q.empty).sum::<u64>(),
        "query_p50_ms": quantile_ms(&mut qlat, 0.50),
        "query_p99_ms": quantile_ms(&mut qlat, 0.99),
        "query_by_expr": if a.query_url.is_some() { by_expr } else { Vec::new() },
        "client_cpu_s": client_cpu_s,
        "server_pid": a.pid,
        "server_cpu_s": a.pid.map(|_| server_cpu_s),
        "samples_per_server_cpu_s": a.pid.map(|_| accepted as f64 / server_cpu_s),
        "server_hwm_kib": a.pid.map(|p| status_kib(p, "VmHWM")),
        "server_rss_kib": a.pid.map(|p| status_kib(p, "VmRSS")),
    });
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{out}").expect("stdout");
}
