//! The write-ahead log: every committed batch is written here before it is applied to the head,
//! so that the samples of open chunks survive a crash.
//!
//! A log is a directory of numbered segment files. Each starts with an 8-byte header (`PWAL`,
//! version, 3 reserved bytes) and holds records framed as `len u32 LE | crc32 u32 LE | payload`.
//! A torn record at the end of the newest segment (a crash mid-write) is cut off on replay;
//! damage anywhere else is an error naming the segment and byte offset. Layout in `FORMAT.md`.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use model::{Labels, Timestamp};

use crate::codec::{self, Reader, SeriesId};
use crate::options::FsyncPolicy;
use crate::{Error, Result};

const MAGIC: &[u8; 4] = b"PWAL";
const VERSION: u8 = 1;
const HEADER_LEN: usize = 8;
/// Records larger than this are taken as damage rather than allocated.
const MAX_RECORD: usize = 1 << 30;

const REC_SERIES: u8 = 1;
const REC_SAMPLES: u8 = 2;
const REC_SEALED: u8 = 3;

/// One decoded log record.
#[derive(Debug, PartialEq)]
pub(crate) enum Record {
    /// New series and their labels.
    Series(Vec<(SeriesId, Labels)>),
    /// Samples as (series, t ms, value).
    Samples(Vec<(SeriesId, Timestamp, f64)>),
    /// Chunks persisted in the store, as (series, last timestamp of the chunk).
    Sealed(Vec<(SeriesId, Timestamp)>),
}

/// Encodes a series record.
pub(crate) fn encode_series<'a>(
    series: impl ExactSizeIterator<Item = (SeriesId, &'a Labels)>,
    out: &mut Vec<u8>,
) {
    out.push(REC_SERIES);
    codec::put_uvarint(out, series.len() as u64);
    for (id, labels) in series {
        codec::put_uvarint(out, id);
        codec::encode_labels(labels, out);
    }
}

/// Encodes a samples record; timestamps are stored as deltas from the previous one.
pub(crate) fn encode_samples(
    samples: impl ExactSizeIterator<Item = (SeriesId, Timestamp, f64)>,
    out: &mut Vec<u8>,
) {
    // At most 10 bytes of id, 10 of timestamp delta and 8 of value each.
    out.reserve(1 + 10 + samples.len() * 28);
    out.push(REC_SAMPLES);
    codec::put_uvarint(out, samples.len() as u64);
    let mut prev = 0i64;
    for (id, t, v) in samples {
        codec::put_uvarint(out, id);
        codec::put_varint(out, t.wrapping_sub(prev));
        prev = t;
        out.extend_from_slice(&v.to_bits().to_le_bytes());
    }
}

/// Encodes a sealed-chunks record.
pub(crate) fn encode_sealed(sealed: &[(SeriesId, Timestamp)], out: &mut Vec<u8>) {
    out.push(REC_SEALED);
    codec::put_uvarint(out, sealed.len() as u64);
    for &(id, maxt) in sealed {
        codec::put_uvarint(out, id);
        codec::put_varint(out, maxt);
    }
}

/// Decodes one record payload; `Err(offset)` inside the payload on damage.
pub(crate) fn decode(payload: &[u8]) -> Result<Record, usize> {
    let mut r = Reader::new(payload);
    let kind = r.bytes(1)?.first().copied().ok_or(0usize)?;
    let n = r.uvarint()?;
    // Every entry takes at least two bytes: a count beyond that is damage, not a huge batch.
    if n > payload.len() as u64 {
        return Err(1);
    }
    match kind {
        REC_SERIES => {
            let mut v = Vec::with_capacity(n as usize);
            for _ in 0..n {
                let id = r.uvarint()?;
                v.push((id, codec::decode_labels(&mut r)?));
            }
            finish(r, Record::Series(v))
        }
        REC_SAMPLES => {
            let mut v = Vec::with_capacity(n as usize);
            let mut prev = 0i64;
            for _ in 0..n {
                let id = r.uvarint()?;
                let t = prev.wrapping_add(r.varint()?);
                prev = t;
                v.push((id, t, f64::from_bits(r.u64_le()?)));
            }
            finish(r, Record::Samples(v))
        }
        REC_SEALED => {
            let mut v = Vec::with_capacity(n as usize);
            for _ in 0..n {
                v.push((r.uvarint()?, r.varint()?));
            }
            finish(r, Record::Sealed(v))
        }
        _ => Err(0),
    }
}

