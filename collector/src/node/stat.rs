//! The `stat` reader: node_exporter 1.5's `stat` collector (`collector/stat_linux.go`,
//! `--collector.stat.softirq` off): boot time, context switches, forks, interrupts and
//! process counts from `/proc/stat`.
//!
//! node_exporter has no uptime metric: uptime is `node_time_seconds - node_boot_time_seconds`.

use std::path::{Path, PathBuf};

use super::procstat;
use super::util::{self, counter_of, gauge_of};
use crate::{Collect, CollectError, CollectStats, Family};

const NAME: &str = "stat";

/// Reads the system-wide counters of `/proc/stat`.
#[derive(Debug, Clone)]
pub struct StatCollector {
    stat: PathBuf,
}

impl StatCollector {
    /// A reader of `<proc_root>/stat`.
    pub fn new(proc_root: &Path) -> Self {
        Self {
            stat: proc_root.join("stat"),
        }
    }
}

impl Collect for StatCollector {
    fn name(&self) -> &'static str {
        NAME
    }

    fn collect(&self, out: &mut Vec<Family>) -> Result<CollectStats, CollectError> {
        let text = util::read(NAME, &self.stat)?;
        let t = procstat::totals(&text).map_err(|e| util::parse_error(NAME, &self.stat, &e))?;
        out.extend([
            counter_of(
                "node_intr_total",
                "Total number of interrupts serviced.",
                t.intr,
            ),
            counter_of(
                "node_context_switches_total",
                "Total number of context switches.",
                t.ctxt,
            ),
            counter_of("node_forks_total", "Total number of forks.", t.processes),
            gauge_of(
                "node_boot_time_seconds",
                "Node boot time, in unixtime.",
                t.btime,
            ),
            gauge_of(
                "node_procs_running",
                "Number of processes in runnable state.",
                t.running,
            ),
            gauge_of(
                "node_procs_blocked",
                "Number of processes blocked waiting for I/O to complete.",
                t.blocked,
            ),
        ]);
        Ok(CollectStats::default())
    }
}
