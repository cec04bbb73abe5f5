//! The database's own metrics, read at scrape time by a prometheus-client collector.

use std::sync::Arc;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Registry;

/// Exposes [`tsdb::Db::stats`] as `promlet_tsdb_*` metrics.
#[derive(Debug)]
struct TsdbCollector {
    db: Arc<tsdb::Db>,
}

impl Collector for TsdbCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let s = self.db.stats();
        let counters = [
            (
                "promlet_tsdb_samples_appended",
                "Samples committed to the database.",
                s.samples_appended,
            ),
            (
                "promlet_tsdb_out_of_order_samples",
                "Samples rejected as out of order.",
                s.out_of_order,
            ),
            (
                "promlet_tsdb_duplicate_samples",
                "Samples rejected as duplicates with another value.",
                s.duplicates,
            ),
            (
                "promlet_tsdb_out_of_bounds_samples",
                "Samples rejected as older than retention.",
                s.out_of_bounds,
            ),
            (
                "promlet_tsdb_append_failures",
                "Commits that failed with a storage error.",
                s.append_failures,
            ),
            (
                "promlet_tsdb_chunks_sealed",
                "Chunks sealed and written to storage.",
                s.chunks_sealed,
            ),
        ];
        for (name, help, v) in counters {
            let c = ConstCounter::new(v);
            c.encode(encoder.encode_descriptor(name, help, None, c.metric_type())?)?;
        }
        let gauges = [
            (
                "promlet_tsdb_head_series",
                "Series in the head.",
                s.head_series as i64,
            ),
            (
                "promlet_tsdb_head_bytes",
                "Approximate heap bytes held by the head.",
                s.head_bytes as i64,
            ),
            (
                "promlet_tsdb_storage_bytes",
                "Bytes the data directory takes on disk.",
                s.disk_bytes as i64,
            ),
            (
                "promlet_tsdb_damaged_data_files",
                "Damaged data files found since start (set aside at open or met by reads); the log and query warnings name them.",
                self.db.damaged_files().len() as i64,
            ),
        ];
        for (name, help, v) in gauges {
            let g = ConstGauge::new(v);
            g.encode(encoder.encode_descriptor(name, help, None, g.metric_type())?)?;
        }
        Ok(())
    }
}

/// Exposes each remote-write sender's counters, labelled `remote`.
#[derive(Debug)]
struct RemoteWriteCollector {
    remotes: Vec<(String, Arc<collector::remote_write::sender::Stats>)>,
}

impl Collector for RemoteWriteCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        use collector::remote_write::sender::Stats;
        use std::sync::atomic::Ordering::Relaxed;
        type Read = fn(&Stats) -> u64;
        let counters: [(&str, &str, Read); 3] = [
            (
                "promlet_remote_write_samples_sent",
                "Samples the remote-write receiver accepted.",
                |s| s.samples_sent.load(Relaxed),
            ),
            (
                "promlet_remote_write_samples_dropped",
                "Samples the receiver refused with a 4xx, not retried.",
                |s| s.samples_dropped.load(Relaxed),
            ),
            (
                "promlet_remote_write_retries",
                "Failed remote-write requests, each retried with backoff.",
                |s| s.retries.load(Relaxed),
            ),
        ];
        for (name, help, read) in counters {
            let c = ConstCounter::new(0u64);
            let mut metric = encoder.encode_descriptor(name, help, None, c.metric_type())?;
            for (remote, stats) in &self.remotes {
                let labels = vec![("remote".to_string(), remote.clone())];
                ConstCounter::new(read(stats)).encode(metric.encode_family(&labels)?)?;
            }
        }
        let g = ConstGauge::new(0i64);
        let mut metric = encoder.encode_descriptor(
            "promlet_remote_write_watermark_seconds",
            "Every sample up to this time has been sent (Unix seconds).",
            None,
            g.metric_type(),
        )?;
        for (remote, stats) in &self.remotes {
            let labels = vec![("remote".to_string(), remote.clone())];
            let wm = i64::try_from(stats.watermark_ms.load(Relaxed) / 1000).unwrap_or(0);
            ConstGauge::new(wm).encode(metric.encode_family(&labels)?)?;
        }
        Ok(())
    }
}

/// A registry with the database's metrics and the remote-write senders' counters.
pub(crate) fn registry(
    db: Arc<tsdb::Db>,
    remotes: Vec<(String, Arc<collector::remote_write::sender::Stats>)>,
) -> Registry {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(TsdbCollector { db }));
    if !remotes.is_empty() {
        registry.register_collector(Box::new(RemoteWriteCollector { remotes }));
    }
    registry
}