fn finish(r: Reader<'_>, rec: Record) -> Result<Record, usize> {
    if r.is_empty() { Ok(rec) } else { Err(r.pos()) }
}

/// The writing end of the log.
pub(crate) struct Wal {
    dir: PathBuf,
    file: File,
    segment: u32,
    segment_len: u64,
    max_segment_len: u64,
    fsync: FsyncPolicy,
    frame: Vec<u8>,
    /// The previous segment, when it has not been synced since the log moved on from it.
    unsynced: Option<Unsynced>,
    /// Set when a failed write could not be undone: the log refuses further records, since
    /// anything after a broken record would be cut off on replay.
    broken: bool,
}

fn segment_path(dir: &Path, n: u32) -> PathBuf {
    dir.join(format!("{n:08}"))
}

/// The segment numbers present in `dir`, ascending.
pub(crate) fn segments(dir: &Path) -> Result<Vec<u32>> {
    let mut out = Vec::new();
    let entries = fs::read_dir(dir).map_err(|e| Error::io("read directory", dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io("read directory", dir, e))?;
        if let Some(n) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        {
            out.push(n);
        }
    }
    out.sort_unstable();
    Ok(out)
}

impl Wal {
    /// Opens the log in `dir` for writing, in a new segment after the existing ones.
    pub(crate) fn open(dir: &Path, max_segment_len: u64, fsync: FsyncPolicy) -> Result<Self> {
        fs::create_dir_all(dir).map_err(|e| Error::io("create directory", dir, e))?;
        let next = segments(dir)?.last().map_or(1, |n| n + 1);
        let file = create_segment(dir, next)?;
        Ok(Self {
            dir: dir.to_owned(),
            file,
            segment: next,
            segment_len: HEADER_LEN as u64,
            max_segment_len,
            fsync,
            frame: Vec::new(),
            unsynced: None,
            broken: false,
        })
    }

    /// The segment records are written to now.
    pub(crate) fn segment(&self) -> u32 {
        self.segment
    }

    /// Appends one record (already encoded) with a single `write`, then syncs as the policy says.
    /// Returns whether a new segment was started before the write.
    ///
    /// A write that fails (disk full, I/O error) is undone by cutting the segment back to its
    /// last whole record, so records logged once space returns are not lost behind a torn one.
    pub(crate) fn log(&mut self, payload: &[u8]) -> Result<bool> {
        let path = || segment_path(&self.dir, self.segment);
        if self.broken {
            let reason = std::io::Error::other(
                "an earlier failed write could not be undone; restart promlet",
            );
            return Err(Error::io("write", path(), reason));
        }
        if payload.len() > MAX_RECORD {
            let reason = std::io::Error::other(format!(
                "a batch of {} bytes exceeds the WAL record limit of {MAX_RECORD}; commit smaller batches",
                payload.len()
            ));
            return Err(Error::io("write", path(), reason));
        }
        let mut rotated = false;
        if self.segment_len + payload.len() as u64 > self.max_segment_len
            && self.segment_len > HEADER_LEN as u64
        {
            self.rotate()?;
            rotated = true;
        }
        self.frame.clear();
        self.frame
            .extend_from_slice(&(payload.len() as u32).to_le_bytes());
        self.frame
            .extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
        self.frame.extend_from_slice(payload);
        let path = || segment_path(&self.dir, self.segment);
        if let Err(e) = self.file.write_all(&self.frame) {
            if self.file.set_len(self.segment_len).is_err() {
                self.broken = true;
            }
            return Err(Error::io("write", path(), e));
        }
        if self.fsync == FsyncPolicy::Always {
            self.file
                .sync_data()
                .map_err(|e| Error::io("fdatasync", path(), e))?;
        }
        self.segment_len += self.frame.len() as u64;
        Ok(rotated)
    }

