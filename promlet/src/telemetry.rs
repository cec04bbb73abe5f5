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
        ];
        for (name, help, v) in gauges {
            let g = ConstGauge::new(v);
            g.encode(encoder.encode_descriptor(name, help, None, g.metric_type())?)?;
        }
        Ok(())
    }
}

/// A registry with the database's metrics.
pub(crate) fn registry(db: Arc<tsdb::Db>) -> Registry {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(TsdbCollector { db }));
    registry
}
