//! Damaged files of the key-value store: named, set aside, rebuilt or skipped, and reported,
//! so that the rest of the data is still served.
//!
//! * A table that fjall cannot even open (its metadata or index fails a checksum) stops
//!   `Database::open`. The store then checks every file against its manifest
//!   ([`crate::verify`]), moves the keyspaces holding damaged files to
//!   `<data>/quarantine/<ms>/kv-keyspace-<id>/` byte for byte, and opens without them: a
//!   damaged time partition costs that partition's samples only.
//! * The index keyspaces derived from `series` (hashes, postings, values) and `meta` are
//!   checked at every open (they are small next to the chunks); when damaged or set aside
//!   they are rebuilt (a copy of the damaged files is kept in quarantine). The `series`
//!   keyspace holds the labels of every series and is the one thing the store cannot do
//!   without: damage there fails the open with an error naming the file, and the files are
//!   left where they are.
//! * A damaged data block of a partition is found by the read that needs it: that read
//!   leaves out what the block held, the file is named once in the log, and every query that
//!   was affected carries a warning naming it ([`DamageLog`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use fjall::Database;
use parking_lot::Mutex;

use crate::verify::{DamagedFile, damaged_files, damaged_in_keyspace};
use crate::{Error, Result};

/// The keyspace the store cannot be opened without: the others are derived from it.
const REQUIRED_KEYSPACE: &str = "series";

/// What reads found damaged, by keyspace directory, with the message reported for it.
#[derive(Default)]
pub(crate) struct DamageLog {
    /// Found by reads, by keyspace directory.
    found: Mutex<BTreeMap<PathBuf, String>>,
    /// Keyspaces set aside at open.
    set_aside: Mutex<Vec<String>>,
}

impl DamageLog {
    /// Records that a read of the keyspace in `dir` (holding `what`) failed with `err`, and
    /// returns the warning for it, naming the damaged file(s). The first time for a keyspace
    /// the files are checked and the damage logged; later calls return the same warning.
    pub(crate) fn note(&self, dir: &Path, what: &str, err: &fjall::Error) -> String {
        if let Some(msg) = self.found.lock().get(dir) {
            return msg.clone();
        }
        let files = damaged_in_keyspace(dir);
        let named = if files.is_empty() {
            format!("under {} ({err})", dir.display())
        } else {
            join_files(&files)
        };
        let msg = format!("damaged data file {named}: samples of {what} stored there are left out");
        tracing::error!(files = %named, error = %err, "storage: {msg}");
        self.found.lock().insert(dir.to_owned(), msg.clone());
        msg
    }

    /// Adds the warning about a keyspace set aside at open.
    pub(crate) fn add_set_aside(&self, msg: String) {
        self.set_aside.lock().push(msg);
    }

    /// The warnings about keyspaces set aside at open: every query may miss their samples.
    pub(crate) fn set_aside(&self) -> Vec<String> {
        self.set_aside.lock().clone()
    }

    /// Every warning recorded so far: set aside at open, then found by reads.
    pub(crate) fn all(&self) -> Vec<String> {
        let mut out = self.set_aside();
        out.extend(self.found.lock().values().cloned());
        out
    }
}

