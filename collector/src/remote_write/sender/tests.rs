//! Tests of the sender against a storage and a receiver in the test.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::AtomicUsize;
use std::time::Instant;

use model::{Querier, Sample, Series, SeriesSet};

use super::shards::{Pool, ShardState};
use super::*;
use crate::remote_write::proto::decode_write_request;
use parking_lot::Mutex;

fn ts(name: &str, n: usize) -> TimeSeries {
    TimeSeries {
        labels: vec![("__name__".into(), name.into())],
        samples: (0..n).map(|i| (i as i64, 1.0)).collect(),
        histograms: 0,
    }
}

#[test]
fn take_cuts_full_requests_of_at_most_max_and_keeps_order_and_everything() {
    let mut st = ShardState::default();
    for part in [ts("a", 7), ts("b", 3), ts("c", 12)] {
        st.queued += part.samples.len();
        st.queue.push_back(part);
    }
    let mut requests = Vec::new();
    loop {
        let mut batch = Vec::new();
        let n = st.take(5, &mut batch);
        if n == 0 {
            break;
        }
        assert_eq!(n, batch.iter().map(|s| s.samples.len()).sum::<usize>());
        assert!(
            n == 5 || st.queue.is_empty(),
            "a short request before the end: {n}"
        );
        requests.push(batch);
    }
    assert_eq!((requests.len(), st.queued), (5, 0));
    for (name, n) in [("a", 7), ("b", 3), ("c", 12)] {
        let sent: Vec<(i64, f64)> = requests
            .iter()
            .flatten()
            .filter(|s| s.labels[0].1 == name)
            .flat_map(|s| s.samples.iter().copied())
            .collect();
        assert_eq!(sent, ts(name, n).samples, "{name}");
    }
}

/// Stored series, read back one at a time, with one read error on demand.
struct Store {
    series: Vec<Series>,
    /// The index of the series whose read fails, once.
    fail_at: AtomicUsize,
    /// Series read so far.
    pulled: AtomicUsize,
}

struct StoreQuerier<'a> {
    store: &'a Store,
    mint: i64,
    maxt: i64,
}

impl Queryable for Store {
    fn querier(&self, mint: i64, maxt: i64) -> model::Result<Box<dyn Querier + '_>> {
        Ok(Box::new(StoreQuerier {
            store: self,
            mint,
            maxt,
        }))
    }
}

impl Querier for StoreQuerier<'_> {
    fn select(&self, _: &SelectHints, _: &[Matcher]) -> model::Result<SeriesSet<'_>> {
        let (store, mint, maxt) = (self.store, self.mint, self.maxt);
        Ok(Box::new(store.series.iter().enumerate().filter_map(
            move |(i, s)| {
                let failing = store.fail_at.compare_exchange(
                    i,
                    usize::MAX,
                    Ordering::SeqCst,
                    Ordering::SeqCst,
                );
                if failing.is_ok() {
                    return Some(Err(model::Error::Storage("injected".into())));
                }
                store.pulled.fetch_add(1, Ordering::SeqCst);
                let samples: Vec<Sample> = s
                    .samples
                    .iter()
                    .filter(|p| p.t >= mint && p.t <= maxt)
                    .copied()
                    .collect();
                (!samples.is_empty()).then(|| {
                    Ok(Series {
                        labels: s.labels.clone(),
                        samples,
                    })
                })
            },
        )))
    }

    fn label_names(&self, _: &[Matcher]) -> model::Result<Vec<String>> {
        Ok(Vec::new())
    }

    fn label_values(&self, _: &str, _: &[Matcher]) -> model::Result<Vec<String>> {
        Ok(Vec::new())
    }
}

/// `series` series `s<i>` with a sample every 100 ms in `(0, end_ms]`.
fn store(series: usize, end_ms: i64) -> Arc<Store> {
    Arc::new(Store {
        series: (0..series)
            .map(|i| Series {
                labels: Labels::from_pairs(&[("__name__", format!("s{i}"))]).unwrap(),
                samples: (1..=end_ms / 100)
                    .map(|k| Sample::new(k * 100, (i * 1000) as f64 + k as f64))
                    .collect(),
            })
            .collect(),
        fail_at: AtomicUsize::new(usize::MAX),
        pulled: AtomicUsize::new(0),
    })
}

