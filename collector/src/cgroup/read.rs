//! Walking the hierarchies and reading one cgroup's files, telling a vanished cgroup (ENOENT
//! or ENODEV once its directory is gone) from a file that simply does not exist there.

use std::collections::BTreeMap;
use std::mem::MaybeUninit;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use rustix::buffer::spare_capacity;
use rustix::fs::{self as rfs, AtFlags, FileType, Mode, OFlags, RawDir};
use rustix::io::Errno;

use super::layout::{Controller, Layout, Source};
use super::open_files::OpenFiles;
use super::stats::{self, CgroupStats};
use super::watch::TreeWatch;

/// The cgroup went away while it was being read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Vanished;

/// Every cgroup path (`/`-rooted, as cAdvisor's `id`) in the layout's hierarchies, sorted, with
/// the mask of controllers (bit `i` = `Controller::ALL[i]`) whose hierarchy holds it. A
/// directory that vanishes during the walk is left out and counted in `skipped`. Every
/// directory is added to `watch` before it is listed.
pub(crate) fn walk(
    layout: &Layout,
    skipped: &mut u64,
    watch: &mut TreeWatch,
) -> BTreeMap<String, u8> {
    watch.begin_walk();
    let mut walker = Walker {
        out: BTreeMap::new(),
        skipped,
        watch,
        path: PathBuf::new(),
        buf: vec![MaybeUninit::uninit(); 16 * 1024],
        names: String::new(),
    };
    for (mount, mask) in layout.hierarchies() {
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
        if let Ok(fd) = rfs::open(&mount, flags, Mode::empty()) {
            walker.path = mount;
            walker.dir(&fd, &mut String::from("/"), mask);
        }
    }
    walker.out
}

/// A depth-first walk that opens each directory relative to its parent and lists it with
/// `getdents` into one reused buffer, allocating only the paths it returns.
struct Walker<'a> {
    out: BTreeMap<String, u8>,
    skipped: &'a mut u64,
    watch: &'a mut TreeWatch,
    /// The directory being walked (the mount joined with its path).
    path: PathBuf,
    buf: Vec<MaybeUninit<u8>>,
    /// Child directory names of the directories being walked, each ended by `/`.
    names: String,
}

impl Walker<'_> {
    /// Records `rel` (the path of `fd`, `/`-rooted) and walks its subdirectories.
    fn dir(&mut self, fd: &OwnedFd, rel: &mut String, mask: u8) {
        match self.out.get_mut(rel.as_str()) {
            Some(m) => *m |= mask,
            None => {
                self.out.insert(rel.clone(), mask);
            }
        }
        self.watch.add(&self.path);
        let start = self.names.len();
        self.list_subdirs(fd);
        let end = self.names.len();
        let base = rel.len();
        let mut pos = start;
        while let Some(len) = self.names[pos..end].find('/') {
            if base > 1 {
                rel.push('/');
            }
            rel.push_str(&self.names[pos..pos + len]);
            pos += len + 1;
            let name = &rel[rel.len() - len..];
            let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
            match rfs::openat(fd, name, flags, Mode::empty()) {
                Ok(child) => {
                    self.path.push(name);
                    self.dir(&child, rel, mask);
                    self.path.pop();
                }
                Err(_) => *self.skipped += 1,
            }
            rel.truncate(base);
            self.names.truncate(end);
        }
        self.names.truncate(start);
    }

    /// Appends the names of `fd`'s subdirectories to `names`.
    fn list_subdirs(&mut self, fd: &OwnedFd) {
        let mut entries = RawDir::new(fd, &mut self.buf);
        while let Some(Ok(e)) = entries.next() {
            let Ok(name) = e.file_name().to_str() else {
                continue;
            };
            if name == "." || name == ".." || name.contains('/') {
                continue;
            }
            let is_dir = match e.file_type() {
                FileType::Directory => true,
                FileType::Unknown => rfs::statat(fd, name, AtFlags::SYMLINK_NOFOLLOW)
                    .is_ok_and(|st| FileType::from_raw_mode(st.st_mode) == FileType::Directory),
                _ => false,
            };
            if is_dir {
                self.names.push_str(name);
                self.names.push('/');
            }
        }
    }
}

