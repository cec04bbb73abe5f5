//! Walking the hierarchies and reading one cgroup's files, telling a vanished cgroup (ENOENT
//! or ENODEV once its directory is gone) from a file that simply does not exist there.

use std::collections::BTreeMap;
use std::fs;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use rustix::fs::{self as rfs, Mode, OFlags};
use rustix::io::Errno;

use super::layout::{Controller, Layout, Source};
use super::stats::{self, CgroupStats};

/// The cgroup went away while it was being read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Vanished;

/// Every cgroup path (`/`-rooted, as cAdvisor's `id`) in the layout's hierarchies, sorted, with
/// the mask of controllers (bit `i` = `Controller::ALL[i]`) whose hierarchy holds it. A
/// directory that vanishes during the walk is left out and counted in `skipped`.
pub(crate) fn walk(layout: &Layout, skipped: &mut u64) -> BTreeMap<String, u8> {
    let mut out = BTreeMap::new();
    for (mount, mask) in layout.hierarchies() {
        let mut stack = vec![String::new()];
        while let Some(rel) = stack.pop() {
            let dir = mount.join(&rel);
            let Ok(entries) = fs::read_dir(&dir) else {
                *skipped += u64::from(!rel.is_empty());
                continue;
            };
            *out.entry(format!("/{rel}")).or_insert(0) |= mask;
            for e in entries.flatten() {
                if e.file_type().is_ok_and(|t| t.is_dir())
                    && let Some(name) = e.file_name().to_str()
                {
                    stack.push(if rel.is_empty() {
                        name.to_string()
                    } else {
                        format!("{rel}/{name}")
                    });
                }
            }
        }
    }
    out
}

/// Reads cgroup files with one reused buffer and path.
#[derive(Debug, Default)]
pub(crate) struct Reader {
    buf: String,
    dirs: DirCache,
    other: String,
    /// Files a kernel does not have (`memory.peak` before 5.19, CFQ-era blkio files), learnt
    /// from the first non-root cgroup lacking them, then not looked for again.
    absent: Vec<&'static str>,
}

/// The directory of the cgroup being read, opened once (`O_PATH`) so that each file is opened
/// relative to it: the kernel resolves one path component per file instead of the whole path.
#[derive(Debug, Default)]
struct DirCache {
    path: PathBuf,
    scratch: PathBuf,
    fd: Option<OwnedFd>,
}

impl DirCache {
    fn open(&mut self, mount: &Path, id: &str) -> Result<&OwnedFd, Vanished> {
        self.scratch.as_mut_os_string().clear();
        self.scratch.push(mount);
        self.scratch.push(id.trim_start_matches('/'));
        if self.fd.is_none() || self.scratch != self.path {
            std::mem::swap(&mut self.scratch, &mut self.path);
            self.fd = None;
            let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC;
            self.fd = Some(rfs::open(&self.path, flags, Mode::empty()).map_err(|_| Vanished)?);
        }
        self.fd.as_ref().ok_or(Vanished)
    }
}

/// Reads `mount/<id>/name` into `buf`: `Ok(false)` when the file is absent but the cgroup is not.
///
/// Three system calls per file (openat, read, close): no `statx`/`lseek` size probe, and a
/// short read ends the file, as it does for kernfs (cgroupfs fills the whole buffer unless at
/// EOF).
fn read_file(
    dirs: &mut DirCache,
    buf: &mut String,
    mount: &Path,
    id: &str,
    name: &str,
) -> Result<bool, Vanished> {
    let opened = rfs::openat(
        dirs.open(mount, id)?,
        name,
        OFlags::RDONLY | OFlags::CLOEXEC,
        Mode::empty(),
    );
    let fd = match opened {
        Ok(fd) => fd,
        Err(Errno::NODEV) => return Err(Vanished),
        Err(Errno::NOENT) if dirs.path.is_dir() => return Ok(false),
        Err(Errno::NOENT) => return Err(Vanished),
        Err(_) => return Ok(false),
    };
    let mut bytes = std::mem::take(buf).into_bytes();
    bytes.clear();
    let res = read_all(&fd, &mut bytes);
    *buf = String::from_utf8(bytes).unwrap_or_default();
    match res {
        Ok(()) => Ok(true),
        Err(Errno::NODEV) => Err(Vanished),
        Err(_) => Ok(false),
    }
}