type Answer = Box<dyn Fn(usize, &[TimeSeries]) -> u16 + Send + Sync>;

/// A remote-write receiver on 127.0.0.1 keeping the requests it accepts, answering each
/// request (numbered from 0) with `answer`'s status.
struct Receiver {
    url: String,
    answer: Answer,
    accepted: Mutex<Vec<Vec<TimeSeries>>>,
    requests: AtomicUsize,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

fn receiver(answer: Answer) -> Arc<Receiver> {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let rx = Arc::new(Receiver {
        url: format!("http://{}/api/v1/write", listener.local_addr().unwrap()),
        answer,
        accepted: Mutex::new(Vec::new()),
        requests: AtomicUsize::new(0),
        in_flight: AtomicUsize::new(0),
        max_in_flight: AtomicUsize::new(0),
    });
    let server = rx.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let server = server.clone();
            std::thread::spawn(move || server.serve(conn));
        }
    });
    rx
}

impl Receiver {
    /// Answers the requests of one keep-alive connection.
    fn serve(&self, conn: TcpStream) {
        let mut reader = BufReader::new(conn.try_clone().unwrap());
        let mut out = conn;
        out.set_nodelay(true).unwrap();
        loop {
            let mut len = 0;
            let mut line = String::new();
            loop {
                line.clear();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    return;
                }
                if line == "\r\n" {
                    break;
                }
                if let Some((k, v)) = line.split_once(':')
                    && k.eq_ignore_ascii_case("content-length")
                {
                    len = v.trim().parse().unwrap();
                }
            }
            let mut body = vec![0; len];
            reader.read_exact(&mut body).unwrap();
            let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            self.max_in_flight.fetch_max(now, Ordering::SeqCst);
            let raw = snap::raw::Decoder::new().decompress_vec(&body).unwrap();
            let series = decode_write_request(&raw).unwrap();
            std::thread::sleep(Duration::from_millis(1));
            let code = (self.answer)(self.requests.fetch_add(1, Ordering::SeqCst), &series);
            if (200..300).contains(&code) {
                self.accepted.lock().push(series);
            }
            self.in_flight.fetch_sub(1, Ordering::SeqCst);
            let head = format!("HTTP/1.1 {code} X\r\nContent-Length: 0\r\n\r\n");
            if out.write_all(head.as_bytes()).is_err() {
                return;
            }
        }
    }

    /// The samples received per series, in the order they were accepted.
    fn received(&self) -> BTreeMap<String, Vec<(i64, f64)>> {
        let mut out: BTreeMap<String, Vec<(i64, f64)>> = BTreeMap::new();
        for ts in self.accepted.lock().iter().flatten() {
            out.entry(ts.labels[0].1.clone())
                .or_default()
                .extend(&ts.samples);
        }
        out
    }
}

use std::collections::BTreeMap;

/// The samples of `store` per series, as a receiver should get them.
fn expected(store: &Store) -> BTreeMap<String, Vec<(i64, f64)>> {
    store
        .series
        .iter()
        .map(|s| {
            let samples = s.samples.iter().map(|p| (p.t, p.v)).collect();
            (s.labels.get("__name__").unwrap().to_string(), samples)
        })
        .collect()
}

/// The clock of the tests: every window up to it is due.
const NOW: i64 = 100_000;

/// A sender to `url` with `queue_config: {queue}` over `store`, from watermark 0.
fn sender(url: &str, queue: &str, store: Arc<Store>) -> (Sender, tempfile::TempDir) {
    let cfg: RemoteWriteConfig =
        serde_yaml::from_str(&format!("url: {url}\nname: t\nqueue_config: {{{queue}}}\n")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("t.watermark"), "0\n").unwrap();
    let sender = Sender::new(cfg, LabelMap::new(), store, dir.path(), 0).unwrap();
    (sender, dir)
}

