//! The tsdb error type.

use std::path::PathBuf;

/// An error of the storage engine. Messages name the file or key and the byte offset involved.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file-system operation failed.
    #[error("{op} {path}: {source}")]
    Io {
        /// What was being done ("open", "write", ...).
        op: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The key-value store failed.
    #[error("fjall: {0}")]
    Fjall(#[from] fjall::Error),
    /// A keyspace of the key-value store could not be opened or read (a damaged table file
    /// fails its checksum here).
    #[error("keyspace {keyspace:?} of {path}: {source}")]
    Keyspace {
        /// The keyspace's name (`series`, `postings`, `partition-...`).
        keyspace: String,
        /// The key-value store's directory.
        path: PathBuf,
        /// What failed.
        source: fjall::Error,
    },
    /// Files of the key-value store fail their checksums and the store cannot be opened
    /// without them.
    #[error("damaged data file {files}: {why}")]
    DamagedFile {
        /// The files and what is wrong with each.
        files: String,
        /// Why the store cannot do without them.
        why: String,
    },
    /// The directory holds data of another on-disk format version.
    #[error(
        "{path} holds tsdb format version {found}, this promlet reads version {expected}; \
         use a promlet release that matches the data, or a new --data directory"
    )]
    VersionMismatch {
        /// The version file.
        path: PathBuf,
        /// The version found.
        found: String,
        /// The version this build writes.
        expected: u32,
    },
    /// A file or value is damaged.
    #[error("corrupt {what} in {path} at byte {offset}: {reason}")]
    Corrupt {
        /// What kind of object ("wal record", "chunk", "series entry", ...).
        what: &'static str,
        /// The file (or keyspace) holding it.
        path: PathBuf,
        /// Byte offset inside that file or value.
        offset: u64,
        /// What is wrong.
        reason: String,
    },
    /// An option is out of range.
    #[error("invalid option {name}: {reason}")]
    InvalidOption {
        /// The option.
        name: &'static str,
        /// Why it is rejected.
        reason: String,
    },
    /// A sample-level rejection or a label error from the model.
    #[error(transparent)]
    Model(#[from] model::Error),
}

/// The tsdb result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            op,
            path: path.into(),
            source,
        }
    }
}

impl From<Error> for model::Error {
    fn from(e: Error) -> Self {
        match e {
            Error::Model(m) => m,
            other => model::Error::Storage(Box::new(other)),
        }
    }
}
