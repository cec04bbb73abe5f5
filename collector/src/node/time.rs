//! The `time` reader: node_exporter 1.5's `time` collector (`collector/time.go`,
//! `time_linux.go`): `node_time_seconds` (the wall clock, seconds since the epoch),
//! `node_time_zone_offset_seconds{time_zone}` (the local zone's abbreviation and UTC offset
//! from the TZif file Go would load) and `node_time_clocksource_{available,current}_info`
//! from `/sys/devices/system/clocksource/clocksource*/`.
//!
//! Uptime, as in node_exporter, is `node_time_seconds - node_boot_time_seconds`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use super::tzif;
use super::util::{gauge, gauge_of};
use crate::{Collect, CollectError, CollectStats, Family};

const NAME: &str = "time";

/// The clock a [`TimeCollector`] reads: returns the current wall-clock time.
pub type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// Reads the wall clock, the time zone and the kernel's clock sources.
#[derive(Clone)]
pub struct TimeCollector {
    clocksource_dir: PathBuf,
    localtime: Option<PathBuf>,
    clock: Clock,
}

impl std::fmt::Debug for TimeCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TimeCollector")
            .field("clocksource_dir", &self.clocksource_dir)
            .field("localtime", &self.localtime)
            .finish_non_exhaustive()
    }
}

impl TimeCollector {
    /// A reader of `<sys_root>/devices/system/clocksource`, the zone file `localtime` (a
    /// TZif file such as `/etc/localtime`; `None` or a missing file means UTC, as in Go) and
    /// `clock`.
    pub fn new(sys_root: &Path, localtime: Option<&Path>, clock: Clock) -> Self {
        Self {
            clocksource_dir: sys_root.join("devices/system/clocksource"),
            localtime: localtime.map(Path::to_path_buf),
            clock,
        }
    }

    fn zone(&self, unix_seconds: i64) -> (String, i64) {
        self.localtime
            .as_deref()
            .and_then(|p| std::fs::read(p).ok())
            .and_then(|bytes| tzif::zone_at(&bytes, unix_seconds))
            .unwrap_or_else(|| ("UTC".to_string(), 0))
    }

    fn clocksources(&self, out: &mut Vec<Family>) {
        let mut available = gauge(
            "node_time_clocksource_available_info",
            "Available clocksources read from '/sys/devices/system/clocksource'.",
        );
        let mut current = gauge(
            "node_time_clocksource_current_info",
            "Current clocksource read from '/sys/devices/system/clocksource'.",
        );
        for (i, dir) in super::util::numbered_dirs(&self.clocksource_dir, "clocksource")
            .iter()
            .enumerate()
        {
            let device = i.to_string();
            let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap_or_default();
            for cs in read("available_clocksource").split_ascii_whitespace() {
                available.push(&[("device", &device), ("clocksource", cs)], 1.0);
            }
            let cur = read("current_clocksource");
            current.push(&[("device", &device), ("clocksource", cur.trim())], 1.0);
        }
        super::util::extend_non_empty(out, [available, current]);
    }
}

impl Collect for TimeCollector {
    fn name(&self) -> &'static str {
        NAME
    }

    fn collect(&self, out: &mut Vec<Family>) -> Result<CollectStats, CollectError> {
        let now = (self.clock)();
        let (nanos, secs) = match now.duration_since(UNIX_EPOCH) {
            Ok(d) => (d.as_nanos() as f64, d.as_secs() as i64),
            Err(e) => (
                -(e.duration().as_nanos() as f64),
                -(e.duration().as_secs() as i64),
            ),
        };
        out.push(gauge_of(
            "node_time_seconds",
            "System time in seconds since epoch (1970).",
            nanos / 1e9,
        ));
        let (zone, offset) = self.zone(secs);
        let mut z = gauge(
            "node_time_zone_offset_seconds",
            "System time zone offset in seconds.",
        );
        z.push(&[("time_zone", &zone)], offset as f64);
        out.push(z);
        self.clocksources(out);
        Ok(CollectStats::default())
    }
}

/// The zone file Go's `time.Local` would load: `$TZ` when set (empty means UTC, a relative
/// name is looked up under `/usr/share/zoneinfo`), else `/etc/localtime`.
pub fn default_localtime() -> Option<PathBuf> {
    match std::env::var_os("TZ") {
        None => Some(PathBuf::from("/etc/localtime")),
        Some(tz) => {
            let tz = tz.to_string_lossy();
            let tz = tz.strip_prefix(':').unwrap_or(&tz);
            if tz.is_empty() || tz == "UTC" {
                None
            } else if tz.starts_with('/') {
                Some(PathBuf::from(tz))
            } else {
                Some(Path::new("/usr/share/zoneinfo").join(tz))
            }
        }
    }
}
