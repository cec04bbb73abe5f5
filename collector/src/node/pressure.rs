//! The `pressure` reader: node_exporter 1.5's `pressure` collector
//! (`collector/pressure_linux.go`): the `total` stall time of `/proc/pressure/{cpu,io,memory}`
//! (Linux ≥ 4.20 with PSI enabled), in seconds.
//!
//! A missing file (no PSI in the kernel) or one the kernel refuses (`psi=0`) is skipped,
//! not an error. The `full` line of `cpu` is not exposed, as in node_exporter 1.5.

use std::path::{Path, PathBuf};

use procfs::PressureRecord;

use super::util::{self, counter_of};
use crate::{Collect, CollectError, CollectStats, Family};

const NAME: &str = "pressure";

/// The `some` and (where the kernel prints it) `full` records of one resource.
#[derive(Debug, Clone)]
struct Records {
    some: PressureRecord,
    full: Option<PressureRecord>,
}

/// Reads pressure stall information.
#[derive(Debug, Clone)]
pub struct PressureCollector {
    dir: PathBuf,
}

impl PressureCollector {
    /// A reader of `<proc_root>/pressure/`.
    pub fn new(proc_root: &Path) -> Self {
        Self {
            dir: proc_root.join("pressure"),
        }
    }

    /// Reads and parses one resource file; `None` when it is absent.
    fn read(&self, resource: &str) -> Result<Option<Records>, CollectError> {
        let path = self.dir.join(resource);
        let Some(text) = util::read_optional(NAME, &path)? else {
            return Ok(None);
        };
        let bad = |e: procfs::ProcError| util::parse_error(NAME, &path, &e.to_string());
        let mut some = None;
        let mut full = None;
        for line in text.lines() {
            if line.starts_with("some ") {
                some = Some(procfs::parse_pressure_record(line).map_err(bad)?);
            } else if line.starts_with("full ") {
                full = Some(procfs::parse_pressure_record(line).map_err(bad)?);
            }
        }
        let some = some.ok_or_else(|| util::parse_error(NAME, &path, "no `some` line"))?;
        Ok(Some(Records { some, full }))
    }
}

/// Microseconds of stall to seconds.
fn seconds(r: &PressureRecord) -> f64 {
    r.total as f64 / 1000.0 / 1000.0
}

impl Collect for PressureCollector {
    fn name(&self) -> &'static str {
        NAME
    }

    fn collect(&self, out: &mut Vec<Family>) -> Result<CollectStats, CollectError> {
        if let Some(cpu) = self.read("cpu")? {
            out.push(counter_of(
                "node_pressure_cpu_waiting_seconds_total",
                "Total time in seconds that processes have waited for CPU time",
                seconds(&cpu.some),
            ));
        }
        if let Some(io) = self.read("io")? {
            out.push(counter_of(
                "node_pressure_io_waiting_seconds_total",
                "Total time in seconds that processes have waited due to IO congestion",
                seconds(&io.some),
            ));
            out.push(counter_of(
                "node_pressure_io_stalled_seconds_total",
                "Total time in seconds no process could make progress due to IO congestion",
                io.full.as_ref().map_or(0.0, seconds),
            ));
        }
        if let Some(mem) = self.read("memory")? {
            out.push(counter_of(
                "node_pressure_memory_waiting_seconds_total",
                "Total time in seconds that processes have waited for memory",
                seconds(&mem.some),
            ));
            out.push(counter_of(
                "node_pressure_memory_stalled_seconds_total",
                "Total time in seconds no process could make progress due to memory congestion",
                mem.full.as_ref().map_or(0.0, seconds),
            ));
        }
        Ok(CollectStats::default())
    }
}
