//! The `loadavg` reader: node_exporter 1.5's `loadavg` collector (`collector/loadavg_linux.go`):
//! `node_load1`, `node_load5`, `node_load15` from `/proc/loadavg`.
//!
//! Parsed by hand rather than with `procfs::LoadAverage`, whose `f32` fields would turn
//! `0.22` into `0.2199999988079071`; node_exporter parses float64.

use std::path::{Path, PathBuf};

use super::util::{self, gauge_of};
use crate::{Collect, CollectError, CollectStats, Family};

const NAME: &str = "loadavg";

/// Reads the load averages (runnable and uninterruptible tasks, averaged over 1, 5, 15 min).
#[derive(Debug, Clone)]
pub struct LoadavgCollector {
    path: PathBuf,
}

impl LoadavgCollector {
    /// A reader of `<proc_root>/loadavg`.
    pub fn new(proc_root: &Path) -> Self {
        Self {
            path: proc_root.join("loadavg"),
        }
    }
}

impl Collect for LoadavgCollector {
    fn name(&self) -> &'static str {
        NAME
    }

    fn collect(&self, out: &mut Vec<Family>) -> Result<CollectStats, CollectError> {
        let text = util::read(NAME, &self.path)?;
        let mut fields = text.split_ascii_whitespace();
        let mut loads = [0.0; 3];
        for slot in &mut loads {
            let field = fields
                .next()
                .ok_or_else(|| util::parse_error(NAME, &self.path, "unexpected content"))?;
            *slot = field.parse().map_err(|_| {
                util::parse_error(NAME, &self.path, &format!("could not parse load {field:?}"))
            })?;
        }
        out.extend([
            gauge_of("node_load1", "1m load average.", loads[0]),
            gauge_of("node_load5", "5m load average.", loads[1]),
            gauge_of("node_load15", "15m load average.", loads[2]),
        ]);
        Ok(CollectStats::default())
    }
}
