//! Node readers with node_exporter 1.5's metric names, label names, HELP texts and value
//! semantics, so that dashboards built for node_exporter work unchanged.
//!
//! One [`Collect`] per node_exporter collector: [`CpuCollector`] (`cpu`), [`StatCollector`]
//! (`stat`: boot time, forks, ...), [`MeminfoCollector`] (`meminfo`), [`LoadavgCollector`]
//! (`loadavg`), [`DiskstatsCollector`] (`diskstats`), [`NetdevCollector`] (`netdev`),
//! [`FilesystemCollector`] (`filesystem`), [`PressureCollector`] (`pressure`) and
//! [`TimeCollector`] (`time`). [`NodeCollector`] holds them all. Every file is read under the
//! roots of a [`NodeConfig`] (node_exporter's `--path.procfs`, `--path.sysfs`,
//! `--path.rootfs`, `--collector.udev.data-path`), so tests point them at fixture trees and a
//! DaemonSet at `/host/proc`.
//!
//! Deliberate differences from node_exporter 1.5, each a fix: CPUs are labelled by the
//! number in their `cpuN` line (node_exporter 1.5 numbers them by position, which is wrong
//! when a CPU is offline); a mount listed twice with the same device, mount point and type
//! is exposed once (node_exporter 1.5 fails the scrape on the duplicate series when the
//! options differ).

mod cpu;
mod diskstats;
mod filesystem;
mod loadavg;
mod meminfo;
mod netdev;
mod pressure;
mod procstat;
mod stat;
mod time;
mod tzif;
mod util;

use std::path::PathBuf;
use std::sync::Arc;

pub use cpu::CpuCollector;
pub use diskstats::{DEFAULT_DEVICE_EXCLUDE as DEFAULT_DISK_DEVICE_EXCLUDE, DiskstatsCollector};
pub use filesystem::{DEFAULT_FS_TYPES_EXCLUDE, DEFAULT_MOUNT_POINTS_EXCLUDE, FilesystemCollector};
pub use loadavg::LoadavgCollector;
pub use meminfo::MeminfoCollector;
pub use netdev::{DEFAULT_DEVICE_EXCLUDE as DEFAULT_NETDEV_DEVICE_EXCLUDE, NetdevCollector};
pub use pressure::PressureCollector;
pub use stat::StatCollector;
pub use time::{Clock, TimeCollector, default_localtime};

use crate::{Collect, CollectError, CollectStats, Family};

/// Where the node readers look, and what they leave out. [`Default`] gives node_exporter
/// 1.5's defaults on the running host.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    /// procfs mount (`--path.procfs`, default `/proc`).
    pub proc_root: PathBuf,
    /// sysfs mount (`--path.sysfs`, default `/sys`).
    pub sys_root: PathBuf,
    /// The root file system the mount points are under (`--path.rootfs`, default `/`).
    pub rootfs: PathBuf,
    /// udev's database (`--collector.udev.data-path`, default `/run/udev/data`).
    pub udev_data: PathBuf,
    /// The TZif file of the local time zone; `None` means UTC. Default: [`default_localtime`].
    pub localtime: Option<PathBuf>,
    /// Kernel USER_HZ, ticks per second in `/proc/stat` (from `sysconf(_SC_CLK_TCK)`).
    pub user_hz: f64,
    /// `--collector.diskstats.device-exclude`; empty means not set.
    pub disk_device_exclude: String,
    /// `--collector.diskstats.device-include`; empty means not set.
    pub disk_device_include: String,
    /// `--collector.netdev.device-exclude`; empty means not set.
    pub netdev_device_exclude: String,
    /// `--collector.netdev.device-include`; empty means not set.
    pub netdev_device_include: String,
    /// `--collector.filesystem.mount-points-exclude`.
    pub fs_mount_points_exclude: String,
    /// `--collector.filesystem.fs-types-exclude`.
    pub fs_types_exclude: String,
}

