//! Container readers: every cgroup on the node (cgroup v1, v2 or hybrid), with cAdvisor's metric
//! names and the kubelet's `/metrics/resource` set.
//!
//! One collection walks each hierarchy once, reads each cgroup's files (CPU in seconds, memory
//! in bytes, block I/O, tasks) and labels it with cAdvisor's `id` (the cgroup path) plus, for
//! kubelet layouts, `pod_uid`, `qos`, `container_id` and `runtime` ([`kubepods`]). Names
//! (`namespace`, `pod`, `container`, `image`) come through [`PodMetadata`]. A cgroup that
//! disappears while it is read (a container exiting) is skipped and counted in
//! [`CollectStats::skipped`].

mod families;
pub mod kubepods;
mod layout;
mod meta;
mod open_files;
mod read;
mod stats;
mod watch;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

pub use kubepods::{ContainerRef, PodRef, Qos, Runtime};
pub use layout::{Controller, Layout, Mode, Source};
pub use meta::{ContainerMeta, NoMetadata, PodMeta, PodMetadata, StaticMetadata};
pub use stats::{CgroupStats, CpuStats, IoStats, MemoryStats, PidsStats, Throttling};

use crate::{Collect, CollectError, CollectStats, Family};

/// Where to find the cgroup file systems.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where the cgroup file systems are mounted (`/sys/fs/cgroup`; `/host/sys/fs/cgroup` in a
    /// DaemonSet; a fixture tree in tests).
    pub root: PathBuf,
    /// A mountinfo file naming the cgroup mounts (`/proc/self/mountinfo`); `None` probes the
    /// directories under `root` instead.
    pub mountinfo: Option<PathBuf>,
    /// The prefix of mount points in `mountinfo` that corresponds to `root` (`/sys/fs/cgroup`).
    pub mount_prefix: PathBuf,
    /// `/sys/dev/block`, to name devices (`8:0` → `/dev/sda`); `None` labels them `8:0`.
    pub dev_block: Option<PathBuf>,
    /// How many cgroup files to keep open between collections, so that reading one again is a
    /// single `pread` (see [`CgroupCollector::with_open_files`]); `None`: the smaller of 4096
    /// and half the soft `RLIMIT_NOFILE`. Each kept file holds about 4.4 KiB of kernel memory
    /// (its seq_file buffer), charged to this process's cgroup.
    pub max_open_files: Option<usize>,
}

impl Config {
    /// This host: `/sys/fs/cgroup`, `/proc/self/mountinfo`, `/sys/dev/block`.
    pub fn host() -> Self {
        Config {
            root: "/sys/fs/cgroup".into(),
            mountinfo: Some("/proc/self/mountinfo".into()),
            mount_prefix: "/sys/fs/cgroup".into(),
            dev_block: Some("/sys/dev/block".into()),
            max_open_files: None,
        }
    }

    /// A tree at `root`, detected by probing its directories; devices named `MAJ:MIN`.
    pub fn at(root: impl Into<PathBuf>) -> Self {
        Config {
            root: root.into(),
            mountinfo: None,
            mount_prefix: "/sys/fs/cgroup".into(),
            dev_block: None,
            max_open_files: None,
        }
    }
}

/// Which families a collector emits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricSet {
    /// cAdvisor's (`/metrics/cadvisor`): every cgroup, `container_*`, labelled by `id`.
    Cadvisor,
    /// The kubelet's `/metrics/resource`: `node_*`, `pod_*`, `container_*` for named pods.
    Resource,
}

/// One cgroup as read: its path, what the path says about its pod, and its numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct Cgroup {
    /// The cgroup path, `/`-rooted (cAdvisor's `id` label; `/` is the node).
    pub id: String,
    /// The pod and container, for kubelet layouts.
    pub pod: Option<PodRef>,
    /// The numbers.
    pub stats: CgroupStats,
}

/// The cgroups found by a walk, before their files are read (see [`CgroupCollector::list`]).
#[derive(Debug, Clone, Default)]
pub struct Listing(Arc<BTreeMap<String, u8>>);

impl Listing {
    /// The cgroup paths, sorted.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }
    /// How many cgroups.
    pub fn len(&self) -> usize {
        self.0.len()
    }
    /// Whether no cgroup was found.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Reads every cgroup; implements [`Collect`].
pub struct CgroupCollector {
    config: Config,
    layout: Layout,
    meta: Arc<dyn PodMetadata>,
    set: MetricSet,
    devices: Mutex<HashMap<(u32, u32), String>>,
    reader: Mutex<read::Reader>,
    /// The last walk's listing, reused while `watch` reports no change.
    tree: Mutex<(watch::TreeWatch, Option<Listing>)>,
}

impl std::fmt::Debug for CgroupCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CgroupCollector")
            .field("config", &self.config)
            .field("layout", &self.layout)
            .field("set", &self.set)
            .finish_non_exhaustive()
    }
}