/// Reads `fd` to its end into `out`, stopping at the first short read.
fn read_all(fd: &OwnedFd, out: &mut Vec<u8>) -> Result<(), Errno> {
    const CHUNK: usize = 8192;
    loop {
        let len = out.len();
        out.resize(len + CHUNK, 0);
        let n = loop {
            match rustix::io::read(fd, &mut out[len..]) {
                Err(Errno::INTR) => continue,
                r => break r,
            }
        };
        let n = match n {
            Ok(n) => n,
            Err(e) => {
                out.truncate(len);
                return Err(e);
            }
        };
        out.truncate(len + n);
        if n < CHUNK {
            return Ok(());
        }
    }
}

impl Reader {
    /// The text of `mount/<id>/name`; `Ok(None)` when the file is absent but the cgroup is not.
    fn file(&mut self, mount: &Path, id: &str, name: &str) -> Result<Option<&str>, Vanished> {
        let found = read_file(&mut self.dirs, &mut self.buf, mount, id, name)?;
        Ok(found.then_some(self.buf.as_str()))
    }

    /// A file only some kernels have (see `absent`).
    fn optional(
        &mut self,
        mount: &Path,
        id: &str,
        name: &'static str,
    ) -> Result<Option<&str>, Vanished> {
        if self.absent.contains(&name) {
            return Ok(None);
        }
        let found = read_file(&mut self.dirs, &mut self.buf, mount, id, name)?;
        if !found && id != "/" {
            self.absent.push(name);
        }
        Ok(found.then_some(self.buf.as_str()))
    }

    /// Two files at once (for parsers that need both).
    fn pair(
        &mut self,
        mount: &Path,
        id: &str,
        a: &str,
        b: &str,
    ) -> Result<(Option<&str>, Option<&str>), Vanished> {
        let has_a = read_file(&mut self.dirs, &mut self.buf, mount, id, a)?;
        if !has_a {
            return Ok((None, None));
        }
        let has_b = read_file(&mut self.dirs, &mut self.other, mount, id, b)?;
        Ok((
            has_a.then_some(self.buf.as_str()),
            has_b.then_some(self.other.as_str()),
        ))
    }

    /// Reads every controller in `mask` for cgroup `id`.
    pub(crate) fn cgroup(
        &mut self,
        layout: &Layout,
        id: &str,
        mask: u8,
    ) -> Result<CgroupStats, Vanished> {
        let mut st = CgroupStats::default();
        for (i, c) in Controller::ALL.into_iter().enumerate() {
            let Some(src) = layout.sources[i].as_ref().filter(|_| mask & (1 << i) != 0) else {
                continue;
            };
            match (c, src) {
                (Controller::Cpu, Source::V2(_)) => {} // read with Cpuacct: one cpu.stat
                (Controller::Cpuacct, Source::V2(m)) => {
                    if let Some(t) = self.file(m, id, "cpu.stat")? {
                        (st.cpu, st.throttling) = stats::cpu_stat_v2(t);
                    }
                }
                (Controller::Cpuacct, Source::V1(m)) => self.cpuacct_v1(m, id, &mut st)?,
                (Controller::Cpu, Source::V1(m)) => {
                    st.throttling = self.file(m, id, "cpu.stat")?.and_then(stats::cpu_stat_v1);
                }
                (Controller::Memory, Source::V2(m)) => self.memory_v2(m, id, &mut st)?,
                (Controller::Memory, Source::V1(m)) => self.memory_v1(m, id, &mut st)?,
                (Controller::Blkio, Source::V2(m)) => {
                    st.io = self
                        .file(m, id, "io.stat")?
                        .map(stats::io_stat_v2)
                        .unwrap_or_default();
                }
                (Controller::Blkio, Source::V1(m)) => self.blkio_v1(m, id, &mut st)?,
                (Controller::Pids, Source::V1(m) | Source::V2(m)) => self.pids(m, id, &mut st)?,
            }
        }
        Ok(st)
    }

