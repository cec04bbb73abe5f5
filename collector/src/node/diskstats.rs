//! The `diskstats` reader: node_exporter 1.5's `diskstats` collector
//! (`collector/diskstats_linux.go`, `diskstats_common.go`).
//!
//! `/proc/diskstats` (parsed with `procfs::DiskStat`) gives per device: reads/writes/discards
//! completed and merged, sectors × 512 as bytes (discarded sectors stay sectors, as in
//! node_exporter), milliseconds as seconds, I/Os in progress, and flushes; fields an older
//! kernel does not print are left out. Devices matching [`DEFAULT_DEVICE_EXCLUDE`] (partitions,
//! loop and ram devices) are skipped. udev's database (`/run/udev/data/b<major>:<minor>`)
//! fills `node_disk_info`'s path/wwn/model/serial/revision and, where udev knows them,
//! `node_disk_filesystem_info`, `node_disk_device_mapper_info` and `node_disk_ata_*`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use procfs::DiskStat;

use super::util::{self, DeviceFilter, counter, gauge};
use crate::{Collect, CollectError, CollectStats, Family};

const NAME: &str = "diskstats";

/// node_exporter 1.5's `--collector.diskstats.device-exclude` default.
pub const DEFAULT_DEVICE_EXCLUDE: &str = r"^(ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\d+n\d+p)\d+$";

/// Bytes per sector in `/proc/diskstats`, whatever the device's sector size.
const SECTOR_BYTES: f64 = 512.0;
/// Seconds per millisecond tick.
const SECONDS_PER_TICK: f64 = 1.0 / 1000.0;

/// Counter and gauge names with their HELP, in node_exporter's order; `true` for counters.
const STATS: [(&str, &str, bool); 17] = [
    (
        "node_disk_reads_completed_total",
        "The total number of reads completed successfully.",
        true,
    ),
    (
        "node_disk_reads_merged_total",
        "The total number of reads merged.",
        true,
    ),
    (
        "node_disk_read_bytes_total",
        "The total number of bytes read successfully.",
        true,
    ),
    (
        "node_disk_read_time_seconds_total",
        "The total number of seconds spent by all reads.",
        true,
    ),
    (
        "node_disk_writes_completed_total",
        "The total number of writes completed successfully.",
        true,
    ),
    (
        "node_disk_writes_merged_total",
        "The number of writes merged.",
        true,
    ),
    (
        "node_disk_written_bytes_total",
        "The total number of bytes written successfully.",
        true,
    ),
    (
        "node_disk_write_time_seconds_total",
        "This is the total number of seconds spent by all writes.",
        true,
    ),
    (
        "node_disk_io_now",
        "The number of I/Os currently in progress.",
        false,
    ),
    (
        "node_disk_io_time_seconds_total",
        "Total seconds spent doing I/Os.",
        true,
    ),
    (
        "node_disk_io_time_weighted_seconds_total",
        "The weighted # of seconds spent doing I/Os.",
        true,
    ),
    (
        "node_disk_discards_completed_total",
        "The total number of discards completed successfully.",
        true,
    ),
    (
        "node_disk_discards_merged_total",
        "The total number of discards merged.",
        true,
    ),
    (
        "node_disk_discarded_sectors_total",
        "The total number of sectors discarded successfully.",
        true,
    ),
    (
        "node_disk_discard_time_seconds_total",
        "This is the total number of seconds spent by all discards.",
        true,
    ),
    (
        "node_disk_flush_requests_total",
        "The total number of flush requests completed successfully",
        true,
    ),
    (
        "node_disk_flush_requests_time_seconds_total",
        "This is the total number of seconds spent by all flush requests.",
        true,
    ),
];

/// The udev `ID_ATA_*` properties exposed as gauges, with their metric and HELP.
const ATA: [(&str, &str, &str); 3] = [
    (
        "ID_ATA_WRITE_CACHE",
        "node_disk_ata_write_cache",
        "ATA disk has a write cache.",
    ),
    (
        "ID_ATA_WRITE_CACHE_ENABLED",
        "node_disk_ata_write_cache_enabled",
        "ATA disk has its write cache enabled.",
    ),
    (
        "ID_ATA_ROTATION_RATE_RPM",
        "node_disk_ata_rotation_rate_rpm",
        "ATA disk rotation rate in RPMs (0 for SSDs).",
    ),
];

/// Reads block device I/O statistics.
#[derive(Debug, Clone)]
pub struct DiskstatsCollector {
    path: PathBuf,
    udev_data: PathBuf,
    filter: DeviceFilter,
}

impl DiskstatsCollector {
    /// A reader of `<proc_root>/diskstats` and udev's `<udev_data>` directory, skipping
    /// devices that match `exclude` or do not match `include` (empty: not set).
    ///
    /// # Errors
    /// When a pattern is not a valid regular expression.
    pub fn new(
        proc_root: &Path,
        udev_data: &Path,
        exclude: &str,
        include: &str,
    ) -> Result<Self, CollectError> {
        Ok(Self {
            path: proc_root.join("diskstats"),
            udev_data: udev_data.to_path_buf(),
            filter: DeviceFilter::new(NAME, exclude, include)?,
        })
    }

