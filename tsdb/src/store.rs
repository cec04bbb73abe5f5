//! The persistent part of the database: series, the inverted index and sealed chunks in fjall.
//!
//! Keyspaces (layouts in `FORMAT.md`):
//! * `series`: series id -> encoded labels
//! * `hashes`: hash of encoded labels ++ series id -> empty (labels -> id lookup)
//! * `postings`: (name, value) ++ first series id -> the ids of one write's series with the pair
//! * `values`: `n` ++ name -> empty, and `v` ++ (name, value) -> empty
//! * `p<start ms>`: one per time partition, (series id, chunk mint) -> sealed chunk

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use fjall::config::{CompressionPolicy, FilterPolicy};
use fjall::{Database, Keyspace, KeyspaceCreateOptions, PersistMode};
use model::{Labels, Timestamp};
use parking_lot::RwLock;

use crate::codec::{self, Reader, SeriesId};
use crate::damage::{self, DamageLog, index_damage};
use crate::merge;

mod rebuild;
use crate::read_cache::{CachedChunk, CachedPart, ChunkCache, LabelsCache};
use crate::{Error, Result};

const PARTITION_PREFIX: &str = "p";
const MAX_T_KEY: &[u8] = b"max_t";

/// A sealed chunk ready to be written: the series, the chunk's first timestamp, the bytes.
pub(crate) type SealedChunk = (SeriesId, Timestamp, Arc<[u8]>);

/// Index entries of new series, see [`Store::series_entries`].
#[derive(Default)]
pub(crate) struct SeriesEntries {
    series: Vec<(Vec<u8>, Vec<u8>)>,
    hash_keys: Vec<Vec<u8>>,
    /// One entry per label pair: key (pair ++ smallest id), value (the ids, see `codec`).
    postings: Vec<(Vec<u8>, Vec<u8>)>,
    values: HashSet<Box<[u8]>>,
    hashes: Vec<u64>,
}

/// Groups chunks by the partition their first timestamp falls in, oldest partition first.
fn by_partition(
    chunks: &[SealedChunk],
    partition_of: &impl Fn(Timestamp) -> Timestamp,
) -> BTreeMap<Timestamp, Vec<SealedChunk>> {
    let mut out: BTreeMap<Timestamp, Vec<SealedChunk>> = BTreeMap::new();
    for c in chunks {
        out.entry(partition_of(c.1)).or_default().push(c.clone());
    }
    out
}

/// Writes sorted, unique keys into a keyspace as new table files.
fn ingest<'a>(ks: &Keyspace, entries: impl Iterator<Item = (&'a [u8], &'a [u8])>) -> Result<()> {
    let mut entries = entries.peekable();
    if entries.peek().is_none() {
        return Ok(());
    }
    let mut ingestion = ks.start_ingestion()?;
    for (k, v) in entries {
        ingestion.write(k, v)?;
    }
    ingestion.finish()?;
    Ok(())
}

/// Opens fjall's database at `path`; when that fails, sets the keyspaces with damaged files
/// aside and opens without them, recording what was set aside in `damage`.
fn open_database(path: &Path, cache_bytes: u64, damage: &DamageLog) -> Result<Database> {
    let open_db = || Database::builder(path).cache_size(cache_bytes).open();
    match open_db() {
        Ok(db) => Ok(db),
        Err(first) => {
            let (db, set_aside) = damage::open_without_damaged(path, open_db, first)?;
            for m in &set_aside {
                let msg = damage::set_aside_message(m);
                tracing::error!("storage: {msg}");
                damage.add_set_aside(msg);
            }
            Ok(db)
        }
    }
}

pub(crate) struct Store {
    db: Database,
    path: PathBuf,
    series: Keyspace,
    hashes: Keyspace,
    postings: Keyspace,
    values: Keyspace,
    /// `max_t` -> the newest sample timestamp ever written to a chunk (i64 BE).
    meta: Keyspace,
    partitions: RwLock<BTreeMap<Timestamp, Keyspace>>,
    /// Label-set hashes of every stored series: a lookup of a new series (the common case)
    /// answers from memory without touching the `hashes` keyspace. 8 bytes per series.
    known_hashes: RwLock<HashSet<u64>>,
    /// Keys already in the `values` keyspace, so each is written once.
    known_values: RwLock<HashSet<Box<[u8]>>>,
    /// Recently read chunks per series and partition.
    chunk_cache: ChunkCache,
    /// Recently read label sets.
    labels_cache: LabelsCache,
    /// Damaged files found at open or by reads.
    pub(crate) damage: DamageLog,
}