/// Runs a sender with `queue_config: {queue}` from watermark 0 over `store` to `rx` until
/// `done` holds (or 60 s have passed), then stops it; its counters.
fn run_until(
    store: Arc<Store>,
    rx: &Receiver,
    queue: &str,
    done: impl Fn(&Stats) -> bool,
) -> Arc<Stats> {
    let (sender, _dir) = sender(&rx.url, queue, store);
    let stats = sender.stats.clone();
    let stop = AtomicBool::new(false);
    let started = Instant::now();
    /// Sets the flag when dropped, also when a check panics.
    struct StopOnDrop<'a>(&'a AtomicBool);
    impl Drop for StopOnDrop<'_> {
        fn drop(&mut self) {
            self.0.store(true, Ordering::Relaxed);
        }
    }
    std::thread::scope(|s| {
        s.spawn(|| sender.run(&stop, &|| NOW));
        let _stop = StopOnDrop(&stop);
        while !done(&stats) && started.elapsed() < Duration::from_secs(60) {
            std::thread::sleep(Duration::from_millis(10));
        }
    });
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "the sender did not finish"
    );
    stats
}

fn finished(stats: &Stats) -> bool {
    stats.watermark_ms.load(Ordering::Relaxed) == NOW as u64
}

#[test]
fn every_sample_arrives_once_in_order_in_full_requests_from_reused_shards() {
    let store = store(40, 60_000);
    let rx = receiver(Box::new(|_, _| 204));
    let stats = run_until(
        store.clone(),
        &rx,
        "max_samples_per_send: 70, capacity: 300, max_shards: 4, min_shards: 4",
        finished,
    );
    assert_eq!(rx.received(), expected(&store));
    let total: usize = 40 * 600;
    assert_eq!(stats.samples_sent.load(Ordering::Relaxed), total as u64);
    let requests = rx.accepted.lock().clone();
    for r in &requests {
        let n: usize = r.iter().map(|s| s.samples.len()).sum();
        assert!(n <= 70, "a request of {n} samples");
    }
    // Full requests but for the last one of each shard in each of the 6 windows.
    assert!(
        requests.len() <= total.div_ceil(70) + 6 * 4,
        "{}",
        requests.len()
    );
    assert!(rx.max_in_flight.load(Ordering::SeqCst) <= 4);
    // 4 shards, started once, not once per window.
    assert_eq!(stats.shard_threads.load(Ordering::Relaxed), 4);
    assert_eq!(stats.shards.load(Ordering::Relaxed), 4);
}

#[test]
fn shards_follow_the_receivers_speed_and_the_backlog() {
    let (s, _dir) = sender(
        "http://127.0.0.1:1/",
        "max_shards: 200, min_shards: 1",
        store(1, 100),
    );
    let window = 10_000;
    // 50k samples/s (500k per 10 s window), requests costing 2 µs per sample.
    let fast = 2_000_000;
    // Caught up: 0.1 of a shard's time.
    assert_eq!(s.shards_wanted(500_000, fast, window, 0), Some(1));
    // 10 minutes behind: the backlog of 30M samples in 2 s, 15.05M samples/s.
    assert_eq!(s.shards_wanted(500_000, fast, window, 600_000), Some(31));
    // A receiver 50 times slower wants more than max_shards.
    assert_eq!(
        s.shards_wanted(500_000, 50 * fast, window, 600_000),
        Some(200)
    );
    // Nothing measured: no change.
    assert_eq!(s.shards_wanted(0, fast, window, 600_000), None);
    assert_eq!(s.shards_wanted(500_000, u64::MAX, window, 600_000), None);
}

#[test]
fn a_slow_receiver_gets_more_shards_a_fast_one_one() {
    let slow = receiver(Box::new(|_, _| {
        std::thread::sleep(Duration::from_millis(20));
        204
    }));
    let store_slow = store(100, 30_000);
    let stats = run_until(
        store_slow.clone(),
        &slow,
        "max_samples_per_send: 50, max_shards: 8",
        finished,
    );
    assert_eq!(slow.received(), expected(&store_slow));
    // 400 µs per sample, 1,000 samples/s with up to 70 s behind: up to 8 shards.
    let started = stats.shard_threads.load(Ordering::Relaxed);
    assert!((3..=8).contains(&started), "{started}");
    assert!(slow.max_in_flight.load(Ordering::SeqCst) >= 3);

    let fast = receiver(Box::new(|_, _| 204));
    let store_fast = store(20, 60_000);
    let stats = run_until(
        store_fast.clone(),
        &fast,
        "max_samples_per_send: 50, max_shards: 8",
        finished,
    );
    assert_eq!(fast.received(), expected(&store_fast));
    assert_eq!(stats.shard_threads.load(Ordering::Relaxed), 1);
}

