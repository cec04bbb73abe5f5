//! Finding damaged table files of the key-value store without opening it.
//!
//! fjall (through lsm-tree) records, for every keyspace, a manifest (`keyspaces/<id>/v<n>`,
//! named by the `current` file) listing each table file with the xxh3-128 checksum of its
//! whole contents, and `current` holds the checksum of the manifest. Checking a table file is
//! therefore reading it and comparing one hash, which names the exact damaged file, where
//! fjall's own errors only say that some block failed its checksum.
//!
//! Layout read here (lsm-tree 3, manifest format 3): `current` = version id (u64 LE),
//! manifest checksum (u128 LE), checksum type (u8, 0 = xxh3). The manifest is an `sfa`
//! archive whose `tables` section is: level count (u8), then per level a run count (u8), per
//! run a table count (u32 LE), per table its id (u64 LE), checksum type (u8), checksum
//! (u128 LE) and global sequence number (u64 LE).

use std::io::Read;
use std::path::{Path, PathBuf};

use xxhash_rust::xxh3::Xxh3Default;

use crate::{Error, Result};

/// A file of the key-value store that fails its check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DamagedFile {
    /// The file.
    pub path: PathBuf,
    /// The keyspace directory it belongs to (`kv/keyspaces/<id>`).
    pub keyspace_dir: PathBuf,
    /// What is wrong with it.
    pub reason: String,
}

impl std::fmt::Display for DamagedFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.reason)
    }
}

/// Every damaged manifest or table file under the store directory `kv` (each keyspace's
/// manifest and every table it lists). Reads every table file whole: cost is one pass over
/// the store's bytes.
///
/// # Errors
/// Only when `kv/keyspaces` cannot be listed; unreadable files are reported as damaged.
pub fn damaged_files(kv: &Path) -> Result<Vec<DamagedFile>> {
    let dir = kv.join("keyspaces");
    let entries = std::fs::read_dir(&dir).map_err(|e| Error::io("list", &dir, e))?;
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    let mut out = Vec::new();
    for d in dirs {
        out.extend(damaged_in_keyspace(&d));
    }
    Ok(out)
}

/// The damaged files of one keyspace directory.
pub(crate) fn damaged_in_keyspace(dir: &Path) -> Vec<DamagedFile> {
    let damaged = |path: PathBuf, reason: String| DamagedFile {
        path,
        keyspace_dir: dir.to_owned(),
        reason,
    };
    let tables = match manifest_tables(dir) {
        Ok(t) => t,
        Err((path, reason)) => return vec![damaged(path, reason)],
    };
    let mut out = Vec::new();
    for (id, expected) in tables {
        let path = dir.join("tables").join(id.to_string());
        match file_xxh3(&path) {
            Ok(got) if got == expected => {}
            Ok(got) => out.push(damaged(
                path,
                format!(
                    "checksum mismatch: the file hashes to {got:032x}, its keyspace's manifest \
                     recorded {expected:032x}"
                ),
            )),
            Err(e) => out.push(damaged(path, format!("unreadable: {e}"))),
        }
    }
    out
}

/// The (table id, checksum) pairs of a keyspace's current manifest, or the file that is
/// damaged and why.
fn manifest_tables(dir: &Path) -> std::result::Result<Vec<(u64, u128)>, (PathBuf, String)> {
    let current = dir.join("current");
    let bytes =
        std::fs::read(&current).map_err(|e| (current.clone(), format!("unreadable: {e}")))?;
    let mut r = Bytes(&bytes);
    let (Some(version), Some(sum)) = (r.u64(), r.u128()) else {
        return Err((current, format!("{} bytes, too short", bytes.len())));
    };
    let manifest = dir.join(format!("v{version}"));
    let fail = |why: String| (manifest.clone(), why);
    let got = file_xxh3(&manifest).map_err(|e| fail(format!("unreadable: {e}")))?;
    if got != sum {
        return Err(fail(format!(
            "checksum mismatch: the file hashes to {got:032x}, `current` recorded {sum:032x}"
        )));
    }
    let reader = sfa::Reader::new(&manifest).map_err(|e| fail(format!("not an archive: {e}")))?;
    let section = reader
        .toc()
        .section(b"tables")
        .ok_or_else(|| fail("no `tables` section".into()))?;
    let data = std::fs::read(&manifest).map_err(|e| fail(format!("unreadable: {e}")))?;
    let start = usize::try_from(section.pos()).unwrap_or(usize::MAX);
    let end = start.saturating_add(usize::try_from(section.len()).unwrap_or(usize::MAX));
    let body = data
        .get(start..end)
        .ok_or_else(|| fail("the `tables` section lies outside the file".into()))?;
    parse_tables(body).ok_or_else(|| fail("the `tables` section is truncated".into()))
}

/// The table list of a manifest's `tables` section; `None` when it is truncated.
fn parse_tables(body: &[u8]) -> Option<Vec<(u64, u128)>> {
    let mut r = Bytes(body);
    let mut out = Vec::new();
    for _ in 0..r.u8()? {
        for _ in 0..r.u8()? {
            for _ in 0..r.u32()? {
                let id = r.u64()?;
                let _checksum_type = r.u8()?;
                let sum = r.u128()?;
                let _seqno = r.u64()?;
                out.push((id, sum));
            }
        }
    }
    Some(out)
}

/// The xxh3-128 hash of a whole file.
fn file_xxh3(path: &Path) -> std::io::Result<u128> {
    let mut f = std::fs::File::open(path)?;
    let mut h = Xxh3Default::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            return Ok(h.digest128());
        }
        h.update(&buf[..n]);
    }
}

/// A little-endian cursor.
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn take<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (head, rest) = self.0.split_first_chunk::<N>()?;
        self.0 = rest;
        Some(*head)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take::<1>().map(|b| b[0])
    }
    fn u32(&mut self) -> Option<u32> {
        self.take().map(u32::from_le_bytes)
    }
    fn u64(&mut self) -> Option<u64> {
        self.take().map(u64::from_le_bytes)
    }
    fn u128(&mut self) -> Option<u128> {
        self.take().map(u128::from_le_bytes)
    }
}