impl Default for NodeConfig {
    fn default() -> Self {
        Self {
            proc_root: "/proc".into(),
            sys_root: "/sys".into(),
            rootfs: "/".into(),
            udev_data: "/run/udev/data".into(),
            localtime: default_localtime(),
            user_hz: procfs::ticks_per_second() as f64,
            disk_device_exclude: DEFAULT_DISK_DEVICE_EXCLUDE.into(),
            disk_device_include: String::new(),
            netdev_device_exclude: DEFAULT_NETDEV_DEVICE_EXCLUDE.into(),
            netdev_device_include: String::new(),
            fs_mount_points_exclude: DEFAULT_MOUNT_POINTS_EXCLUDE.into(),
            fs_types_exclude: DEFAULT_FS_TYPES_EXCLUDE.into(),
        }
    }
}

impl NodeConfig {
    /// node_exporter's defaults with every root under `root` (`root/proc`, `root/sys`,
    /// `root/run/udev/data`, `root` as rootfs; zone `root/etc/localtime`) — the layout of the
    /// test fixtures.
    pub fn under(root: &std::path::Path) -> Self {
        Self {
            proc_root: root.join("proc"),
            sys_root: root.join("sys"),
            rootfs: root.to_path_buf(),
            udev_data: root.join("run/udev/data"),
            localtime: Some(root.join("etc/localtime")),
            user_hz: 100.0,
            ..Self::default()
        }
    }
}

/// All node readers, collected in a fixed order.
pub struct NodeCollector {
    readers: Vec<Box<dyn Collect>>,
}

impl std::fmt::Debug for NodeCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.readers.iter().map(|r| r.name()).collect();
        f.debug_struct("NodeCollector")
            .field("readers", &names)
            .finish()
    }
}

impl NodeCollector {
    /// Every node reader on `cfg`, reading the system clock.
    ///
    /// # Errors
    /// When a pattern in `cfg` is not a valid regular expression, or the isolated-CPU list
    /// exists but does not parse.
    pub fn new(cfg: &NodeConfig) -> Result<Self, CollectError> {
        Self::with_clock(cfg, Arc::new(std::time::SystemTime::now))
    }

    /// Like [`NodeCollector::new`], with `clock` for `node_time_seconds`.
    ///
    /// # Errors
    /// As [`NodeCollector::new`].
    pub fn with_clock(cfg: &NodeConfig, clock: Clock) -> Result<Self, CollectError> {
        let readers: Vec<Box<dyn Collect>> = vec![
            Box::new(CpuCollector::new(
                &cfg.proc_root,
                &cfg.sys_root,
                cfg.user_hz,
            )?),
            Box::new(DiskstatsCollector::new(
                &cfg.proc_root,
                &cfg.udev_data,
                &cfg.disk_device_exclude,
                &cfg.disk_device_include,
            )?),
            Box::new(FilesystemCollector::new(
                &cfg.proc_root,
                &cfg.rootfs,
                &cfg.fs_mount_points_exclude,
                &cfg.fs_types_exclude,
            )?),
            Box::new(LoadavgCollector::new(&cfg.proc_root)),
            Box::new(MeminfoCollector::new(&cfg.proc_root)),
            Box::new(NetdevCollector::new(
                &cfg.proc_root,
                &cfg.sys_root,
                &cfg.netdev_device_exclude,
                &cfg.netdev_device_include,
            )?),
            Box::new(PressureCollector::new(&cfg.proc_root)),
            Box::new(StatCollector::new(&cfg.proc_root)),
            Box::new(TimeCollector::new(
                &cfg.sys_root,
                cfg.localtime.as_deref(),
                clock,
            )),
        ];
        Ok(Self { readers })
    }

    /// The readers, for callers that run and report them one by one.
    pub fn readers(&self) -> &[Box<dyn Collect>] {
        &self.readers
    }
}

impl Collect for NodeCollector {
    fn name(&self) -> &'static str {
        "node"
    }

    /// Runs every reader; one that fails is counted in `skipped` and the others go on. The
    /// error of the first failing reader is returned only when all of them failed.
    fn collect(&self, out: &mut Vec<Family>) -> Result<CollectStats, CollectError> {
        let mut stats = CollectStats::default();
        let mut first_err = None;
        let mut ok = 0;
        for r in &self.readers {
            match r.collect(out) {
                Ok(s) => {
                    stats.skipped += s.skipped;
                    ok += 1;
                }
                Err(e) => {
                    stats.skipped += 1;
                    first_err.get_or_insert(e);
                }
            }
        }
        match first_err {
            Some(e) if ok == 0 => Err(e),
            _ => Ok(stats),
        }
    }
}
