//! Cgroup files kept open between collections, so that reading one again is a single `pread`
//! at offset 0 instead of `openat`, `read` and `close`.
//!
//! This is sound for cgroupfs because kernfs regenerates a file's text on every read from
//! offset 0, and a file of a removed cgroup answers `ENODEV` (it never shows the numbers of a
//! new cgroup that took the same path): the caller then drops the descriptor and opens the path
//! again. Files of cgroups no longer listed are closed at the end of each collection.
//!
//! The cost is kernel memory: each open cgroup file holds a `struct file` and a seq_file
//! buffer, about 4.4 KiB (measured on this host's cgroup v1 memory controller), charged to the
//! agent's own cgroup. The budget caps how many stay open; beyond it files are opened and
//! closed on every read.

use std::collections::HashMap;
use std::os::fd::OwnedFd;

/// Open descriptors by cgroup id and file name, with a budget. A cgroup is selected once
/// ([`OpenFiles::select`]) and its files are then found without hashing the path again.
#[derive(Debug)]
pub(crate) struct OpenFiles {
    slots: HashMap<String, usize>,
    kept: Vec<Kept>,
    current: Option<usize>,
    open: usize,
    budget: usize,
    generation: u64,
}

/// The files kept for one cgroup, and the last collection that read it.
#[derive(Debug, Default)]
struct Kept {
    generation: u64,
    files: Vec<(&'static str, OwnedFd)>,
}

impl Default for OpenFiles {
    fn default() -> Self {
        OpenFiles::with_budget(default_budget())
    }
}

/// The default budget: [`DEFAULT_BUDGET`], or half of this process's soft `RLIMIT_NOFILE` when
/// that is less (the rest is for sockets and everything else).
pub(crate) fn default_budget() -> usize {
    match rustix::process::getrlimit(rustix::process::Resource::Nofile).current {
        Some(soft) => usize::try_from(soft / 2).map_or(DEFAULT_BUDGET, |n| n.min(DEFAULT_BUDGET)),
        None => DEFAULT_BUDGET,
    }
}

/// At most this many files kept by default: about 18 MiB of kernel memory, enough for every
/// file of about 500 cgroups (v2) or 370 (v1).
pub(crate) const DEFAULT_BUDGET: usize = 4096;

impl OpenFiles {
    /// At most `budget` descriptors kept open (0 keeps none).
    pub(crate) fn with_budget(budget: usize) -> Self {
        OpenFiles {
            slots: HashMap::new(),
            kept: Vec::new(),
            current: None,
            open: 0,
            budget,
            generation: 0,
        }
    }

    /// How many descriptors are open now.
    pub(crate) fn len(&self) -> usize {
        self.open
    }

    /// Starts a collection: cgroups not selected from now until [`OpenFiles::end`] are closed
    /// then.
    pub(crate) fn begin(&mut self) {
        self.generation += 1;
        self.current = None;
    }

    /// Closes the files of every cgroup not selected since [`OpenFiles::begin`].
    pub(crate) fn end(&mut self) {
        let generation = self.generation;
        let mut old = std::mem::take(&mut self.kept);
        self.slots
            .retain(|_, slot| old.get(*slot).is_some_and(|k| k.generation == generation));
        for slot in self.slots.values_mut() {
            let kept = std::mem::take(&mut old[*slot]);
            *slot = self.kept.len();
            self.kept.push(kept);
        }
        self.open = self.kept.iter().map(|k| k.files.len()).sum();
        self.current = None;
    }

    /// Makes `id` the cgroup whose files [`OpenFiles::get`], [`OpenFiles::forget`] and
    /// [`OpenFiles::keep`] address, and marks it as read in this collection.
    pub(crate) fn select(&mut self, id: &str) {
        self.current = self.slots.get(id).copied();
        if self.current.is_none() && self.open < self.budget {
            self.current = Some(self.kept.len());
            self.slots.insert(id.to_string(), self.kept.len());
            self.kept.push(Kept::default());
        }
        if let Some(k) = self.current.and_then(|slot| self.kept.get_mut(slot)) {
            k.generation = self.generation;
        }
    }

    fn current(&mut self) -> Option<&mut Kept> {
        self.kept.get_mut(self.current?)
    }

    /// The kept descriptor of the selected cgroup's file `name`.
    pub(crate) fn get(&mut self, name: &str) -> Option<&OwnedFd> {
        let kept = self.current()?;
        kept.files
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, fd)| fd)
    }

    /// Closes the selected cgroup's file `name` (it failed to read; the caller opens the path
    /// again).
    pub(crate) fn forget(&mut self, name: &str) {
        let Some(kept) = self.current() else { return };
        let before = kept.files.len();
        kept.files.retain(|(n, _)| *n != name);
        let closed = before - kept.files.len();
        self.open -= closed;
    }

    /// Keeps `fd` as the selected cgroup's file `name` when the budget allows; otherwise it is
    /// closed.
    pub(crate) fn keep(&mut self, name: &'static str, fd: OwnedFd) {
        if self.open >= self.budget {
            return;
        }
        let Some(kept) = self.current() else { return };
        kept.files.push((name, fd));
        self.open += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fd() -> OwnedFd {
        std::fs::File::open("/dev/null")
            .map(OwnedFd::from)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn budget_caps_open_descriptors() {
        let mut f = OpenFiles::with_budget(2);
        f.begin();
        f.select("/a");
        f.keep("cpu.stat", fd());
        f.keep("memory.stat", fd());
        f.select("/b");
        f.keep("cpu.stat", fd());
        assert_eq!(f.len(), 2);
        assert!(f.get("cpu.stat").is_none());
        f.select("/a");
        assert!(f.get("memory.stat").is_some());
    }

    #[test]
    fn cgroups_not_read_in_a_collection_are_closed() {
        let mut f = OpenFiles::with_budget(10);
        f.begin();
        f.select("/a");
        f.keep("cpu.stat", fd());
        f.select("/b");
        f.keep("cpu.stat", fd());
        f.keep("io.stat", fd());
        f.end();
        assert_eq!(f.len(), 3);
        f.begin();
        f.select("/a");
        assert!(f.get("cpu.stat").is_some());
        f.end();
        assert_eq!(f.len(), 1);
        f.begin();
        f.select("/b");
        assert!(f.get("cpu.stat").is_none());
        f.select("/a");
        assert!(f.get("cpu.stat").is_some());
    }

    #[test]
    fn forgetting_a_file_frees_its_place() {
        let mut f = OpenFiles::with_budget(1);
        f.begin();
        f.select("/a");
        f.keep("cpu.stat", fd());
        f.forget("cpu.stat");
        assert_eq!(f.len(), 0);
        f.keep("io.stat", fd());
        assert!(f.get("io.stat").is_some());
    }
}