/// The files' paths and reasons, separated by `; `.
fn join_files(files: &[DamagedFile]) -> String {
    files
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// A keyspace directory moved to quarantine.
pub(crate) struct SetAside {
    /// Where it was.
    pub(crate) from: PathBuf,
    /// Where it is now.
    pub(crate) to: PathBuf,
    /// Its damaged files.
    pub(crate) files: Vec<DamagedFile>,
}

/// Opens the store at `kv` after `Database::open` failed with `first`: sets the keyspaces
/// holding damaged files aside and opens without them. Returns the database and what was
/// set aside.
///
/// # Errors
/// [`Error::DamagedFile`] when no file is found damaged (with fjall's error), when a damaged
/// keyspace is one the store needs, or when the open fails again; the keyspaces are then put
/// back where they were.
pub(crate) fn open_without_damaged(
    kv: &Path,
    open: impl Fn() -> fjall::Result<Database>,
    first: fjall::Error,
) -> Result<(Database, Vec<SetAside>)> {
    let damaged = damaged_files(kv)?;
    if damaged.is_empty() {
        return Err(Error::Keyspace {
            keyspace: "(opening)".into(),
            path: kv.to_owned(),
            source: first,
        });
    }
    let moved = set_aside(kv, &damaged)?;
    let reopened = open()
        .map_err(|e| format!("the store still does not open without it: {e}"))
        .and_then(|db| match missing_required(&db) {
            Some(k) => Err(format!(
                "it holds the labels of the stored series (keyspace {k:?}), which promlet \
                 cannot serve without; restore the data directory from a backup"
            )),
            None => Ok(db),
        });
    match reopened {
        Ok(db) => Ok((db, moved)),
        Err(why) => {
            put_back(&moved);
            Err(Error::DamagedFile {
                files: join_files(&damaged),
                why,
            })
        }
    }
}

/// The keyspace the store needs if it did not open (it was set aside). Only called for a
/// store that held data, which has it.
fn missing_required(db: &Database) -> Option<&'static str> {
    let open = db
        .list_keyspace_names()
        .iter()
        .any(|n| n.as_ref() as &str == REQUIRED_KEYSPACE);
    (!open).then_some(REQUIRED_KEYSPACE)
}

/// Fails with [`Error::DamagedFile`] when a file of the `series` keyspace is damaged.
pub(crate) fn check_series(ks: &fjall::Keyspace) -> Result<()> {
    let files = damaged_in_keyspace(ks.path());
    if files.is_empty() {
        return Ok(());
    }
    Err(Error::DamagedFile {
        files: join_files(&files),
        why: "it holds the labels of the stored series (keyspace \"series\"), which promlet \
              cannot serve without; restore the data directory from a backup"
            .into(),
    })
}

/// A derived index keyspace `ks`, opened now: `Some(ks)` when it is sound, `None` when it
/// must be rebuilt, because it was set aside at open (`existed` false) or because its files
/// are damaged (then a copy of them goes to quarantine and the keyspace is deleted, so that
/// opening it again gives an empty one).
///
/// # Errors
/// A store error deleting it.
pub(crate) fn derived_keyspace(
    db: &Database,
    ks: fjall::Keyspace,
    existed: bool,
) -> Result<Option<fjall::Keyspace>> {
    let name = ks.name().to_string();
    if !existed {
        tracing::error!(keyspace = %name, "storage: index keyspace set aside at open; rebuilding it");
        return Ok(None);
    }
    let files = damaged_in_keyspace(ks.path());
    if files.is_empty() {
        return Ok(Some(ks));
    }
    let copy = keep_copy(ks.path());
    tracing::error!(files = %join_files(&files), copy = %copy, keyspace = %name, "storage: damaged index keyspace; rebuilding it");
    db.delete_keyspace(ks)?;
    Ok(None)
}

/// Copies the directory `dir` (files and `tables/`) to a new quarantine directory; returns
/// where it went, or why the copy failed (the rebuild goes on: the index is derived data).
fn keep_copy(dir: &Path) -> String {
    let Some(data) = dir.ancestors().nth(3) else {
        return format!(
            "no copy: {} is not under <data>/kv/keyspaces",
            dir.display()
        );
    };
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned());
    let target = data
        .join("quarantine")
        .join(model::now_ms().to_string())
        .join(format!("kv-keyspace-{}", name.unwrap_or_default()));
    match copy_dir(dir, &target) {
        Ok(()) => target.display().to_string(),
        Err(e) => format!("no copy: {e}"),
    }
}

/// Copies the files of `from` and of its subdirectories into `to`.
fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