    /// Moves on to a new segment. The one it leaves is synced by the caller, through
    /// [`Wal::take_unsynced`], so that the lock around the log is not held for that.
    fn rotate(&mut self) -> Result<()> {
        // Two rotations without a take in between: the older one is synced here.
        if let Some(older) = self.unsynced.take() {
            older.sync()?;
        }
        let file = create_segment(&self.dir, self.segment + 1)?;
        let old = std::mem::replace(&mut self.file, file);
        self.unsynced = Some(Unsynced {
            file: old,
            path: segment_path(&self.dir, self.segment),
        });
        self.segment += 1;
        self.segment_len = HEADER_LEN as u64;
        Ok(())
    }

    /// The segment the log left at its last rotation if it still needs a sync: a segment is
    /// synced once the log moves on from it (with [`FsyncPolicy::Never`] too), so that a power
    /// loss can tear only the newest segment.
    pub(crate) fn take_unsynced(&mut self) -> Option<Unsynced> {
        self.unsynced.take()
    }

    /// The log's directory.
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// Forces the current segment (and a previous one not yet synced) to stable storage.
    pub(crate) fn sync(&mut self) -> Result<()> {
        if let Some(older) = self.unsynced.take() {
            older.sync()?;
        }
        let path = segment_path(&self.dir, self.segment);
        self.file
            .sync_data()
            .map_err(|e| Error::io("fdatasync", path, e))
    }
}

/// A segment the log has moved on from, still to be synced.
pub(crate) struct Unsynced {
    file: File,
    path: PathBuf,
}

impl Unsynced {
    /// Forces the segment to stable storage.
    pub(crate) fn sync(self) -> Result<()> {
        self.file
            .sync_data()
            .map_err(|e| Error::io("fdatasync", self.path, e))
    }
}

/// Deletes every segment in `dir` numbered below `keep_from`; returns how many it deleted.
/// Commits truncate without holding the log's lock, so two may race: a segment the other one
/// deleted first is not an error.
pub(crate) fn truncate_before(dir: &Path, keep_from: u32) -> Result<usize> {
    let mut n = 0;
    for seg in segments(dir)?.into_iter().filter(|s| *s < keep_from) {
        let p = segment_path(dir, seg);
        match fs::remove_file(&p) {
            Ok(()) => n += 1,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io("remove", p, e)),
        }
    }
    Ok(n)
}

/// Creates segment `n` with its header, and syncs the directory so the new file's name
/// survives a power loss.
fn create_segment(dir: &Path, n: u32) -> Result<File> {
    let path = segment_path(dir, n);
    let mut f = OpenOptions::new()
        .create_new(true)
        .append(true)
        .open(&path)
        .map_err(|e| Error::io("create", &path, e))?;
    let mut header = [0u8; HEADER_LEN];
    header[..4].copy_from_slice(MAGIC);
    header[4] = VERSION;
    f.write_all(&header)
        .map_err(|e| Error::io("write", &path, e))?;
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io("fsync directory", dir, e))?;
    Ok(f)
}

/// Reads every record of every segment in `dir` in order, calling `visit(segment, record)`.
/// A damaged tail of the newest segment is cut off (the file is truncated to its last whole
/// record); damage elsewhere is [`Error::Corrupt`].
pub(crate) fn replay(dir: &Path, mut visit: impl FnMut(u32, Record) -> Result<()>) -> Result<()> {
    if !dir.exists() {
        return Ok(());
    }
    let segs = segments(dir)?;
    for (i, &seg) in segs.iter().enumerate() {
        let path = segment_path(dir, seg);
        let mut data = Vec::new();
        File::open(&path)
            .and_then(|mut f| f.read_to_end(&mut data))
            .map_err(|e| Error::io("read", &path, e))?;
        let last = i + 1 == segs.len();
        if data.len() < HEADER_LEN {
            // Created but never given its header (a crash right after creation): it holds
            // nothing, and left in place it would stop the next open.
            tracing::warn!(segment = %path.display(), "wal: removing a segment without header");
            fs::remove_file(&path).map_err(|e| Error::io("remove", &path, e))?;
            continue;
        }
        match replay_segment(&data, |rec| visit(seg, rec)) {
            Ok(()) => {}
            Err(SegmentError::Visit(e)) => return Err(e),
            Err(SegmentError::Damage { offset, reason }) if last => {
                tracing::warn!(segment = %path.display(), offset, reason, "wal: cutting off torn tail");
                let f = OpenOptions::new()
                    .write(true)
                    .open(&path)
                    .map_err(|e| Error::io("open", &path, e))?;
                f.set_len(offset as u64)
                    .map_err(|e| Error::io("truncate", &path, e))?;
            }
            Err(SegmentError::Damage { offset, reason }) => {
                // As Prometheus repairs a damaged WAL: what precedes the damage is replayed,
                // what follows is set aside. The bytes are kept, not deleted.
                let moved = quarantine(dir, &segs[i..])?;
                tracing::error!(
                    segment = %path.display(),
                    offset,
                    reason,
                    quarantine = %moved.display(),
                    "wal: damaged record; this segment and the later ones are moved to quarantine, their samples after the damage are not replayed"
                );
                break;
            }
        }
    }
    Ok(())
}

