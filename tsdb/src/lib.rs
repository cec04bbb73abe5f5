//! promlet's storage engine.
//!
//! Samples enter through [`model::Appender`]: a commit is written to the write-ahead log
//! ([`wal`]) with one `write`, then appended to the series' open chunk in the head, a streaming
//! Gorilla/XOR chunk. A full chunk (240 samples by default, or one that would cross a time
//! partition) is re-encoded in the compact sealed format of the `chunkenc` crate and stored in
//! fjall, in the keyspace of its time partition; retention drops whole partitions. Series and
//! their inverted index (postings) live in fjall too, so every series ever written stays
//! findable. Reads go through [`model::Querier`], merging the store with the head.
//!
//! `FORMAT.md` documents the on-disk layout.
#![deny(missing_docs)]

mod appender;
mod backfill;
mod codec;
mod damage;
mod db;
mod error;
mod head;
mod head_chunk;
mod index;
mod inspect;
mod late;
mod merge;
mod options;
mod querier;
mod read_cache;
mod store;
mod verify;
mod wal;

pub use appender::{DbAppender, check_storable};
pub use backfill::BackfillStats;
pub use db::{Db, FORMAT_VERSION, Stats, dir_disk_bytes};
pub use error::{Error, Result};
pub use inspect::{Census, PartitionCensus};
pub use options::{FsyncPolicy, Options, wall_clock_ms};
pub use querier::DbQuerier;
pub use verify::{DamagedFile, damaged_files};
