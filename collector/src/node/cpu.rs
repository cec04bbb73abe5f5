//! The `cpu` reader: node_exporter 1.5's `cpu` collector (`collector/cpu_linux.go`) with its
//! defaults (`--collector.cpu.guest` on, `--collector.cpu.info` off).
//!
//! - `node_cpu_seconds_total{cpu,mode}`: `/proc/stat` ticks / USER_HZ for user, nice, system,
//!   idle, iowait, irq, softirq, steal;
//! - `node_cpu_guest_seconds_total{cpu,mode}`: guest (`user`) and guest_nice (`nice`);
//! - `node_cpu_core_throttles_total{package,core}` and `node_cpu_package_throttles_total{package}`
//!   from `/sys/devices/system/cpu/cpu*/thermal_throttle` where the kernel has them;
//! - `node_cpu_isolated{cpu}` for the CPUs in `/sys/devices/system/cpu/isolated`.
//!
//! Like node_exporter, a counter that goes backwards keeps its previous value, and an idle
//! counter that drops by 3 s or more (a CPU hot-plugged) resets that CPU's stored values.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;

use super::procstat::{self, CPU_FIELDS, CpuLine};
use super::util::{self, counter, gauge};
use crate::{Collect, CollectError, CollectStats, Family};

const NAME: &str = "cpu";
const MODES: [&str; 8] = [
    "user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal",
];
/// Index of `idle` in a `/proc/stat` line.
const IDLE: usize = 3;
/// node_exporter's `jumpBackSeconds`.
const JUMP_BACK_SECONDS: f64 = 3.0;

/// Reads CPU time per CPU and mode.
#[derive(Debug)]
pub struct CpuCollector {
    stat: PathBuf,
    cpu_dir: PathBuf,
    user_hz: f64,
    /// Isolated CPU numbers, read once at construction as node_exporter does.
    isolated: Vec<u32>,
    last: Mutex<Vec<CpuLine>>,
}

impl CpuCollector {
    /// A reader of `<proc>/stat` and `<sys>/devices/system/cpu`; `user_hz` is the kernel's
    /// USER_HZ (ticks per second, 100 on every Linux architecture node_exporter supports).
    ///
    /// # Errors
    /// When `<sys>/devices/system/cpu/isolated` exists but does not parse.
    pub fn new(
        proc_root: &std::path::Path,
        sys_root: &std::path::Path,
        user_hz: f64,
    ) -> Result<Self, CollectError> {
        let cpu_dir = sys_root.join("devices/system/cpu");
        let isolated = read_isolated(&cpu_dir.join("isolated"))?;
        Ok(Self {
            stat: proc_root.join("stat"),
            cpu_dir,
            user_hz,
            isolated,
            last: Mutex::new(Vec::new()),
        })
    }

    /// Applies node_exporter's backwards-counter rules to `new`, returning what to expose.
    fn guard(&self, new: Vec<CpuLine>) -> Vec<CpuLine> {
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        if last.len() != new.len() {
            *last = new
                .iter()
                .map(|l| CpuLine {
                    id: l.id,
                    seconds: [0.0; CPU_FIELDS],
                })
                .collect();
        }
        for (old, n) in last.iter_mut().zip(&new) {
            if old.seconds[IDLE] - n.seconds[IDLE] >= JUMP_BACK_SECONDS {
                old.seconds = [0.0; CPU_FIELDS];
            }
            old.id = n.id;
            for (o, v) in old.seconds.iter_mut().zip(n.seconds) {
                if v >= *o {
                    *o = v;
                }
            }
        }
        last.clone()
    }

    fn throttles(&self, out: &mut Vec<Family>) {
        let mut package: BTreeMap<u64, u64> = BTreeMap::new();
        let mut core: BTreeMap<(u64, u64), u64> = BTreeMap::new();
        for dir in util::numbered_dirs(&self.cpu_dir, "cpu") {
            let throttle = dir.join("thermal_throttle");
            // Without this directory neither count exists: node_exporter reads the topology
            // files and then exposes nothing for the CPU, so skipping it changes no output.
            if !throttle.is_dir() {
                continue;
            }
            let (Some(pkg), Some(core_id)) = (
                read_uint(&dir.join("topology/physical_package_id")),
                read_uint(&dir.join("topology/core_id")),
            ) else {
                continue;
            };
            if let std::collections::btree_map::Entry::Vacant(e) = core.entry((pkg, core_id))
                && let Some(n) = read_uint(&throttle.join("core_throttle_count"))
            {
                e.insert(n);
            }
            if let std::collections::btree_map::Entry::Vacant(e) = package.entry(pkg)
                && let Some(n) = read_uint(&throttle.join("package_throttle_count"))
            {
                e.insert(n);
            }
        }
        let mut pf = counter(
            "node_cpu_package_throttles_total",
            "Number of times this CPU package has been throttled.",
        );
        for (pkg, n) in package {
            pf.push(&[("package", &pkg.to_string())], n as f64);
        }
        let mut cf = counter(
            "node_cpu_core_throttles_total",
            "Number of times this CPU core has been throttled.",
        );
        for ((pkg, c), n) in core {
            cf.push(
                &[("package", &pkg.to_string()), ("core", &c.to_string())],
                n as f64,
            );
        }
        util::extend_non_empty(out, [pf, cf]);
    }
}