#[test]
fn an_outage_is_retried_until_everything_arrives_once_in_order() {
    let store = store(30, 30_000);
    let rx = receiver(Box::new(|k, _| if k < 40 { 503 } else { 204 }));
    let stats = run_until(
        store.clone(),
        &rx,
        "max_samples_per_send: 50, max_shards: 3, min_shards: 3, min_backoff: 1ms, max_backoff: 10ms",
        finished,
    );
    assert_eq!(rx.received(), expected(&store));
    assert!(stats.retries.load(Ordering::Relaxed) >= 40);
    assert_eq!(stats.samples_dropped.load(Ordering::Relaxed), 0);
}

#[test]
fn a_4xx_drops_its_request_and_the_rest_arrives() {
    let store = store(20, 20_000);
    let bad = |r: &[TimeSeries]| r.iter().any(|s| s.labels[0].1 == "s7");
    let rx = receiver(Box::new(move |_, r| if bad(r) { 400 } else { 204 }));
    let stats = run_until(
        store.clone(),
        &rx,
        "max_samples_per_send: 40, max_shards: 2, min_shards: 2",
        finished,
    );
    let (sent, dropped) = (
        stats.samples_sent.load(Ordering::Relaxed),
        stats.samples_dropped.load(Ordering::Relaxed),
    );
    assert!(dropped >= 200, "{dropped}");
    assert_eq!(sent + dropped, 20 * 200);
    let got = rx.received();
    assert!(!got.contains_key("s7"));
    assert_eq!(got.values().map(Vec::len).sum::<usize>() as u64, sent);
}

#[test]
fn a_read_error_halfway_retries_the_window_without_sending_anything_twice() {
    let store = store(50, 30_000);
    store.fail_at.store(25, Ordering::SeqCst);
    let rx = receiver(Box::new(|_, _| 204));
    run_until(
        store.clone(),
        &rx,
        "max_samples_per_send: 60, max_shards: 3, max_backoff: 10ms",
        finished,
    );
    assert_eq!(
        store.fail_at.load(Ordering::SeqCst),
        usize::MAX,
        "no error injected"
    );
    assert_eq!(rx.received(), expected(&store));
}

#[test]
fn a_stalled_receiver_holds_the_reader_at_capacity_per_shard() {
    let store = store(200, 10_000);
    let open = Arc::new(AtomicBool::new(false));
    let gate = open.clone();
    let rx = receiver(Box::new(move |_, _| {
        if gate.load(Ordering::SeqCst) {
            204
        } else {
            503
        }
    }));
    let pulled = store.clone();
    let stats = run_until(
        store.clone(),
        &rx,
        "max_samples_per_send: 70, capacity: 150, max_shards: 2, min_shards: 2, min_backoff: 1ms, max_backoff: 5ms",
        |stats| {
            if !open.load(Ordering::SeqCst) && stats.retries.load(Ordering::Relaxed) > 50 {
                // Each series has 100 samples in the window: a shard holds at most
                // 150 queued and 70 in flight, about 2 series, plus one being queued.
                let n = pulled.pulled.load(Ordering::SeqCst);
                assert!(n <= 2 * 4, "{n} of 200 series read while nothing is sent");
                open.store(true, Ordering::SeqCst);
            }
            finished(stats)
        },
    );
    assert_eq!(rx.received(), expected(&store));
    assert_eq!(stats.samples_sent.load(Ordering::Relaxed), 200 * 100);
}

/// Runs `f` with a pool of `sender`'s shard workers.
fn with_pool<R>(sender: &Sender, stop: &AtomicBool, f: impl FnOnce(&mut Pool<'_, '_>) -> R) -> R {
    std::thread::scope(|scope| {
        let mut pool = Pool {
            scope,
            sender,
            stop,
            shards: Vec::new(),
        };
        f(&mut pool)
    })
}