/// How many label sets the labels cache holds at most.
const LABELS_CACHE_ENTRIES: usize = 1 << 17;

fn index_options() -> KeyspaceCreateOptions {
    KeyspaceCreateOptions::default().max_memtable_size(8 << 20)
}

fn chunk_options() -> KeyspaceCreateOptions {
    // Chunks are compressed already: block compression would only cost CPU. Reads are range
    // scans, so point-read filters are dead weight.
    KeyspaceCreateOptions::default()
        .max_memtable_size(16 << 20)
        .data_block_compression_policy(CompressionPolicy::disabled())
        .filter_policy(FilterPolicy::disabled())
}

impl Store {
    /// Opens the store at `path`. Damaged files are handled as `damage.rs` describes: a
    /// partition that cannot be opened is set aside, an index keyspace derived from `series`
    /// (hashes, postings, values, meta) that is damaged or set aside is rebuilt.
    ///
    /// # Errors
    /// Store errors, and [`Error::DamagedFile`] when the `series` keyspace is damaged.
    pub(crate) fn open(path: &Path, cache_bytes: u64, read_cache_bytes: u64) -> Result<Self> {
        let damage = DamageLog::default();
        let db = open_database(path, cache_bytes, &damage)?;
        let existed: HashSet<String> = db
            .list_keyspace_names()
            .iter()
            .map(|n| n.to_string())
            .collect();
        let had_data = existed.contains("series");
        let open = |name: &str, opts: fn() -> KeyspaceCreateOptions| {
            db.keyspace(name, opts).map_err(|source| Error::Keyspace {
                keyspace: name.to_string(),
                path: path.to_owned(),
                source,
            })
        };
        let series = open("series", index_options)?;
        if had_data {
            damage::check_series(&series)?;
        }
        let mut rebuild = Vec::new();
        let mut derived = |name: &'static str| -> Result<Keyspace> {
            let ks = open(name, index_options)?;
            if !had_data {
                return Ok(ks);
            }
            match damage::derived_keyspace(&db, ks, existed.contains(name))? {
                Some(ks) => Ok(ks),
                None => {
                    rebuild.push(name);
                    open(name, index_options)
                }
            }
        };
        let hashes = derived("hashes")?;
        let postings = derived("postings")?;
        let values = derived("values")?;
        let meta = derived("meta")?;
        let mut partitions = BTreeMap::new();
        for name in db.list_keyspace_names() {
            let name: &str = &name;
            let Some(start) = name.strip_prefix(PARTITION_PREFIX) else {
                continue;
            };
            let Ok(start) = start.parse::<Timestamp>() else {
                continue;
            };
            partitions.insert(start, open(name, chunk_options)?);
        }
        let store = Self {
            db,
            path: path.to_owned(),
            series,
            hashes,
            postings,
            values,
            meta,
            partitions: RwLock::new(partitions),
            known_hashes: RwLock::new(HashSet::new()),
            known_values: RwLock::new(HashSet::new()),
            chunk_cache: ChunkCache::new(usize::try_from(read_cache_bytes).unwrap_or(usize::MAX)),
            labels_cache: LabelsCache::new(LABELS_CACHE_ENTRIES),
            damage,
        };
        store.rebuild_index(&rebuild)?;
        store.load_known_hashes()?;
        Ok(store)
    }

    /// Fills the in-memory set of stored label hashes from the `hashes` keyspace.
    fn load_known_hashes(&self) -> Result<()> {
        let mut known = self.known_hashes.write();
        for kv in self.hashes.iter() {
            let k = kv
                .key()
                .map_err(|e| index_damage(&self.hashes, "hashes", e))?;
            if let Some(h) = k.get(..8).and_then(|b| <[u8; 8]>::try_from(b).ok()) {
                known.insert(u64::from_be_bytes(h));
            }
        }
        Ok(())
    }

    /// The id after the highest id stored.
    pub(crate) fn next_series_id(&self) -> Result<SeriesId> {
        match self.series.last_key_value() {
            None => Ok(1),
            Some(kv) => {
                let k = kv
                    .key()
                    .map_err(|e| index_damage(&self.series, "series", e))?;
                let id: [u8; 8] = (*k).try_into().map_err(|_| self.corrupt("series key", 0))?;
                Ok(u64::from_be_bytes(id) + 1)
            }
        }
    }

    fn corrupt(&self, what: &'static str, offset: usize) -> Error {
        Error::Corrupt {
            what,
            path: self.path.clone(),
            offset: offset as u64,
            reason: "malformed entry".into(),
        }
    }

    /// The id of a series with exactly these labels, if one was ever stored.
    pub(crate) fn lookup(&self, labels: &Labels) -> Result<Option<SeriesId>> {
        let mut enc = Vec::new();
        codec::encode_labels(labels, &mut enc);
        let hash = codec::labels_hash(&enc);
        if !self.known_hashes.read().contains(&hash) {
            return Ok(None);
        }
        for kv in self.hashes.prefix(hash.to_be_bytes()) {
            let k = kv.key()?;
            let id = codec::id_from_key_tail(&k).ok_or_else(|| self.corrupt("hash key", 0))?;
            if self.labels(id)?.as_ref() == Some(labels) {
                return Ok(Some(id));
            }
        }
        Ok(None)
    }

    /// The labels of series `id`.
    pub(crate) fn labels(&self, id: SeriesId) -> Result<Option<Labels>> {
        if let Some(l) = self.labels_cache.get(id) {
            return Ok(Some(l));
        }
        let Some(v) = self.series.get(id.to_be_bytes())? else {
            return Ok(None);
        };
        let labels = codec::decode_labels(&mut Reader::new(&v))
            .map_err(|off| self.corrupt("series entry", off))?;
        self.labels_cache.insert(id, &labels);
        Ok(Some(labels))
    }

    /// The index entries of new series: (keyspace, key, value) for `series`, `hashes`,
    /// `postings` and the `values` keys not written before. Also returns the label hashes and
    /// the new value keys, to be remembered once the entries are written.
    pub(crate) fn series_entries(&self, series: &[(SeriesId, Labels)]) -> SeriesEntries {
        let mut e = SeriesEntries::default();
        let known_values = self.known_values.read();
        let mut by_pair: BTreeMap<Vec<u8>, Vec<SeriesId>> = BTreeMap::new();
        for (id, labels) in series {
            let mut enc = Vec::new();
            codec::encode_labels(labels, &mut enc);
            let hash = codec::labels_hash(&enc);
            e.hashes.push(hash);
            let mut hk = hash.to_be_bytes().to_vec();
            hk.extend_from_slice(&id.to_be_bytes());
            e.hash_keys.push(hk);
            e.series.push((id.to_be_bytes().to_vec(), enc));
            for l in labels {
                by_pair
                    .entry(codec::pair_key(&l.name, &l.value))
                    .or_default()
                    .push(*id);
                let mut nk = vec![b'n'];
                nk.extend_from_slice(&codec::name_prefix(&l.name));
                let mut vk = vec![b'v'];
                vk.extend_from_slice(&codec::pair_key(&l.name, &l.value));
                for key in [nk, vk] {
                    if !known_values.contains(key.as_slice()) {
                        e.values.insert(key.into_boxed_slice());
                    }
                }
            }
        }
        for (pair, mut ids) in by_pair {
            ids.sort_unstable();
            ids.dedup();
            let first = ids.first().copied().unwrap_or(0);
            let mut key = pair;
            key.extend_from_slice(&first.to_be_bytes());
            e.postings.push((key, codec::encode_id_list(&ids)));
        }
        e
    }

    /// Stores new series with their index entries, in one atomic batch.
    pub(crate) fn add_series(&self, series: &[(SeriesId, Labels)]) -> Result<()> {
        if series.is_empty() {
            return Ok(());
        }
        let e = self.series_entries(series);
        let mut b = self.db.batch();
        for (k, v) in &e.series {
            b.insert(&self.series, k.as_slice(), v.as_slice());
        }
        for k in &e.hash_keys {
            b.insert(&self.hashes, k.as_slice(), []);
        }
        for (k, v) in &e.postings {
            b.insert(&self.postings, k.as_slice(), v.as_slice());
        }
        for k in &e.values {
            b.insert(&self.values, &**k, []);
        }
        b.commit()?;
        self.remember(e);
        Ok(())
    }

    /// Bulk-loads new series and their index entries as table files, bypassing the journal
    /// (for backfill). Not atomic: a crash may leave some entries, which is harmless because
    /// series without chunks select no samples and ids are never reused.
    pub(crate) fn ingest_series(&self, series: &[(SeriesId, Labels)]) -> Result<()> {
        if series.is_empty() {
            return Ok(());
        }
        let mut e = self.series_entries(series);
        e.series.sort();
        e.series.dedup_by(|a, b| a.0 == b.0);
        ingest(
            &self.series,
            e.series.iter().map(|(k, v)| (k.as_slice(), v.as_slice())),
        )?;
        e.hash_keys.sort();
        e.hash_keys.dedup();
        ingest(
            &self.hashes,
            e.hash_keys.iter().map(|k| (k.as_slice(), &[][..])),
        )?;
        // One entry per pair, built from a sorted map: already sorted and unique.
        ingest(
            &self.postings,
            e.postings.iter().map(|(k, v)| (k.as_slice(), v.as_slice())),
        )?;
        let mut values: Vec<&[u8]> = e.values.iter().map(|k| &**k).collect();
        values.sort_unstable();
        ingest(&self.values, values.into_iter().map(|k| (k, &[][..])))?;
        self.remember(e);
        Ok(())
    }

    pub(crate) fn remember(&self, e: SeriesEntries) {
        self.known_hashes.write().extend(e.hashes);
        self.known_values.write().extend(e.values);
    }

    /// Whether series `id` is stored.
    pub(crate) fn has_series(&self, id: SeriesId) -> Result<bool> {
        Ok(self.series.contains_key(id.to_be_bytes())?)
    }

    fn partition(&self, start: Timestamp) -> Result<Keyspace> {
        if let Some(ks) = self.partitions.read().get(&start) {
            return Ok(ks.clone());
        }
        let mut parts = self.partitions.write();
        if let Some(ks) = parts.get(&start) {
            return Ok(ks.clone());
        }
        let ks = self
            .db
            .keyspace(&format!("{PARTITION_PREFIX}{start}"), chunk_options)?;
        parts.insert(start, ks.clone());
        Ok(ks)
    }

    /// Writes sealed chunks, each into the partition starting at `partition_of(mint)`, in one
    /// atomic batch.
    pub(crate) fn write_chunks(
        &self,
        chunks: &[SealedChunk],
        partition_of: impl Fn(Timestamp) -> Timestamp,
    ) -> Result<()> {
        if chunks.is_empty() {
            return Ok(());
        }
        let mut b = self.db.batch();
        for (part, these) in by_partition(chunks, &partition_of) {
            let ks = self.partition(part)?;
            for (key, bytes) in merge::resolve_collisions(&ks, &these)? {
                b.insert(&ks, key, &*bytes);
            }
        }
        if let Some(max_t) = self.raised_max_t(chunks)? {
            b.insert(&self.meta, MAX_T_KEY, max_t.to_be_bytes());
        }
        b.commit()?;
        self.forget(chunks, &partition_of);
        Ok(())
    }

    /// Drops cached reads of the series and partitions `chunks` went to.
    fn forget(&self, chunks: &[SealedChunk], partition_of: &impl Fn(Timestamp) -> Timestamp) {
        for (id, mint, _) in chunks {
            self.chunk_cache.invalidate(partition_of(*mint), *id);
        }
    }

    /// The newest sample timestamp ever written to a chunk, if any chunk was.
    pub(crate) fn max_t(&self) -> Result<Option<Timestamp>> {
        let Some(v) = self.meta.get(MAX_T_KEY)? else {
            return Ok(None);
        };
        let b: [u8; 8] = (*v).try_into().map_err(|_| self.corrupt("meta max_t", 0))?;
        Ok(Some(i64::from_be_bytes(b)))
    }

    /// The new value of `max_t` if `chunks` hold a newer sample than recorded.
    fn raised_max_t(&self, chunks: &[SealedChunk]) -> Result<Option<Timestamp>> {
        let newest = chunks
            .iter()
            .filter_map(|c| chunkenc::sealed_meta(&c.2).ok().map(|m| m.maxt))
            .max();
        let known = self.max_t()?;
        Ok(newest.filter(|&n| known.is_none_or(|k| n > k)))
    }

    /// Bulk-loads chunks into their partitions as new table files, bypassing the journal
    /// (`fjall` ingestion). Chunks that share a key with each other or with a stored chunk are
    /// merged (see `merge.rs`).
    pub(crate) fn ingest_chunks(
        &self,
        chunks: &mut Vec<SealedChunk>,
        partition_of: impl Fn(Timestamp) -> Timestamp,
    ) -> Result<()> {
        for (part, these) in by_partition(chunks, &partition_of) {
            let ks = self.partition(part)?;
            let entries = merge::resolve_collisions(&ks, &these)?;
            ingest(&ks, entries.iter().map(|(k, v)| (&k[..], &v[..])))?;
        }
        if let Some(max_t) = self.raised_max_t(chunks)? {
            self.meta.insert(MAX_T_KEY, max_t.to_be_bytes())?;
        }
        self.forget(chunks, &partition_of);
        chunks.clear();
        Ok(())
    }

    /// The stored chunks of series `id` in every partition that may hold samples in
    /// `[mint, maxt]`, in time order, from the read cache when there. A partition whose
    /// table fails a checksum contributes the chunks before the damage, and the warning
    /// naming the damaged file is pushed to `damaged`.
    pub(crate) fn series_parts(
        &self,
        id: SeriesId,
        mint: Timestamp,
        maxt: Timestamp,
        partition_ms: i64,
        damaged: &mut Vec<String>,
    ) -> Result<Vec<Arc<CachedPart>>> {
        let parts: Vec<(Timestamp, Keyspace)> = self
            .partitions
            .read()
            .range(..=maxt)
            .filter(|(start, _)| start.saturating_add(partition_ms) > mint)
            .map(|(s, ks)| (*s, ks.clone()))
            .collect();
        let mut out = Vec::with_capacity(parts.len());
        for (start, ks) in parts {
            if let Some(p) = self.chunk_cache.get(start, id) {
                out.push(p);
                continue;
            }
            let seen = self.chunk_cache.generation();
            let mut chunks = Vec::new();
            let mut whole = true;
            for kv in ks.range(codec::chunk_key(id, i64::MIN)..=codec::chunk_key(id, i64::MAX)) {
                let (k, v) = match kv.into_inner() {
                    Ok(kv) => kv,
                    Err(e) => {
                        let what = format!("the partition from {start} ms (Unix)");
                        damaged.push(self.damage.note(ks.path(), &what, &e));
                        whole = false;
                        break;
                    }
                };
                let (_, cmint) =
                    codec::parse_chunk_key(&k).ok_or_else(|| self.corrupt("chunk key", 0))?;
                chunks.push(CachedChunk::new(cmint, v));
            }
            let p = Arc::new(CachedPart::new(chunks));
            if whole {
                self.chunk_cache.insert(start, id, p.clone(), seen);
            }
            out.push(p);
        }
        Ok(out)
    }

    /// The samples of `chunk`, a chunk of `part`, decoded once and then cached.
    ///
    /// # Errors
    /// Whatever `decode` returns.
    pub(crate) fn chunk_samples<E>(
        &self,
        part: &CachedPart,
        chunk: &CachedChunk,
        decode: impl FnOnce(&[u8]) -> std::result::Result<Vec<model::Sample>, E>,
    ) -> std::result::Result<Arc<[model::Sample]>, E> {
        self.chunk_cache.samples(part, chunk, decode)
    }

    /// The chunk of series `id` with the latest start, searching partitions newest first.
    pub(crate) fn last_chunk(&self, id: SeriesId) -> Result<Option<(Timestamp, fjall::Slice)>> {
        let parts: Vec<Keyspace> = self.partitions.read().values().rev().cloned().collect();
        for ks in parts {
            let range = codec::chunk_key(id, i64::MIN)..=codec::chunk_key(id, i64::MAX);
            if let Some(kv) = ks.range(range).next_back() {
                let (k, v) = kv.into_inner()?;
                let (_, mint) =
                    codec::parse_chunk_key(&k).ok_or_else(|| self.corrupt("chunk key", 0))?;
                return Ok(Some((mint, v)));
            }
        }
        Ok(None)
    }

    /// Sorted ids of the series carrying `name="value"`.
    pub(crate) fn postings(&self, name: &str, value: &str) -> Result<Vec<SeriesId>> {
        let mut ids = Vec::new();
        for kv in self.postings.prefix(codec::pair_key(name, value)) {
            let v = kv.value()?;
            codec::decode_id_list(&v, &mut ids)
                .map_err(|off| self.corrupt("postings list", off))?;
        }
        // Lists of different writes may interleave (a series restored by recovery).
        ids.sort_unstable();
        ids.dedup();
        Ok(ids)
    }

    /// Every series id, sorted.
    pub(crate) fn all_ids(&self) -> Result<Vec<SeriesId>> {
        let mut ids = Vec::new();
        for kv in self.series.iter() {
            let k = kv.key()?;
            let id: [u8; 8] = (*k).try_into().map_err(|_| self.corrupt("series key", 0))?;
            ids.push(u64::from_be_bytes(id));
        }
        Ok(ids)
    }

    /// Every label name ever stored, in no particular order.
    pub(crate) fn names(&self) -> Result<Vec<String>> {
        let mut out = Vec::new();
        for kv in self.values.prefix(b"n") {
            let k = kv.key()?;
            let mut r = Reader::new(k.get(1..).unwrap_or_default());
            out.push(
                r.str()
                    .map_err(|o| self.corrupt("label name", o))?
                    .to_string(),
            );
        }
        Ok(out)
    }

    /// Every value label `name` ever had, in no particular order.
    pub(crate) fn values(&self, name: &str) -> Result<Vec<String>> {
        let mut prefix = vec![b'v'];
        prefix.extend_from_slice(&codec::name_prefix(name));
        let mut out = Vec::new();
        for kv in self.values.prefix(prefix) {
            let k = kv.key()?;
            let (_, value) = codec::parse_pair_key(k.get(1..).unwrap_or_default())
                .ok_or_else(|| self.corrupt("label value", 0))?;
            out.push(value.to_string());
        }
        Ok(out)
    }

    /// (name, directory) of every keyspace: index keyspaces, then partitions oldest first.
    pub(crate) fn keyspace_dirs(&self) -> Vec<(String, PathBuf)> {
        let index = [
            &self.series,
            &self.hashes,
            &self.postings,
            &self.values,
            &self.meta,
        ];
        let mut out: Vec<(String, PathBuf)> = index
            .iter()
            .map(|ks| (ks.name().to_string(), ks.path().to_owned()))
            .collect();
        for (start, ks) in self.partitions.read().iter() {
            out.push((format!("{PARTITION_PREFIX}{start}"), ks.path().to_owned()));
        }
        out
    }

    /// The start times of the partitions, ascending.
    pub(crate) fn partition_starts(&self) -> Vec<Timestamp> {
        self.partitions.read().keys().copied().collect()
    }

    /// Every chunk of one partition as (series id, mint, bytes).
    pub(crate) fn partition_chunks(
        &self,
        start: Timestamp,
    ) -> Result<Vec<(SeriesId, Timestamp, fjall::Slice)>> {
        let Some(ks) = self.partitions.read().get(&start).cloned() else {
            return Ok(vec![]);
        };
        let mut out = Vec::new();
        for kv in ks.iter() {
            let (k, v) = kv.into_inner()?;
            let (id, mint) =
                codec::parse_chunk_key(&k).ok_or_else(|| self.corrupt("chunk key", 0))?;
            out.push((id, mint, v));
        }
        Ok(out)
    }

    /// Drops every partition that ends at or before `cutoff`; returns how many were dropped.
    /// Their files are deleted once no reader holds them.
    pub(crate) fn drop_partitions_before(
        &self,
        cutoff: Timestamp,
        partition_ms: i64,
    ) -> Result<usize> {
        let doomed: Vec<(Timestamp, Keyspace)> = {
            let mut parts = self.partitions.write();
            let starts: Vec<Timestamp> = parts
                .keys()
                .copied()
                .filter(|s| s.saturating_add(partition_ms) <= cutoff)
                .collect();
            starts
                .iter()
                .filter_map(|s| parts.remove(s).map(|ks| (*s, ks)))
                .collect()
        };
        let n = doomed.len();
        for (start, ks) in doomed {
            tracing::info!(partition = start, "retention: dropping partition");
            self.db.delete_keyspace(ks)?;
            self.chunk_cache.invalidate_partition(start);
        }
        Ok(n)
    }

    /// Forces the key-value store's journal to disk.
    pub(crate) fn persist(&self, sync: bool) -> Result<()> {
        let mode = if sync {
            PersistMode::SyncAll
        } else {
            PersistMode::Buffer
        };
        self.db.persist(mode)?;
        Ok(())
    }

    /// Writes every memtable out as a table file and waits, so the journal can be freed.
    pub(crate) fn flush(&self) -> Result<()> {
        let mut all = vec![
            self.series.clone(),
            self.hashes.clone(),
            self.postings.clone(),
            self.values.clone(),
            self.meta.clone(),
        ];
        all.extend(self.partitions.read().values().cloned());
        for ks in all {
            ks.rotate_memtable_and_wait()?;
        }
        Ok(())
    }
}
