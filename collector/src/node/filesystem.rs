//! The `filesystem` reader: node_exporter 1.5's `filesystem` collector
//! (`collector/filesystem_linux.go`, `filesystem_common.go`).
//!
//! Mounts come from `<proc>/1/mounts` (the host's when `<proc>` is the host's), falling back to
//! `<proc>/mounts`. Mount points matching [`DEFAULT_MOUNT_POINTS_EXCLUDE`] and file system types
//! matching [`DEFAULT_FS_TYPES_EXCLUDE`] are skipped; for the rest, `statfs(2)` of
//! `<rootfs>/<mount point>` gives size, free and available bytes (blocks × block size) and
//! total and free inodes, and the mount options give `readonly`. When `statfs` fails only
//! `node_filesystem_device_error` (1) is exposed for that mount. With a rootfs other than
//! `/`, its prefix is stripped from the `mountpoint` label, as with node_exporter's
//! `--path.rootfs`. Labels: `device`, `mountpoint`, `fstype`; the same three labels twice
//! (a mount seen twice) are exposed once.
//!
//! Not done: node_exporter's stuck-mount watchdog (a `statfs` that hangs longer than 5 s
//! marks the mount with `device_error` until it answers); here a hanging NFS mount blocks
//! the collection.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::util::{self, gauge};
use crate::{Collect, CollectError, CollectStats, Family};

const NAME: &str = "filesystem";

/// node_exporter 1.5's `--collector.filesystem.mount-points-exclude` default (Debian's
/// package patches in `run|mnt|media` too).
pub const DEFAULT_MOUNT_POINTS_EXCLUDE: &str =
    "^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)";

/// node_exporter 1.5's `--collector.filesystem.fs-types-exclude` default.
pub const DEFAULT_FS_TYPES_EXCLUDE: &str = "^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs|sysfs|tracefs)$";

/// One line of a mounts file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Mount {
    pub(crate) device: String,
    pub(crate) mount_point: String,
    pub(crate) fs_type: String,
    pub(crate) options: String,
}

/// The numbers of one file system, already in bytes and inodes.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Usage {
    size_bytes: f64,
    free_bytes: f64,
    avail_bytes: f64,
    files: f64,
    files_free: f64,
}

/// Reads file system sizes of real mounts.
#[derive(Debug, Clone)]
pub struct FilesystemCollector {
    proc_root: PathBuf,
    rootfs: PathBuf,
    mount_points_exclude: regex::Regex,
    fs_types_exclude: regex::Regex,
}

impl FilesystemCollector {
    /// A reader of `<proc_root>/1/mounts` statting mounts under `rootfs`.
    ///
    /// # Errors
    /// When a pattern is not a valid regular expression.
    pub fn new(
        proc_root: &Path,
        rootfs: &Path,
        mount_points_exclude: &str,
        fs_types_exclude: &str,
    ) -> Result<Self, CollectError> {
        let compile = |p: &str| {
            regex::Regex::new(p).map_err(|e| CollectError {
                reader: NAME,
                message: format!("bad pattern {p:?}: {e}"),
            })
        };
        Ok(Self {
            proc_root: proc_root.to_path_buf(),
            rootfs: rootfs.to_path_buf(),
            mount_points_exclude: compile(mount_points_exclude)?,
            fs_types_exclude: compile(fs_types_exclude)?,
        })
    }

    fn mounts(&self) -> Result<Vec<Mount>, CollectError> {
        let first = self.proc_root.join("1/mounts");
        let (path, text) = match util::read_optional(NAME, &first)? {
            Some(t) => (first, t),
            None => {
                let path = self.proc_root.join("mounts");
                let t = util::read(NAME, &path)?;
                (path, t)
            }
        };
        parse_mounts(&text, &self.rootfs).map_err(|e| util::parse_error(NAME, &path, &e))
    }

    fn usage(&self, mount_point: &str) -> Option<Usage> {
        let path = self.rootfs.join(mount_point.trim_start_matches('/'));
        let s = rustix::fs::statfs(&path).ok()?;
        let bsize = s.f_bsize as f64;
        Some(Usage {
            size_bytes: s.f_blocks as f64 * bsize,
            free_bytes: s.f_bfree as f64 * bsize,
            avail_bytes: s.f_bavail as f64 * bsize,
            files: s.f_files as f64,
            files_free: s.f_ffree as f64,
        })
    }
}

