//! Serves readers' [`collector::Family`]s through prometheus-client: a
//! [`prometheus_client::collector::Collector`] that runs every reader at scrape time.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use collector::{Collect, Family, Kind};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;

/// Runs `sources` on every scrape and encodes what they produce.
///
/// A reader that fails is logged and counted (`promlet_collector_errors_total`), and its
/// families left out; the other readers' families are still served.
#[derive(Clone)]
pub struct FamiliesCollector {
    sources: Vec<Arc<dyn Collect>>,
    errors: Arc<AtomicU64>,
    skipped: Arc<AtomicU64>,
}

impl std::fmt::Debug for FamiliesCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.sources.iter().map(|s| s.name()).collect();
        f.debug_struct("FamiliesCollector")
            .field("sources", &names)
            .finish_non_exhaustive()
    }
}

impl FamiliesCollector {
    /// A collector over `sources`.
    pub fn new(sources: Vec<Arc<dyn Collect>>) -> Self {
        Self {
            sources,
            errors: Arc::new(AtomicU64::new(0)),
            skipped: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Runs every reader once; the families, with the collector's own counters appended.
    pub fn gather(&self) -> Vec<Family> {
        let mut out = Vec::new();
        for s in &self.sources {
            match s.collect(&mut out) {
                Ok(stats) => {
                    self.skipped.fetch_add(stats.skipped, Ordering::Relaxed);
                }
                Err(e) => {
                    self.errors.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(reader = s.name(), error = %e, "collection failed");
                }
            }
        }
        let mut errors = Family::new(
            "promlet_collector_errors_total",
            "Collections in which a reader could read nothing.",
            Kind::Counter,
        );
        errors.push(&[], self.errors.load(Ordering::Relaxed) as f64);
        let mut skipped = Family::new(
            "promlet_collector_skipped_total",
            "Parts of a collection skipped, such as a cgroup that vanished mid-read.",
            Kind::Counter,
        );
        skipped.push(&[], self.skipped.load(Ordering::Relaxed) as f64);
        out.push(errors);
        out.push(skipped);
        out
    }
}

impl Collector for FamiliesCollector {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        for family in self.gather() {
            encode_family(&mut encoder, &family)?;
        }
        Ok(())
    }
}

/// Encodes one family. prometheus-client appends `_total` to counter names itself, so a
/// counter named `..._total` is declared without it; a counter whose name lacks the suffix
/// (a few node_exporter and cAdvisor names) is declared `unknown` to keep its name.
fn encode_family(
    encoder: &mut DescriptorEncoder<'_>,
    family: &Family,
) -> Result<(), std::fmt::Error> {
    let (name, kind) = match family.kind {
        Kind::Counter => match family.name.strip_suffix("_total") {
            Some(base) => (base, MetricType::Counter),
            None => (family.name.as_str(), MetricType::Unknown),
        },
        Kind::Gauge => (family.name.as_str(), MetricType::Gauge),
    };
    let mut metric = encoder.encode_descriptor(name, &family.help, None, kind)?;
    for s in &family.samples {
        let labels: Vec<(&str, &str)> = s.labels.iter().filter(|(_, v)| !v.is_empty()).collect();
        let e = metric.encode_family(&labels)?;
        match kind {
            MetricType::Counter => ConstCounter::new(s.value).encode(e)?,
            _ => ConstGauge::new(s.value).encode(e)?,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use collector::{CollectError, CollectStats};
    use prometheus_client::registry::Registry;

    struct Fixed;

    impl Collect for Fixed {
        fn name(&self) -> &'static str {
            "fixed"
        }

        fn collect(&self, out: &mut Vec<Family>) -> Result<CollectStats, CollectError> {
            let mut c = Family::new("node_cpu_seconds_total", "Seconds.", Kind::Counter);
            c.push(&[("cpu", "0"), ("mode", "idle")], 12.5);
            let mut g = Family::new("node_load1", "1m load average.", Kind::Gauge);
            g.push(&[], 0.25);
            out.push(c);
            out.push(g);
            Ok(CollectStats { skipped: 2 })
        }
    }

    struct Broken;

    impl Collect for Broken {
        fn name(&self) -> &'static str {
            "broken"
        }

        fn collect(&self, _: &mut Vec<Family>) -> Result<CollectStats, CollectError> {
            Err(CollectError {
                reader: "broken",
                message: "/proc/nothing: not found".into(),
            })
        }
    }

    #[test]
    fn families_encode_with_prometheus_names_and_failures_are_counted() {
        let mut r = Registry::default();
        r.register_collector(Box::new(FamiliesCollector::new(vec![
            Arc::new(Fixed),
            Arc::new(Broken),
        ])));
        let mut text = String::new();
        prometheus_client::encoding::prometheus_text::encode(&mut text, &r).unwrap();
        assert!(
            text.contains("# TYPE node_cpu_seconds_total counter\n"),
            "{text}"
        );
        assert!(
            text.contains("node_cpu_seconds_total{cpu=\"0\",mode=\"idle\"} 12.5\n"),
            "{text}"
        );
        assert!(
            text.contains("# TYPE node_load1 gauge\nnode_load1 0.25\n"),
            "{text}"
        );
        assert!(
            text.contains("promlet_collector_errors_total 1.0\n"),
            "{text}"
        );
        assert!(
            text.contains("promlet_collector_skipped_total 2.0\n"),
            "{text}"
        );
    }
}
