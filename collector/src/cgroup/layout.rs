//! Where each controller's files are: cgroup v2 unified, v1 per-controller mounts, or a hybrid
//! of both (v1 controllers plus a controller-less v2 mount at `unified/`).

use std::fs;
use std::path::{Path, PathBuf};

/// The controllers the collector reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Controller {
    /// v1 `cpu` (throttling in `cpu.stat`); v2 `cpu.stat`.
    Cpu,
    /// v1 `cpuacct` (usage); v2 `cpu.stat`.
    Cpuacct,
    /// `memory`.
    Memory,
    /// v1 `blkio`; v2 `io`.
    Blkio,
    /// `pids`.
    Pids,
}

impl Controller {
    /// Every controller, in a fixed order (also the bit order of [`Layout::hierarchies`] masks).
    pub const ALL: [Controller; 5] = [
        Controller::Cpu,
        Controller::Cpuacct,
        Controller::Memory,
        Controller::Blkio,
        Controller::Pids,
    ];

    fn v1_name(self) -> &'static str {
        match self {
            Controller::Cpu => "cpu",
            Controller::Cpuacct => "cpuacct",
            Controller::Memory => "memory",
            Controller::Blkio => "blkio",
            Controller::Pids => "pids",
        }
    }

    fn v2_name(self) -> &'static str {
        match self {
            Controller::Cpu | Controller::Cpuacct => "cpu",
            Controller::Memory => "memory",
            Controller::Blkio => "io",
            Controller::Pids => "pids",
        }
    }
}

/// Where one controller is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A v1 hierarchy mounted at this directory.
    V1(PathBuf),
    /// The v2 hierarchy mounted at this directory.
    V2(PathBuf),
}

impl Source {
    /// The mount directory.
    pub fn dir(&self) -> &Path {
        match self {
            Source::V1(p) | Source::V2(p) => p,
        }
    }
}

/// The kind of mount layout found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Only cgroup v2.
    Unified,
    /// Only cgroup v1.
    Legacy,
    /// v1 controllers and a v2 mount.
    Hybrid,
}

/// The detected layout: one source per controller that is available.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// The kind of layout.
    pub mode: Mode,
    /// Source per controller, indexed like [`Controller::ALL`]; `None` when not mounted.
    pub sources: [Option<Source>; 5],
}

#[derive(Default)]
struct Mounts {
    unified: Option<PathBuf>,
    v1: Vec<(String, PathBuf)>,
}

impl Layout {
    /// Detects the layout under `root` (e.g. `/sys/fs/cgroup` or `/host/sys/fs/cgroup`). When
    /// `mountinfo` (the text of `/proc/<pid>/mountinfo`) is given, its cgroup mounts below
    /// `mount_prefix` are used, re-rooted at `root`; otherwise, or when it names none, the
    /// directories under `root` are probed. `None` when no cgroup hierarchy is found.
    pub fn detect(root: &Path, mountinfo: Option<&str>, mount_prefix: &Path) -> Option<Layout> {
        let from_info = mountinfo
            .map(|text| parse_mountinfo(text, root, mount_prefix))
            .filter(|m| m.unified.is_some() || !m.v1.is_empty());
        let mounts = from_info.unwrap_or_else(|| probe(root));
        Self::from_mounts(mounts)
    }

    fn from_mounts(m: Mounts) -> Option<Layout> {
        let v2_controllers = m
            .unified
            .as_ref()
            .and_then(|u| fs::read_to_string(u.join("cgroup.controllers")).ok())
            .unwrap_or_default();
        let mut sources: [Option<Source>; 5] = Default::default();
        for (i, c) in Controller::ALL.into_iter().enumerate() {
            let v1 =
                m.v1.iter()
                    .find(|(cs, _)| cs.split(',').any(|n| n == c.v1_name()));
            sources[i] = match (v1, &m.unified) {
                (Some((_, dir)), _) => Some(Source::V1(dir.clone())),
                // cpu.stat's usage fields exist in every v2 cgroup, enabled or not.
                (None, Some(u))
                    if c.v2_name() == "cpu"
                        || v2_controllers.split_whitespace().any(|n| n == c.v2_name()) =>
                {
                    Some(Source::V2(u.clone()))
                }
                _ => None,
            };
        }
        let mode = match (m.v1.is_empty(), m.unified.is_some()) {
            (true, true) => Mode::Unified,
            (false, false) => Mode::Legacy,
            (false, true) => Mode::Hybrid,
            (true, false) => return None,
        };
        Some(Layout { mode, sources })
    }