    /// udev's properties (`E:KEY=value` lines) of a block device; empty when unknown.
    fn udev(&self, major: i32, minor: i32) -> HashMap<String, String> {
        let path = self.udev_data.join(format!("b{major}:{minor}"));
        let Ok(text) = std::fs::read_to_string(path) else {
            return HashMap::new();
        };
        text.lines()
            .filter_map(|l| l.strip_prefix("E:")?.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }
}

/// The families this reader fills, in output order.
struct Families {
    info: Family,
    stats: Vec<Family>,
    fs_info: Family,
    dm_info: Family,
    ata: Vec<Family>,
}

impl Families {
    fn new() -> Self {
        let make = |(name, help, is_counter): (&str, &str, bool)| {
            if is_counter {
                counter(name, help)
            } else {
                gauge(name, help)
            }
        };
        Self {
            info: gauge("node_disk_info", "Info of /sys/block/<block_device>."),
            stats: STATS.into_iter().map(make).collect(),
            fs_info: gauge("node_disk_filesystem_info", "Info about disk filesystem."),
            dm_info: gauge(
                "node_disk_device_mapper_info",
                "Info about disk device mapper.",
            ),
            ata: ATA.into_iter().map(|(_, n, h)| gauge(n, h)).collect(),
        }
    }

    fn push(&mut self, d: &DiskStat, udev: &HashMap<String, String>) {
        let dev = d.name.as_str();
        let u = |k: &str| udev.get(k).map_or("", String::as_str);
        self.info.push(
            &[
                ("device", dev),
                ("major", &d.major.to_string()),
                ("minor", &d.minor.to_string()),
                ("path", u("ID_PATH")),
                ("wwn", u("ID_WWN")),
                ("model", u("ID_MODEL")),
                ("serial", u("ID_SERIAL_SHORT")),
                ("revision", u("ID_REVISION")),
            ],
            1.0,
        );
        for (fam, v) in self.stats.iter_mut().zip(values(d)) {
            if let Some(v) = v {
                fam.push(&[("device", dev)], v);
            }
        }
        if let Some(t) = udev.get("ID_FS_TYPE").filter(|t| !t.is_empty()) {
            let labels = [
                ("device", dev),
                ("type", t.as_str()),
                ("usage", u("ID_FS_USAGE")),
                ("uuid", u("ID_FS_UUID")),
                ("version", u("ID_FS_VERSION")),
            ];
            self.fs_info.push(&labels, 1.0);
        }
        if let Some(n) = udev.get("DM_NAME").filter(|n| !n.is_empty()) {
            let labels = [
                ("device", dev),
                ("name", n.as_str()),
                ("uuid", u("DM_UUID")),
                ("vg_name", u("DM_VG_NAME")),
                ("lv_name", u("DM_LV_NAME")),
                ("lv_layer", u("DM_LV_LAYER")),
            ];
            self.dm_info.push(&labels, 1.0);
        }
        if udev.get("ID_ATA").is_some_and(|a| !a.is_empty()) {
            for (fam, (key, _, _)) in self.ata.iter_mut().zip(ATA) {
                if let Some(v) = udev.get(key).and_then(|v| v.parse::<f64>().ok()) {
                    fam.push(&[("device", dev)], v);
                }
            }
        }
    }

    fn into_vec(self) -> Vec<Family> {
        let mut v = vec![self.info];
        v.extend(self.stats);
        v.extend([self.fs_info, self.dm_info]);
        v.extend(self.ata);
        v
    }
}

/// The [`STATS`] values of one device, converted; `None` where the kernel does not print
/// the field.
fn values(d: &DiskStat) -> [Option<f64>; 17] {
    let n = |v: u64| Some(v as f64);
    let secs = |v: u64| Some(v as f64 * SECONDS_PER_TICK);
    let opt = |v: Option<u64>, scale: f64| v.map(|v| v as f64 * scale);
    [
        n(d.reads),
        n(d.merged),
        Some(d.sectors_read as f64 * SECTOR_BYTES),
        secs(d.time_reading),
        n(d.writes),
        n(d.writes_merged),
        Some(d.sectors_written as f64 * SECTOR_BYTES),
        secs(d.time_writing),
        n(d.in_progress),
        secs(d.time_in_progress),
        secs(d.weighted_time_in_progress),
        opt(d.discards, 1.0),
        opt(d.discards_merged, 1.0),
        opt(d.sectors_discarded, 1.0),
        opt(d.time_discarding, SECONDS_PER_TICK),
        opt(d.flushes, 1.0),
        opt(d.time_flushing, SECONDS_PER_TICK),
    ]
}

impl Collect for DiskstatsCollector {
    fn name(&self) -> &'static str {
        NAME
    }

    fn collect(&self, out: &mut Vec<Family>) -> Result<CollectStats, CollectError> {
        let text = util::read(NAME, &self.path)?;
        let mut fams = Families::new();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let d = DiskStat::from_line(line)
                .map_err(|e| util::parse_error(NAME, &self.path, &format!("{e}: {line:?}")))?;
            if self.filter.ignored(&d.name) {
                continue;
            }
            let udev = self.udev(d.major, d.minor);
            fams.push(&d, &udev);
        }
        util::extend_non_empty(out, fams.into_vec());
        Ok(CollectStats::default())
    }
}
