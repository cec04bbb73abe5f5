//! Knowing whether the cgroup tree changed without walking it: an inotify watch on every cgroup
//! directory for a child's `mkdir`, `rmdir` or rename (as cAdvisor watches cgroups), so that a
//! collection walks the hierarchies again only after a change. Both cgroupfs (v1 and v2) and
//! tmpfs fixture trees report these events.
//!
//! Watches are added while walking, each before its directory is listed, so a child created
//! after the listing always leaves an event. When inotify is unavailable, or a watch cannot be
//! added (the `max_user_watches` limit), every collection walks, as without a watch.

use std::mem::MaybeUninit;
use std::os::fd::OwnedFd;
use std::path::Path;

use rustix::fs::inotify::{self, CreateFlags, WatchFlags};
use rustix::io::Errno;

/// An inotify instance watching the directories of the last walk.
#[derive(Debug)]
pub(crate) struct TreeWatch {
    fd: Option<OwnedFd>,
    /// Whether every directory of the last walk is watched.
    complete: bool,
    buf: Vec<MaybeUninit<u8>>,
}

impl Default for TreeWatch {
    fn default() -> Self {
        TreeWatch {
            fd: inotify::init(CreateFlags::CLOEXEC | CreateFlags::NONBLOCK).ok(),
            complete: false,
            buf: vec![MaybeUninit::uninit(); 4096],
        }
    }
}

impl TreeWatch {
    /// A watch that never reports "unchanged" (every collection walks).
    pub(crate) fn disabled() -> Self {
        TreeWatch {
            fd: None,
            ..TreeWatch::default()
        }
    }

    /// Whether the tree may have changed since the last walk: true after any event, and
    /// always when not every directory is watched. Drains the pending events.
    pub(crate) fn changed(&mut self) -> bool {
        let Some(fd) = &self.fd else { return true };
        let mut any = false;
        loop {
            match rustix::io::read(fd, &mut self.buf[..]) {
                Ok((read, _)) if !read.is_empty() => any = true,
                Err(Errno::INTR) => {}
                _ => break,
            }
        }
        any || !self.complete
    }

    /// Starts a walk: the walk is complete unless an [`TreeWatch::add`] fails.
    pub(crate) fn begin_walk(&mut self) {
        self.complete = self.fd.is_some();
    }

    /// Watches `dir` for children made, removed or renamed.
    pub(crate) fn add(&mut self, dir: &Path) {
        let Some(fd) = &self.fd else { return };
        let flags = WatchFlags::CREATE
            | WatchFlags::DELETE
            | WatchFlags::MOVED_FROM
            | WatchFlags::MOVED_TO
            | WatchFlags::ONLYDIR;
        if inotify::add_watch(fd, dir, flags).is_err() {
            self.complete = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_a_new_and_a_removed_child_once() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let mut w = TreeWatch::default();
        assert!(w.changed(), "nothing watched yet");
        w.begin_walk();
        w.add(dir.path());
        assert!(!w.changed());
        std::fs::create_dir(dir.path().join("c")).unwrap_or_else(|e| panic!("{e}"));
        assert!(w.changed());
        assert!(!w.changed(), "events are drained");
        std::fs::remove_dir(dir.path().join("c")).unwrap_or_else(|e| panic!("{e}"));
        assert!(w.changed());
    }

    #[test]
    fn a_failed_watch_means_always_changed() {
        let mut w = TreeWatch::default();
        w.begin_walk();
        w.add(Path::new("/nonexistent/promlet"));
        assert!(w.changed());
        assert!(w.changed());
        assert!(TreeWatch::disabled().changed());
    }
}