    /// The source of `c`, if mounted.
    pub fn source(&self, c: Controller) -> Option<&Source> {
        let i = Controller::ALL.iter().position(|x| *x == c)?;
        self.sources[i].as_ref()
    }

    /// The distinct mount directories to walk, each with the mask of controllers
    /// (bit `i` = `Controller::ALL[i]`) read from it.
    pub fn hierarchies(&self) -> Vec<(PathBuf, u8)> {
        let mut out: Vec<(PathBuf, u8)> = Vec::new();
        for (i, s) in self.sources.iter().enumerate() {
            let Some(s) = s else { continue };
            match out.iter_mut().find(|(d, _)| d == s.dir()) {
                Some((_, mask)) => *mask |= 1 << i,
                None => out.push((s.dir().to_path_buf(), 1 << i)),
            }
        }
        out
    }
}

/// Cgroup mounts from mountinfo text. Field 5 is the mount point; after the ` - ` separator come
/// the file system type, the source and the super options (v1 controller names).
fn parse_mountinfo(text: &str, root: &Path, prefix: &Path) -> Mounts {
    let mut m = Mounts::default();
    for line in text.lines() {
        let Some((pre, post)) = line.split_once(" - ") else {
            continue;
        };
        let Some(point) = pre.split(' ').nth(4) else {
            continue;
        };
        let mut post = post.split(' ');
        let (fstype, opts) = (post.next(), post.nth(1).unwrap_or(""));
        let point = point.replace("\\040", " ");
        let Ok(rel) = Path::new(&point).strip_prefix(prefix) else {
            continue;
        };
        let dir = root.join(rel);
        match fstype {
            Some("cgroup2") => m.unified = Some(dir),
            Some("cgroup") => m.v1.push((opts.to_string(), dir)),
            _ => {}
        }
    }
    m
}

/// Cgroup mounts found by looking: `root/cgroup.controllers` means v2 at `root`; otherwise a
/// child with `cgroup.controllers` is the hybrid v2 mount and children named after controllers
/// (`cpu,cpuacct`, `memory`, …; symlinks followed) are v1 hierarchies.
fn probe(root: &Path) -> Mounts {
    let mut m = Mounts::default();
    if root.join("cgroup.controllers").exists() {
        m.unified = Some(root.to_path_buf());
        return m;
    }
    let Ok(entries) = fs::read_dir(root) else {
        return m;
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .collect();
    names.sort();
    let mut seen: Vec<PathBuf> = Vec::new();
    for name in names {
        let dir = root.join(&name);
        if !dir.is_dir() {
            continue;
        }
        if dir.join("cgroup.controllers").exists() {
            m.unified = Some(dir);
            continue;
        }
        let real = fs::canonicalize(&dir).unwrap_or_else(|_| dir.clone());
        if seen.contains(&real) {
            continue;
        }
        let real_name = real.file_name().and_then(|n| n.to_str()).unwrap_or(&name);
        let known = real_name
            .split(',')
            .any(|n| Controller::ALL.iter().any(|c| c.v1_name() == n));
        if known {
            m.v1.push((real_name.to_string(), dir));
            seen.push(real);
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    const HYBRID: &str = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";

    #[test]
    fn mountinfo_hybrid_rerooted() {
        let root = Path::new("/host/sys/fs/cgroup");
        let l = Layout::detect(root, Some(HYBRID), Path::new("/sys/fs/cgroup"));
        let l = l.unwrap_or_else(|| panic!("no layout"));
        assert_eq!(l.mode, Mode::Hybrid);
        assert_eq!(
            l.source(Controller::Cpuacct),
            Some(&Source::V1(root.join("cpuacct")))
        );
        assert_eq!(
            l.source(Controller::Memory),
            Some(&Source::V1(root.join("memory")))
        );
        assert_eq!(l.hierarchies().len(), 5);
    }

    #[test]
    fn mountinfo_unified() {
        let info = "30 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n";
        let root = Path::new("/nonexistent");
        let l = Layout::detect(root, Some(info), Path::new("/sys/fs/cgroup"));
        let l = l.unwrap_or_else(|| panic!("no layout"));
        assert_eq!(l.mode, Mode::Unified);
        assert_eq!(
            l.source(Controller::Cpu),
            Some(&Source::V2(root.to_path_buf()))
        );
        // cgroup.controllers unreadable: only cpu.stat is assumed.
        assert_eq!(l.source(Controller::Memory), None);
    }
}