/// Whether `e` says stored bytes are damaged (a checksum or decompression failure).
pub(crate) fn is_damage(e: &fjall::Error) -> bool {
    matches!(
        e,
        fjall::Error::Decompress(_)
            | fjall::Error::Storage(
                fjall::LsmError::ChecksumMismatch { .. } | fjall::LsmError::Decompress(_)
            )
    )
}

/// `e`, or when it is a damaged-bytes error from the store at `kv`, an
/// [`Error::DamagedFile`] naming the damaged files (found by checking them all).
pub(crate) fn explain(kv: &Path, e: Error) -> Error {
    let Error::Fjall(f) = &e else {
        return e;
    };
    if !is_damage(f) {
        return e;
    }
    match damaged_files(kv) {
        Ok(files) if !files.is_empty() => Error::DamagedFile {
            files: join_files(&files),
            why: format!(
                "a read failed ({f}); what does not need this file is still served; the next \
                 start rebuilds a damaged index (hashes, postings, values) from the series \
                 keyspace, damage to the series keyspace needs a backup"
            ),
        },
        _ => e,
    }
}

/// Moves each keyspace directory holding a damaged file to
/// `<data>/quarantine/<ms>/kv-keyspace-<id>`.
fn set_aside(kv: &Path, damaged: &[DamagedFile]) -> Result<Vec<SetAside>> {
    let data = kv.parent().unwrap_or(kv);
    let target = data.join("quarantine").join(model::now_ms().to_string());
    std::fs::create_dir_all(&target).map_err(|e| Error::io("create", &target, e))?;
    let mut moved: Vec<SetAside> = Vec::new();
    for f in damaged {
        if let Some(m) = moved.iter_mut().find(|m| m.from == f.keyspace_dir) {
            m.files.push(f.clone());
            continue;
        }
        let name = f
            .keyspace_dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let to = target.join(format!("kv-keyspace-{name}"));
        if let Err(e) = std::fs::rename(&f.keyspace_dir, &to) {
            put_back(&moved);
            return Err(Error::io("move to quarantine", &f.keyspace_dir, e));
        }
        moved.push(SetAside {
            from: f.keyspace_dir.clone(),
            to,
            files: vec![f.clone()],
        });
    }
    Ok(moved)
}

/// Undoes [`set_aside`] as far as it can (a failure is logged: the files stay in quarantine).
fn put_back(moved: &[SetAside]) {
    for m in moved {
        if let Err(e) = std::fs::rename(&m.to, &m.from) {
            tracing::error!(from = %m.to.display(), to = %m.from.display(), error = %e, "storage: putting a keyspace back from quarantine");
        }
    }
}

/// The warning for a keyspace set aside at open.
pub(crate) fn set_aside_message(m: &SetAside) -> String {
    format!(
        "damaged data file {}: its keyspace was moved to {} and the samples it held are left out",
        join_files(&m.files),
        m.to.display()
    )
}

/// The error for a failed read of the index keyspace `name` (`ks`), naming the damaged file
/// when the manifest check finds it.
pub(crate) fn index_damage(ks: &fjall::Keyspace, name: &str, e: fjall::Error) -> Error {
    let files = damaged_in_keyspace(ks.path());
    if files.is_empty() {
        return Error::Keyspace {
            keyspace: name.to_string(),
            path: ks.path().to_owned(),
            source: e,
        };
    }
    Error::DamagedFile {
        files: join_files(&files),
        why: if name == REQUIRED_KEYSPACE {
            format!(
                "reading the series' labels (keyspace {name:?}): {e}; promlet cannot serve \
                 without them; restore the data directory from a backup"
            )
        } else {
            format!(
                "reading the index (keyspace {name:?}): {e}; the next start rebuilds it from \
                 the series keyspace"
            )
        },
    }
}

impl crate::Db {
    /// The key-value store's keyspaces as (name, directory): the index keyspaces, then one
    /// `p<start ms>` per time partition, oldest first. For tools and tests that look at files.
    pub fn keyspace_dirs(&self) -> Vec<(String, PathBuf)> {
        self.store.keyspace_dirs()
    }
}
