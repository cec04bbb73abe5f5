//! Command-line arguments, parsed by clap and checked into the values the commands use.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::duration::Duration;

/// promlet: metrics collection, storage, PromQL and the Kubernetes metrics APIs in one binary.
#[derive(Debug, Parser)]
#[command(name = "promlet", version, about)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run the server: store, serve /metrics and health endpoints (the default command).
    Serve(ServeArgs),
    /// Backfill an OpenMetrics text file into a data directory, as `promtool tsdb
    /// create-blocks-from openmetrics` does.
    Import(ImportArgs),
    /// Print what a data directory holds: series, samples, chunks, bytes on disk.
    Inspect(InspectArgs),
    /// Print stored samples, optionally only those of series matching a selector.
    Dump(DumpArgs),
}

/// Storage flags shared by the commands that open a data directory.
#[derive(Debug, Clone, Args)]
pub(crate) struct StorageArgs {
    /// The data directory.
    #[arg(long, default_value = "./data")]
    pub(crate) data: PathBuf,
    /// How long to keep samples, counted back from the newest one (e.g. 15d, 12h; 0 keeps all).
    #[arg(long, default_value = "15d")]
    pub(crate) retention: Duration,
    /// When the write-ahead log is synced: `never` survives a crash but not a power loss,
    /// `always` fdatasyncs every commit.
    #[arg(long = "wal-fsync", default_value = "never")]
    pub(crate) wal_fsync: tsdb::FsyncPolicy,
    /// Length of a storage partition, the unit retention drops.
    #[arg(long, default_value = "1d", hide = true)]
    pub(crate) partition: Duration,
}

impl StorageArgs {
    pub(crate) fn options(&self) -> tsdb::Options {
        tsdb::Options {
            retention_ms: self.retention.as_millis(),
            partition_ms: self.partition.as_millis(),
            fsync: self.wal_fsync,
            ..tsdb::Options::default()
        }
    }
}

impl Default for StorageArgs {
    fn default() -> Self {
        Self {
            data: PathBuf::from("./data"),
            retention: Duration::from_millis(15 * 24 * 3600 * 1000),
            wal_fsync: tsdb::FsyncPolicy::Never,
            partition: Duration::from_millis(24 * 3600 * 1000),
        }
    }
}

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    #[command(flatten)]
    pub(crate) storage: StorageArgs,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:9090")]
    pub(crate) listen: SocketAddr,
}

impl Default for ServeArgs {
    fn default() -> Self {
        Self {
            storage: StorageArgs::default(),
            listen: SocketAddr::from(([127, 0, 0, 1], 9090)),
        }
    }
}

#[derive(Debug, Args)]
pub(crate) struct ImportArgs {
    /// The OpenMetrics text file (ending with `# EOF`; every sample with a timestamp).
    pub(crate) file: PathBuf,
    #[command(flatten)]
    pub(crate) storage: StorageArgs,
}

#[derive(Debug, Args)]
pub(crate) struct InspectArgs {
    #[command(flatten)]
    pub(crate) storage: StorageArgs,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum DumpFormat {
    /// `{labels} value timestamp_ms`, as `promtool tsdb dump` prints.
    Promtool,
    /// OpenMetrics text that `promlet import` and promtool read back.
    Openmetrics,
}

#[derive(Debug, Args)]
pub(crate) struct DumpArgs {
    #[command(flatten)]
    pub(crate) storage: StorageArgs,
    /// Only series matching this selector, e.g. `up{job="node"}`.
    #[arg(long = "match")]
    pub(crate) selector: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "promtool")]
    pub(crate) format: DumpFormat,
}