/// Reads cgroup files with reused buffers, keeping files open between collections.
#[derive(Debug, Default)]
pub(crate) struct Reader {
    buf: String,
    files: Files,
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
/// A file read before is one `pread` on its kept descriptor ([`OpenFiles`]); one that fails
/// (`ENODEV`: its cgroup was removed, perhaps re-created) is closed and opened again. Opening is
/// `openat` relative to the cgroup's directory and a `pread`; a short read ends the file, as it
/// does for kernfs (cgroupfs fills the whole buffer unless at EOF).
fn read_file(
    files: &mut Files,
    buf: &mut String,
    mount: &Path,
    id: &str,
    name: &'static str,
) -> Result<bool, Vanished> {
    let mut bytes = std::mem::take(buf).into_bytes();
    bytes.clear();
    let res = read_bytes(files, &mut bytes, mount, id, name);
    *buf = String::from_utf8(bytes).unwrap_or_default();
    res
}

fn read_bytes(
    files: &mut Files,
    bytes: &mut Vec<u8>,
    mount: &Path,
    id: &str,
    name: &'static str,
) -> Result<bool, Vanished> {
    if let Some(fd) = files.open.get(name) {
        if pread_all(fd, bytes).is_ok() {
            return Ok(true);
        }
        bytes.clear();
        files.open.forget(name);
    }
    let opened = rfs::openat(
        files.dirs.open(mount, id)?,
        name,
        OFlags::RDONLY | OFlags::CLOEXEC,
        Mode::empty(),
    );
    let fd = match opened {
        Ok(fd) => fd,
        Err(Errno::NODEV) => return Err(Vanished),
        Err(Errno::NOENT) if files.dirs.path.is_dir() => return Ok(false),
        Err(Errno::NOENT) => return Err(Vanished),
        Err(_) => return Ok(false),
    };
    match pread_all(&fd, bytes) {
        Ok(()) => {
            files.open.keep(name, fd);
            Ok(true)
        }
        Err(Errno::NODEV) => Err(Vanished),
        Err(_) => Ok(false),
    }
}

/// Reads `fd` from offset 0 to its end into `out`, stopping at the first short read.
fn pread_all(fd: &OwnedFd, out: &mut Vec<u8>) -> Result<(), Errno> {
    const CHUNK: usize = 8192;
    loop {
        out.reserve(CHUNK);
        let room = out.capacity() - out.len();
        let offset = out.len() as u64;
        let n = loop {
            match rustix::io::pread(fd, spare_capacity(out), offset) {
                Err(Errno::INTR) => continue,
                r => break r?,
            }
        };
        if n < room {
            return Ok(());
        }
    }
}

/// Where files are opened from: the current cgroup's directory and the kept descriptors.
#[derive(Debug, Default)]
struct Files {
    dirs: DirCache,
    open: OpenFiles,
}

impl Reader {
    /// A reader keeping at most `budget` files open between collections.
    pub(crate) fn with_open_budget(budget: usize) -> Self {
        Reader {
            files: Files {
                dirs: DirCache::default(),
                open: OpenFiles::with_budget(budget),
            },
            ..Reader::default()
        }
    }

    /// Starts a collection (see [`OpenFiles::begin`]).
    pub(crate) fn begin(&mut self) {
        self.files.open.begin();
    }

    /// Ends a collection: files of cgroups not read in it are closed.
    pub(crate) fn end(&mut self) {
        self.files.open.end();
        self.files.dirs.fd = None;
    }

    /// How many files are kept open.
    pub(crate) fn open_files(&self) -> usize {
        self.files.open.len()
    }

    /// The text of `mount/<id>/name`; `Ok(None)` when the file is absent but the cgroup is not.
    fn file(
        &mut self,
        mount: &Path,
        id: &str,
        name: &'static str,
    ) -> Result<Option<&str>, Vanished> {
        let found = read_file(&mut self.files, &mut self.buf, mount, id, name)?;
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
        let found = read_file(&mut self.files, &mut self.buf, mount, id, name)?;
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
        a: &'static str,
        b: &'static str,
    ) -> Result<(Option<&str>, Option<&str>), Vanished> {
        let has_a = read_file(&mut self.files, &mut self.buf, mount, id, a)?;
        if !has_a {
            return Ok((None, None));
        }
        let has_b = read_file(&mut self.files, &mut self.other, mount, id, b)?;
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
        self.files.open.select(id);
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