/// Moves `segs` out of `dir` into a new `dir/quarantine/<ms>/`; returns that directory.
fn quarantine(dir: &Path, segs: &[u32]) -> Result<PathBuf> {
    let target = dir.join("quarantine").join(model::now_ms().to_string());
    fs::create_dir_all(&target).map_err(|e| Error::io("create", &target, e))?;
    for &seg in segs {
        let from = segment_path(dir, seg);
        let to = target.join(from.file_name().unwrap_or_default());
        fs::rename(&from, &to).map_err(|e| Error::io("rename", &from, e))?;
    }
    Ok(target)
}

enum SegmentError {
    Damage { offset: usize, reason: String },
    Visit(Error),
}

fn replay_segment(
    data: &[u8],
    mut visit: impl FnMut(Record) -> Result<()>,
) -> Result<(), SegmentError> {
    let damage = |offset, reason: &str| SegmentError::Damage {
        offset,
        reason: reason.into(),
    };
    let header = data
        .get(..HEADER_LEN)
        .ok_or_else(|| damage(0, "short header"))?;
    if &header[..4] != MAGIC || header[4] != VERSION {
        return Err(damage(0, "bad magic or version"));
    }
    let mut pos = HEADER_LEN;
    while pos < data.len() {
        let frame = data
            .get(pos..pos + 8)
            .ok_or_else(|| damage(pos, "truncated frame header"))?;
        let len = u32::from_le_bytes([frame[0], frame[1], frame[2], frame[3]]) as usize;
        let crc = u32::from_le_bytes([frame[4], frame[5], frame[6], frame[7]]);
        if len > MAX_RECORD {
            return Err(damage(pos, "record length out of range"));
        }
        let payload = data
            .get(pos + 8..pos + 8 + len)
            .ok_or_else(|| damage(pos, "truncated record"))?;
        if crc32fast::hash(payload) != crc {
            return Err(damage(pos, "checksum mismatch"));
        }
        let rec = decode(payload).map_err(|off| damage(pos + 8 + off, "malformed record"))?;
        visit(rec).map_err(SegmentError::Visit)?;
        pos += 8 + len;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels() -> Labels {
        Labels::from_pairs(&[("__name__", "up"), ("job", "a")]).unwrap()
    }

    fn write_some(dir: &Path) {
        let mut wal = Wal::open(dir, 1 << 20, FsyncPolicy::Never).unwrap();
        let mut p = Vec::new();
        encode_series([(1, &labels())].into_iter(), &mut p);
        wal.log(&p).unwrap();
        p.clear();
        encode_samples([(1, 1000, 1.5), (1, 2000, f64::NAN)].into_iter(), &mut p);
        wal.log(&p).unwrap();
        p.clear();
        encode_sealed(&[(1, 2000)], &mut p);
        wal.log(&p).unwrap();
    }

    fn read_all(dir: &Path) -> Result<Vec<Record>> {
        let mut out = Vec::new();
        replay(dir, |_, r| {
            out.push(r);
            Ok(())
        })?;
        Ok(out)
    }

    #[test]
    fn records_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        write_some(dir.path());
        let recs = read_all(dir.path()).unwrap();
        assert_eq!(recs.len(), 3);
        assert_eq!(recs[0], Record::Series(vec![(1, labels())]));
        match &recs[1] {
            Record::Samples(s) => {
                assert_eq!((s[0].0, s[0].1, s[0].2), (1, 1000, 1.5));
                assert_eq!(s[1].1, 2000);
                assert!(s[1].2.is_nan());
            }
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(recs[2], Record::Sealed(vec![(1, 2000)]));
    }

    #[test]
    fn torn_tail_is_cut_off_and_earlier_damage_is_quarantined() {
        let dir = tempfile::tempdir().unwrap();
        write_some(dir.path());
        let seg = segment_path(dir.path(), 1);
        let full = fs::read(&seg).unwrap();
        // A torn write: the last record loses its final bytes.
        fs::write(&seg, &full[..full.len() - 3]).unwrap();
        assert_eq!(read_all(dir.path()).unwrap().len(), 2);
        assert!(
            fs::read(&seg).unwrap().len() < full.len() - 3,
            "tail was truncated"
        );

        // The same damage in a segment that is not the newest: what precedes it is replayed,
        // the segment and the later ones are moved to quarantine, byte for byte.
        let mut bad = full.clone();
        bad[HEADER_LEN + 9] ^= 0xff;
        fs::write(&seg, &bad).unwrap();
        Wal::open(dir.path(), 1 << 20, FsyncPolicy::Never).unwrap();
        assert_eq!(segments(dir.path()).unwrap(), [1, 2]);
        assert!(
            read_all(dir.path()).unwrap().is_empty(),
            "the damage is in the first record"
        );
        assert!(segments(dir.path()).unwrap().is_empty());
        let quarantined: Vec<_> = fs::read_dir(dir.path().join("quarantine"))
            .unwrap()
            .flat_map(|e| fs::read_dir(e.unwrap().path()).unwrap())
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(quarantined.len(), 2, "{quarantined:?}");
        let kept = quarantined
            .iter()
            .find(|p| p.ends_with("00000001"))
            .unwrap();
        assert_eq!(fs::read(kept).unwrap(), bad);
    }

    #[test]
    fn decoding_garbage_never_panics() {
        use proptest::prelude::*;
        proptest!(|(bytes in proptest::collection::vec(any::<u8>(), 0..200))| {
            let _ = decode(&bytes);
        });
    }

    #[test]
    fn rotates_and_truncates_segments() {
        let dir = tempfile::tempdir().unwrap();
        let mut wal = Wal::open(dir.path(), 4096, FsyncPolicy::Always).unwrap();
        let mut p = Vec::new();
        encode_samples(vec![(1, 5, 1.0); 200].into_iter(), &mut p);
        for _ in 0..5 {
            wal.log(&p).unwrap();
        }
        assert!(wal.segment() > 2);
        truncate_before(dir.path(), wal.segment()).unwrap();
        assert_eq!(segments(dir.path()).unwrap(), vec![wal.segment()]);
        // Another truncation that got there first is not an error.
        assert_eq!(truncate_before(dir.path(), wal.segment()).unwrap(), 0);
    }
}

#[cfg(test)]
mod failure_tests {
    use super::*;

    fn count_records(dir: &Path) -> usize {
        let mut n = 0;
        replay(dir, |_, _| {
            n += 1;
            Ok(())
        })
        .unwrap();
        n
    }

    #[test]
    fn a_write_that_cannot_be_undone_stops_the_log() {
        let dir = tempfile::tempdir().unwrap();
        let mut wal = Wal::open(dir.path(), 1 << 20, FsyncPolicy::Never).unwrap();
        wal.log(b"\x03\x00").unwrap();
        // A read-only handle: the write fails and so does the undo.
        wal.file = File::open(segment_path(dir.path(), wal.segment())).unwrap();
        assert!(wal.log(b"\x03\x00").is_err());
        let err = wal.log(b"\x03\x00").unwrap_err().to_string();
        assert!(err.contains("could not be undone"), "{err}");
        // What was logged before the failure replays.
        assert_eq!(count_records(dir.path()), 1);
    }

    #[test]
    fn a_segment_without_header_is_removed_not_fatal() {
        let dir = tempfile::tempdir().unwrap();
        {
            let mut wal = Wal::open(dir.path(), 1 << 20, FsyncPolicy::Never).unwrap();
            wal.log(b"\x03\x00").unwrap();
        }
        std::fs::write(segment_path(dir.path(), 2), b"PW").unwrap();
        Wal::open(dir.path(), 1 << 20, FsyncPolicy::Never).unwrap();
        assert_eq!(count_records(dir.path()), 1);
        assert!(!segment_path(dir.path(), 2).exists());
    }
}