impl Collect for CpuCollector {
    fn name(&self) -> &'static str {
        NAME
    }

    fn collect(&self, out: &mut Vec<Family>) -> Result<CollectStats, CollectError> {
        let text = util::read(NAME, &self.stat)?;
        let lines = procstat::cpu_lines(&text, self.user_hz)
            .ok_or_else(|| util::parse_error(NAME, &self.stat, "malformed cpu line"))?;
        let lines = self.guard(lines);
        let mut secs = counter(
            "node_cpu_seconds_total",
            "Seconds the CPUs spent in each mode.",
        );
        let mut guest = counter(
            "node_cpu_guest_seconds_total",
            "Seconds the CPUs spent in guests (VMs) for each mode.",
        );
        for l in &lines {
            let cpu = l.id.to_string();
            for (mode, v) in MODES.iter().zip(l.seconds) {
                secs.push(&[("cpu", &cpu), ("mode", mode)], v);
            }
            guest.push(&[("cpu", &cpu), ("mode", "user")], l.seconds[8]);
            guest.push(&[("cpu", &cpu), ("mode", "nice")], l.seconds[9]);
        }
        util::extend_non_empty(out, [secs, guest]);
        if !self.isolated.is_empty() {
            let mut iso = gauge(
                "node_cpu_isolated",
                "Whether each core is isolated, information from /sys/devices/system/cpu/isolated.",
            );
            for c in &self.isolated {
                iso.push(&[("cpu", &c.to_string())], 1.0);
            }
            out.push(iso);
        }
        self.throttles(out);
        Ok(CollectStats::default())
    }
}

fn read_uint(path: &std::path::Path) -> Option<u64> {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|s| util::parse_u64(s.trim()))
}

/// Parses a CPU list (`0-2,5`), as in `/sys/devices/system/cpu/isolated`; a missing file is
/// an empty list.
fn read_isolated(path: &std::path::Path) -> Result<Vec<u32>, CollectError> {
    let Some(text) = util::read_optional(NAME, path)? else {
        return Ok(Vec::new());
    };
    parse_cpu_list(text.trim()).ok_or_else(|| util::parse_error(NAME, path, "malformed CPU list"))
}

fn parse_cpu_list(s: &str) -> Option<Vec<u32>> {
    let mut out = Vec::new();
    for part in s.split(',').filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (a.parse::<u32>().ok()?, b.parse::<u32>().ok()?);
                if a > b {
                    return None;
                }
                out.extend(a..=b);
            }
            None => out.push(part.parse().ok()?),
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_list() {
        assert_eq!(parse_cpu_list("0-2,5"), Some(vec![0, 1, 2, 5]));
        assert_eq!(parse_cpu_list(""), Some(vec![]));
        assert_eq!(parse_cpu_list("3-1"), None);
    }

    fn line(idle: f64, user: f64) -> Vec<CpuLine> {
        let mut seconds = [0.0; CPU_FIELDS];
        seconds[IDLE] = idle;
        seconds[0] = user;
        vec![CpuLine { id: 0, seconds }]
    }

    #[test]
    fn backwards_counters_hold_and_big_idle_drop_resets() {
        let c = CpuCollector {
            stat: PathBuf::new(),
            cpu_dir: PathBuf::new(),
            user_hz: 100.0,
            isolated: Vec::new(),
            last: Mutex::new(Vec::new()),
        };
        assert_eq!(c.guard(line(10.0, 5.0))[0].seconds[0], 5.0);
        // user goes back: held; idle back by < 3 s: held.
        let g = c.guard(line(9.0, 4.0));
        assert_eq!((g[0].seconds[IDLE], g[0].seconds[0]), (10.0, 5.0));
        // idle back by >= 3 s: reset, new values taken.
        let g = c.guard(line(1.0, 1.0));
        assert_eq!((g[0].seconds[IDLE], g[0].seconds[0]), (1.0, 1.0));
    }
}