    fn cpuacct_v1(&mut self, m: &Path, id: &str, st: &mut CgroupStats) -> Result<(), Vanished> {
        if let (Some(usage), stat) = self.pair(m, id, "cpuacct.usage", "cpuacct.stat")? {
            st.cpu = stats::cpuacct_v1(usage, stat);
        }
        Ok(())
    }

    fn memory_v2(&mut self, m: &Path, id: &str, st: &mut CgroupStats) -> Result<(), Vanished> {
        let usage = self.file(m, id, "memory.current")?.and_then(stats::single);
        if usage.is_none() && id != "/" {
            return Ok(()); // memory controller not enabled for this cgroup
        }
        let swap = self
            .file(m, id, "memory.swap.current")?
            .and_then(stats::single);
        let peak = self.optional(m, id, "memory.peak")?.and_then(stats::single);
        let Some(stat) = self.file(m, id, "memory.stat")? else {
            return Ok(());
        };
        let mut mem = stats::memory(stat, false, usage);
        (mem.swap_bytes, mem.max_usage_bytes) = (swap, peak);
        st.memory = Some(mem);
        Ok(())
    }

    fn memory_v1(&mut self, m: &Path, id: &str, st: &mut CgroupStats) -> Result<(), Vanished> {
        let Some(usage) = self
            .file(m, id, "memory.usage_in_bytes")?
            .and_then(stats::single)
        else {
            return Ok(());
        };
        let max = self
            .file(m, id, "memory.max_usage_in_bytes")?
            .and_then(stats::single);
        let failcnt = self.file(m, id, "memory.failcnt")?.and_then(stats::single);
        let Some(stat) = self.file(m, id, "memory.stat")? else {
            return Ok(());
        };
        let mut mem = stats::memory(stat, true, Some(usage));
        (mem.max_usage_bytes, mem.failcnt) = (max, failcnt);
        st.memory = Some(mem);
        Ok(())
    }

    fn blkio_v1(&mut self, m: &Path, id: &str, st: &mut CgroupStats) -> Result<(), Vanished> {
        // The CFQ/BFQ-era files first, then the throttle ones (always there), as runc does.
        for (bytes, ops) in [
            (
                "blkio.io_service_bytes_recursive",
                "blkio.io_serviced_recursive",
            ),
            (
                "blkio.throttle.io_service_bytes_recursive",
                "blkio.throttle.io_serviced_recursive",
            ),
        ] {
            if self.absent.contains(&bytes) {
                continue;
            }
            let io = match self.pair(m, id, bytes, ops)? {
                (Some(b), ops) => stats::blkio_v1(b, ops),
                (None, _) => {
                    // Learn only the CFQ-era files' absence: the throttle ones always exist.
                    if id != "/" && bytes == "blkio.io_service_bytes_recursive" {
                        self.absent.push(bytes);
                    }
                    continue;
                }
            };
            if !io.is_empty() {
                st.io = io;
                return Ok(());
            }
        }
        Ok(())
    }

    fn pids(&mut self, m: &Path, id: &str, st: &mut CgroupStats) -> Result<(), Vanished> {
        let max = self.file(m, id, "pids.max")?.and_then(stats::single);
        if let Some(current) = self.file(m, id, "pids.current")?.and_then(stats::single) {
            st.pids = Some(stats::PidsStats { current, max });
        }
        Ok(())
    }
}
