//! The scrape loop against a tiny HTTP target whose body changes: a vanished series gets a
//! staleness marker; a target that stops answering gets `up` 0 and markers for all its
//! series; a removed target gets markers for its report series too.

#![allow(clippy::unwrap_used)]

mod support;

use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use support::{answer, samples, wait_for};

use collector::scrape::relabel::LabelMap;
use collector::scrape::{Config, Manager, system_clock};
use model::{MemStorage, is_stale_nan};

/// A one-thread HTTP server answering every request with the current body.
struct FakeTarget {
    addr: String,
    body: Arc<Mutex<String>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FakeTarget {
    fn start(body: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let body = Arc::new(Mutex::new(body.to_string()));
        let stop = Arc::new(AtomicBool::new(false));
        let (b, s) = (body.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    return;
                }
                if let Ok(conn) = conn {
                    answer(conn, &b.lock().unwrap());
                }
            }
        });
        Self {
            addr,
            body,
            stop,
            thread: Some(thread),
        }
    }

    fn set_body(&self, body: &str) {
        *self.body.lock().unwrap() = body.to_string();
    }

    /// Stops accepting: afterwards connections are refused.
    fn stop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(&self.addr);
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
    }
}

impl Drop for FakeTarget {
    fn drop(&mut self) {
        self.stop();
    }
}

fn last_is_stale(db: &MemStorage, name: &str) -> bool {
    samples(db, name)
        .first()
        .and_then(|(_, s)| s.last())
        .is_some_and(|s| is_stale_nan(s.v))
}

fn last_value(db: &MemStorage, name: &str) -> Option<f64> {
    samples(db, name)
        .first()
        .and_then(|(_, s)| s.last())
        .map(|s| s.v)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vanished_series_and_stopped_targets_get_staleness_markers() {
    let mut target = FakeTarget::start("a 1\nb{x=\"1\"} 2\n");
    let config = format!(
        "scrape_configs:\n  - job_name: fake\n    scrape_interval: 200ms\n    scrape_timeout: 200ms\n    static_configs:\n      - targets: ['{}']\n",
        target.addr
    );
    let loaded = Config::load(&config).unwrap();
    let db = Arc::new(MemStorage::new());
    let mut manager = Manager::start(
        &loaded,
        db.clone(),
        system_clock(),
        Vec::new(),
        LabelMap::new(),
    );

    wait_for("the first scrape", || last_value(&db, "up") == Some(1.0)).await;
    let b = samples(&db, "b");
    assert_eq!(b[0].0.get("job").unwrap(), "fake");
    assert_eq!(b[0].0.get("instance").unwrap(), &target.addr);
    assert_eq!(b[0].0.get("x").unwrap(), "1");
    assert_eq!(last_value(&db, "scrape_samples_scraped"), Some(2.0));
    let active = manager.active();
    assert_eq!(active[0].health.up, Some(true));
    assert_eq!(active[0].url, format!("http://{}/metrics", target.addr));

    target.set_body("a 1\n");
    wait_for("b's staleness marker", || last_is_stale(&db, "b")).await;
    assert!(!last_is_stale(&db, "a"));

    target.stop();
    wait_for("up 0", || last_value(&db, "up") == Some(0.0)).await;
    assert!(
        last_is_stale(&db, "a"),
        "a is stale once the target is down"
    );
    assert!(!manager.active()[0].health.last_error.is_empty());

    let url = manager.active()[0].url.clone();
    assert!(manager.remove_target(&url).await);
    assert!(
        last_is_stale(&db, "up"),
        "a removed target's report series are stale"
    );
    assert!(manager.active().is_empty());
    manager.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn honor_labels_and_exported_prefix() {
    let target = FakeTarget::start("m{job=\"inner\",instance=\"i\"} 3\n");
    let config = format!(
        "scrape_configs:\n  - job_name: plain\n    scrape_interval: 200ms\n    scrape_timeout: 100ms\n    static_configs: [{{targets: ['{0}']}}]\n  - job_name: honor\n    honor_labels: true\n    scrape_interval: 200ms\n    scrape_timeout: 100ms\n    metrics_path: /other\n    static_configs: [{{targets: ['{0}']}}]\n",
        target.addr
    );
    let loaded = Config::load(&config).unwrap();
    let db = Arc::new(MemStorage::new());
    let manager = Manager::start(
        &loaded,
        db.clone(),
        system_clock(),
        Vec::new(),
        LabelMap::new(),
    );
    wait_for("both jobs", || samples(&db, "m").len() == 2).await;
    let got: Vec<LabelMap> = samples(&db, "m").into_iter().map(|(l, _)| l).collect();
    let plain = got
        .iter()
        .find(|l| l.get("job").map(String::as_str) == Some("plain"))
        .unwrap();
    assert_eq!(plain.get("exported_job").unwrap(), "inner");
    assert_eq!(plain.get("exported_instance").unwrap(), "i");
    let honored = got
        .iter()
        .find(|l| l.get("job").map(String::as_str) == Some("inner"))
        .unwrap();
    assert_eq!(honored.get("instance").unwrap(), "i");
    assert!(honored.get("exported_job").is_none());
    manager.shutdown().await;
}