impl CgroupCollector {
    /// Detects the layout once; emits cAdvisor's set with no pod names until
    /// [`CgroupCollector::with_metadata`].
    ///
    /// # Errors
    /// When no cgroup hierarchy is found under `config.root`.
    pub fn new(config: Config) -> Result<Self, CollectError> {
        let info = config
            .mountinfo
            .as_ref()
            .and_then(|p| std::fs::read_to_string(p).ok());
        let layout = Layout::detect(&config.root, info.as_deref(), &config.mount_prefix)
            .ok_or_else(|| CollectError {
                reader: "cgroup",
                message: format!("no cgroup hierarchy under {}", config.root.display()),
            })?;
        Ok(CgroupCollector {
            layout,
            meta: Arc::new(NoMetadata),
            set: MetricSet::Cadvisor,
            devices: Mutex::new(HashMap::new()),
            reader: Mutex::new(match config.max_open_files {
                Some(n) => read::Reader::with_open_budget(n),
                None => read::Reader::default(),
            }),
            tree: Mutex::new((watch::TreeWatch::default(), None)),
            config,
        })
    }

    /// Names pods and containers through `meta`.
    pub fn with_metadata(mut self, meta: Arc<dyn PodMetadata>) -> Self {
        self.meta = meta;
        self
    }

    /// Keeps at most `budget` cgroup files open between collections (0: none), so that each
    /// later read of one is a single `pread` instead of `openat`, `read` and `close` (see
    /// [`Config::max_open_files`] for the default and the kernel memory it costs).
    pub fn with_open_files(mut self, budget: usize) -> Self {
        self.reader = Mutex::new(read::Reader::with_open_budget(budget));
        self
    }

    /// How many cgroup files are kept open now.
    pub fn open_files(&self) -> usize {
        self.reader.lock().map(|r| r.open_files()).unwrap_or(0)
    }

    /// Emits `set` instead.
    pub fn with_set(mut self, set: MetricSet) -> Self {
        self.set = set;
        self
    }

    /// The detected layout.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// Walks the hierarchies (first half of a collection); vanished directories are counted.
    /// The last walk's listing is reused while inotify reports no directory made, removed or
    /// renamed anywhere in the tree since.
    pub fn list(&self, stats: &mut CollectStats) -> Listing {
        let mut tree = self
            .tree
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (watch, last) = &mut *tree;
        if !watch.changed()
            && let Some(listing) = last
        {
            return listing.clone();
        }
        let listing = Listing(Arc::new(read::walk(
            &self.layout,
            &mut stats.skipped,
            watch,
        )));
        *last = Some(listing.clone());
        listing
    }

    /// Walks the tree on every collection instead of reusing a listing until inotify reports
    /// a change (for file systems without inotify events).
    pub fn without_watch(self) -> Self {
        *self
            .tree
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) =
            (watch::TreeWatch::disabled(), None);
        self
    }

    /// Reads the listed cgroups (second half); one that vanished since the listing is skipped
    /// and counted.
    pub fn read(&self, listing: &Listing, stats: &mut CollectStats) -> Vec<Cgroup> {
        let mut reader = self
            .reader
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        reader.begin();
        let mut out = Vec::with_capacity(listing.len());
        for (id, mask) in listing.0.iter() {
            match reader.cgroup(&self.layout, id, *mask) {
                Ok(st) => out.push(Cgroup {
                    pod: kubepods::parse(id),
                    id: id.clone(),
                    stats: st,
                }),
                Err(read::Vanished) => stats.skipped += 1,
            }
        }
        reader.end();
        out
    }

    /// Lists and reads every cgroup.
    pub fn snapshot(&self, stats: &mut CollectStats) -> Vec<Cgroup> {
        let listing = self.list(stats);
        self.read(&listing, stats)
    }

    /// Appends the families of `set` for already-read cgroups.
    pub fn families(&self, cgroups: &[Cgroup], set: MetricSet, out: &mut Vec<Family>) {
        match set {
            MetricSet::Cadvisor => {
                families::cadvisor(cgroups, &*self.meta, &|a, b| self.device(a, b), out)
            }
            MetricSet::Resource => families::resource(cgroups, &*self.meta, out),
        }
    }

    /// cAdvisor's device label: `/dev/<name>` from `/sys/dev/block/MAJ:MIN`, else `MAJ:MIN`.
    fn device(&self, major: u32, minor: u32) -> String {
        let key = format!("{major}:{minor}");
        let Some(dir) = &self.config.dev_block else {
            return key;
        };
        let Ok(mut cache) = self.devices.lock() else {
            return key;
        };
        cache
            .entry((major, minor))
            .or_insert_with(|| {
                std::fs::read_link(dir.join(&key))
                    .ok()
                    .and_then(|t| t.file_name()?.to_str().map(|n| format!("/dev/{n}")))
                    .unwrap_or(key)
            })
            .clone()
    }
}

impl Collect for CgroupCollector {
    fn name(&self) -> &'static str {
        "cgroup"
    }

    fn collect(&self, out: &mut Vec<Family>) -> Result<CollectStats, CollectError> {
        let mut stats = CollectStats::default();
        let cgroups = self.snapshot(&mut stats);
        if cgroups.is_empty() {
            return Err(CollectError {
                reader: "cgroup",
                message: format!("no cgroup readable under {}", self.config.root.display()),
            });
        }
        self.families(&cgroups, self.set, out);
        Ok(stats)
    }
}