#[test]
fn late_samples_left_by_a_stop_are_sent_at_the_next_start() {
    let rx = receiver(Box::new(|_, _| 204));
    let (s, dir) = sender(&rx.url, "", store(0, 0));
    let pending = [ts("a", 3), ts("b", 2)];
    // A run wrote them and stopped before they were sent.
    s.save_pending(&pending).unwrap();
    assert!(dir.path().join("t.late").exists());
    let stop = AtomicBool::new(false);
    with_pool(&s, &stop, |pool| s.resume_pending(2, pool, &stop)).unwrap();
    let want: BTreeMap<String, Vec<(i64, f64)>> = pending
        .iter()
        .map(|t| (t.labels[0].1.clone(), t.samples.clone()))
        .collect();
    assert_eq!(rx.received(), want);
    assert!(!dir.path().join("t.late").exists(), "removed once sent");
    // Nothing left: the next start sends nothing.
    let requests = rx.requests.load(Ordering::SeqCst);
    with_pool(&s, &stop, |pool| s.resume_pending(2, pool, &stop)).unwrap();
    assert_eq!(rx.requests.load(Ordering::SeqCst), requests);
}

#[test]
fn a_pending_file_that_does_not_decode_is_set_aside_and_named() {
    let (s, dir) = sender("http://127.0.0.1:9/api/v1/write", "", store(0, 0));
    std::fs::write(dir.path().join("t.late"), b"\xff\xff\xff").unwrap();
    let stop = AtomicBool::new(false);
    let err = with_pool(&s, &stop, |pool| s.resume_pending(1, pool, &stop)).unwrap_err();
    assert!(err.contains("t.late"), "{err}");
    assert!(dir.path().join("t.late.bad").exists());
    with_pool(&s, &stop, |pool| s.resume_pending(1, pool, &stop)).unwrap();
}

/// Late samples handed out once, with a count of those not kept.
struct FakeLate {
    take: Mutex<Option<model::LateTake>>,
    horizons: Mutex<Vec<(String, i64)>>,
}

impl model::LateSamples for FakeLate {
    fn set_horizon(&self, reader: &str, horizon: i64) {
        self.horizons.lock().push((reader.to_string(), horizon));
    }
    fn take_late(&self, _: &str) -> model::Result<model::LateTake> {
        Ok(self.take.lock().take().unwrap_or_default())
    }
}

#[test]
fn late_samples_leave_out_what_the_window_sent_and_count_what_was_not_kept() {
    let late = Arc::new(FakeLate {
        take: Mutex::new(Some(model::LateTake {
            series: vec![
                Series {
                    labels: Labels::from_pairs(&[("__name__", "s0")]).unwrap(),
                    samples: vec![Sample::new(50, 1.0), Sample::new(150, 2.0)],
                },
                Series {
                    labels: Labels::from_pairs(&[("__name__", "new")]).unwrap(),
                    samples: vec![Sample::new(40, 3.0)],
                },
            ],
            not_kept: 2,
        })),
        horizons: Mutex::new(Vec::new()),
    });
    let (s, dir) = sender("http://127.0.0.1:9/api/v1/write", "", store(0, 0));
    let s = s.with_late(late.clone());
    // Registered at once, at the persisted watermark.
    assert_eq!(
        *late.horizons.lock(),
        vec![("remote_write/t".to_string(), 0)]
    );
    // The window sent s0 up to 100: only its sample at 150 is late news.
    let s0: Vec<(String, String)> = vec![("__name__".into(), "s0".into())];
    let newest = HashMap::from([(hash64(&s0), 100)]);
    let got = s.take_late_pending(&newest).unwrap().unwrap();
    let got: Vec<(String, Vec<(i64, f64)>)> = got
        .into_iter()
        .map(|t| (t.labels[0].1.clone(), t.samples))
        .collect();
    assert_eq!(
        got,
        vec![
            ("s0".to_string(), vec![(150, 2.0)]),
            ("new".to_string(), vec![(40, 3.0)])
        ]
    );
    assert_eq!(s.stats.samples_dropped.load(Ordering::Relaxed), 2);
    // On their way, they are in the pending file.
    let body = std::fs::read(dir.path().join("t.late")).unwrap();
    assert_eq!(decode_write_request(&body).unwrap().len(), 2);
    assert_eq!(s.take_late_pending(&newest).unwrap(), None);
}