impl Collect for FilesystemCollector {
    fn name(&self) -> &'static str {
        NAME
    }

    fn collect(&self, out: &mut Vec<Family>) -> Result<CollectStats, CollectError> {
        let mut fams = [
            gauge(
                "node_filesystem_device_error",
                "Whether an error occurred while getting statistics for the given device.",
            ),
            gauge("node_filesystem_size_bytes", "Filesystem size in bytes."),
            gauge(
                "node_filesystem_free_bytes",
                "Filesystem free space in bytes.",
            ),
            gauge(
                "node_filesystem_avail_bytes",
                "Filesystem space available to non-root users in bytes.",
            ),
            gauge("node_filesystem_files", "Filesystem total file nodes."),
            gauge(
                "node_filesystem_files_free",
                "Filesystem total free file nodes.",
            ),
            gauge("node_filesystem_readonly", "Filesystem read-only status."),
        ];
        let mut seen = HashSet::new();
        let mut stats = CollectStats::default();
        for m in self.mounts()? {
            if self.mount_points_exclude.is_match(&m.mount_point)
                || self.fs_types_exclude.is_match(&m.fs_type)
                || !seen.insert((m.device.clone(), m.mount_point.clone(), m.fs_type.clone()))
            {
                continue;
            }
            let labels = [
                ("device", m.device.as_str()),
                ("mountpoint", m.mount_point.as_str()),
                ("fstype", m.fs_type.as_str()),
            ];
            let Some(u) = self.usage(&m.mount_point) else {
                fams[0].push(&labels, 1.0);
                stats.skipped += 1;
                continue;
            };
            let ro = m.options.split(',').any(|o| o == "ro");
            let values = [
                0.0,
                u.size_bytes,
                u.free_bytes,
                u.avail_bytes,
                u.files,
                u.files_free,
                f64::from(u8::from(ro)),
            ];
            for (fam, v) in fams.iter_mut().zip(values) {
                fam.push(&labels, v);
            }
        }
        util::extend_non_empty(out, fams);
        Ok(stats)
    }
}

/// Parses a mounts file as node_exporter does: whitespace-separated fields, at least four,
/// `\040` and `\011` in the mount point unescaped, the rootfs prefix stripped from it.
pub(crate) fn parse_mounts(text: &str, rootfs: &Path) -> Result<Vec<Mount>, String> {
    let root = rootfs.to_str().unwrap_or("/");
    let mut out = Vec::new();
    for line in text.lines() {
        let parts: Vec<&str> = line.split_ascii_whitespace().collect();
        let [device, mount_point, fs_type, options, ..] = parts[..] else {
            return Err(format!("malformed mount point information: {line:?}"));
        };
        let mount_point = mount_point.replace("\\040", " ").replace("\\011", "\t");
        out.push(Mount {
            device: device.to_string(),
            mount_point: strip_rootfs(root, &mount_point),
            fs_type: fs_type.to_string(),
            options: options.to_string(),
        });
    }
    Ok(out)
}

/// node_exporter's `rootfsStripPrefix`.
fn strip_rootfs(root: &str, path: &str) -> String {
    if root == "/" {
        return path.to_string();
    }
    match path.strip_prefix(root) {
        Some("") => "/".to_string(),
        Some(rest) => rest.to_string(),
        None => path.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mounts_unescape_and_strip_rootfs() {
        let text = "/dev/sda1 /host/mnt/my\\040disk ext4 rw,relatime 0 0\n\
                    /dev/sda2 /host ext4 ro 0 0\n\
                    /dev/sda3 /other xfs rw 0 0\n";
        let m = parse_mounts(text, Path::new("/host")).unwrap_or_default();
        let points: Vec<&str> = m.iter().map(|m| m.mount_point.as_str()).collect();
        assert_eq!(points, ["/mnt/my disk", "/", "/other"]);
        assert!(parse_mounts("a b c\n", Path::new("/")).is_err());
    }

    #[test]
    fn default_excludes_match_node_exporter() {
        let mp = regex::Regex::new(DEFAULT_MOUNT_POINTS_EXCLUDE).ok();
        let fs = regex::Regex::new(DEFAULT_FS_TYPES_EXCLUDE).ok();
        let (Some(mp), Some(fs)) = (mp, fs) else {
            panic!("default patterns compile");
        };
        for p in [
            "/dev",
            "/dev/shm",
            "/proc",
            "/sys/fs/cgroup",
            "/var/lib/docker/x",
        ] {
            assert!(mp.is_match(p), "{p}");
        }
        for p in ["/", "/home", "/run", "/devices", "/var/lib/docker"] {
            assert!(!mp.is_match(p), "{p}");
        }
        assert!(fs.is_match("cgroup2") && fs.is_match("tmpfs").eq(&false));
    }
}
