//! A query stuck in storage does not stall the server: it runs on a blocking thread, and
//! `/-/healthy` answers meanwhile (on the test's single-threaded runtime, an inline query would
//! hold the only worker until its storage gives up).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, mpsc};
use std::time::Duration;

use exporter::{AppState, router};
use model::{MemStorage, Querier, Queryable, Timestamp};
use prometheus_client::registry::Registry;

use crate::{get, storage};

/// Storage whose querier waits for a go-ahead (at most ten seconds) before reading.
struct GatedStorage {
    inner: Arc<MemStorage>,
    entered: tokio::sync::mpsc::UnboundedSender<()>,
    gate: Mutex<mpsc::Receiver<()>>,
    released: AtomicBool,
}

impl Queryable for GatedStorage {
    fn querier(&self, mint: Timestamp, maxt: Timestamp) -> model::Result<Box<dyn Querier + '_>> {
        if !self.released.load(Ordering::SeqCst) {
            let _ = self.entered.send(());
            let _ = self
                .gate
                .lock()
                .unwrap()
                .recv_timeout(Duration::from_secs(10));
            self.released.store(true, Ordering::SeqCst);
        }
        self.inner.querier(mint, maxt)
    }
}

#[tokio::test]
async fn a_stuck_query_does_not_stall_the_server() {
    let (entered_tx, mut entered_rx) = tokio::sync::mpsc::unbounded_channel();
    let (gate_tx, gate_rx) = mpsc::channel();
    let gated = Arc::new(GatedStorage {
        inner: storage(),
        entered: entered_tx,
        gate: Mutex::new(gate_rx),
        released: AtomicBool::new(false),
    });
    let state = AppState::new(
        Arc::new(Registry::default()),
        gated.clone(),
        query::Engine::default(),
    );
    let app = router(state);
    let query_app = app.clone();
    let query =
        tokio::spawn(
            async move { get(&query_app, "/api/v1/query?query=up&time=1700000000").await },
        );
    entered_rx.recv().await.unwrap();
    let health = get(&app, "/-/healthy").await;
    assert_eq!(health.status, 200);
    assert!(
        !gated.released.load(Ordering::SeqCst),
        "the server answered only after the query's storage gave up"
    );
    gate_tx.send(()).unwrap();
    let answer = query.await.unwrap();
    assert_eq!(answer.data()["result"].as_array().unwrap().len(), 2);
}
