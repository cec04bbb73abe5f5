//! What the scrape and discovery tests share: a tiny metrics endpoint, reading series back
//! from the model storage, and waiting for a condition.

#![allow(dead_code, clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use collector::scrape::relabel::LabelMap;
use model::{Matcher, MemStorage, Queryable, Sample, SelectHints};

/// A metrics endpoint on 127.0.0.1 answering every request with `body`; returns its port.
pub(crate) fn metrics_server(body: &'static str) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            answer(conn, body);
        }
    });
    port
}

/// Reads a request's head from `conn` and answers `body` as Prometheus text.
pub(crate) fn answer(mut conn: TcpStream, body: &str) {
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut line = String::new();
    while reader.read_line(&mut line).is_ok_and(|n| n > 0) {
        if line == "\r\n" {
            break;
        }
        line.clear();
    }
    let _ = write!(
        conn,
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

/// Every series named `name` in `db`: its labels and samples.
pub(crate) fn samples(db: &MemStorage, name: &str) -> Vec<(LabelMap, Vec<Sample>)> {
    let q = db.querier(i64::MIN, i64::MAX).unwrap();
    let hints = SelectHints {
        start: i64::MIN,
        end: i64::MAX,
        ..SelectHints::default()
    };
    q.select(&hints, &[Matcher::equal("__name__", name)])
        .unwrap()
        .map(|s| {
            let s = s.unwrap();
            let labels = s
                .labels
                .iter()
                .map(|l| (l.name.to_string(), l.value.to_string()))
                .collect();
            (labels, s.samples)
        })
        .collect()
}

/// Polls `cond` every 20 ms until it holds; fails after 20 s.
pub(crate) async fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A label map from pairs.
pub(crate) fn labels(pairs: &[(&str, &str)]) -> LabelMap {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}
