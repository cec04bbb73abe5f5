//! The `netdev` reader: node_exporter 1.5's `netdev` collector (`collector/netdev_common.go`)
//! with its defaults (netlink statistics in the legacy names, no detailed metrics, no
//! address info).
//!
//! `/proc/net/dev` (parsed with `procfs::InterfaceDeviceStatus`) prints exactly the sums
//! node_exporter's `legacy()` builds from netlink's counters: `receive_drop` is dropped plus
//! missed, `receive_frame` is frame plus length, over and crc errors, `transmit_carrier` is
//! carrier plus aborted, heartbeat and window errors. So the values agree. The one counter
//! netlink has and `/proc/net/dev` lacks, `receive_nohandler`, is read from
//! `/sys/class/net/<device>/statistics/rx_nohandler` where it exists.
//!
//! Every metric is `node_network_<key>_total{device}` with HELP `Network device statistic
//! <key>.`; devices are in name order.

use std::path::{Path, PathBuf};

use procfs::FromBufRead;
use procfs::net::{DeviceStatus, InterfaceDeviceStatus};

use super::util::{self, DeviceFilter, counter};
use crate::{Collect, CollectError, CollectStats, Family};

const NAME: &str = "netdev";

/// node_exporter 1.5's `--collector.netdev.device-exclude` default: none (Debian's package
/// patches in `^lo$`).
pub const DEFAULT_DEVICE_EXCLUDE: &str = "";

/// The keys read from `/proc/net/dev`, in output order.
const KEYS: [&str; 16] = [
    "receive_bytes",
    "receive_packets",
    "receive_errs",
    "receive_drop",
    "receive_fifo",
    "receive_frame",
    "receive_compressed",
    "receive_multicast",
    "transmit_bytes",
    "transmit_packets",
    "transmit_errs",
    "transmit_drop",
    "transmit_fifo",
    "transmit_colls",
    "transmit_carrier",
    "transmit_compressed",
];

fn values(d: &DeviceStatus) -> [u64; 16] {
    [
        d.recv_bytes,
        d.recv_packets,
        d.recv_errs,
        d.recv_drop,
        d.recv_fifo,
        d.recv_frame,
        d.recv_compressed,
        d.recv_multicast,
        d.sent_bytes,
        d.sent_packets,
        d.sent_errs,
        d.sent_drop,
        d.sent_fifo,
        d.sent_colls,
        d.sent_carrier,
        d.sent_compressed,
    ]
}

/// Reads network device counters.
#[derive(Debug, Clone)]
pub struct NetdevCollector {
    path: PathBuf,
    class_net: PathBuf,
    filter: DeviceFilter,
}

impl NetdevCollector {
    /// A reader of `<proc_root>/net/dev` and `<sys_root>/class/net`, skipping devices that
    /// match `exclude` or do not match `include` (empty: not set).
    ///
    /// # Errors
    /// When a pattern is not a valid regular expression.
    pub fn new(
        proc_root: &Path,
        sys_root: &Path,
        exclude: &str,
        include: &str,
    ) -> Result<Self, CollectError> {
        Ok(Self {
            path: proc_root.join("net/dev"),
            class_net: sys_root.join("class/net"),
            filter: DeviceFilter::new(NAME, exclude, include)?,
        })
    }

    fn nohandler(&self, device: &str) -> Option<f64> {
        let path = self.class_net.join(device).join("statistics/rx_nohandler");
        let text = std::fs::read_to_string(path).ok()?;
        util::parse_u64(text.trim()).map(|v| v as f64)
    }
}

impl Collect for NetdevCollector {
    fn name(&self) -> &'static str {
        NAME
    }

    fn collect(&self, out: &mut Vec<Family>) -> Result<CollectStats, CollectError> {
        let text = util::read(NAME, &self.path)?;
        let parsed = InterfaceDeviceStatus::from_buf_read(text.as_bytes())
            .map_err(|e| util::parse_error(NAME, &self.path, &e.to_string()))?;
        let mut devices: Vec<&DeviceStatus> = parsed
            .0
            .values()
            .filter(|d| !self.filter.ignored(&d.name))
            .collect();
        devices.sort_unstable_by(|a, b| a.name.cmp(&b.name));
        let mut fams: Vec<Family> = KEYS
            .iter()
            .chain(["receive_nohandler"].iter())
            .map(|k| {
                counter(
                    &format!("node_network_{k}_total"),
                    &format!("Network device statistic {k}."),
                )
            })
            .collect();
        for d in devices {
            let labels = [("device", d.name.as_str())];
            for (fam, v) in fams.iter_mut().zip(values(d)) {
                fam.push(&labels, v as f64);
            }
            if let (Some(v), Some(fam)) = (self.nohandler(&d.name), fams.last_mut()) {
                fam.push(&labels, v);
            }
        }
        util::extend_non_empty(out, fams);
        Ok(CollectStats::default())
    }
}
