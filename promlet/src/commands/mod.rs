//! One module per subcommand; each wires the library crates together for one mode.

mod agent;
mod dump;
mod import;
mod inspect;
mod local;
mod promqltest;
mod query;
mod query_output;
mod serve;
mod top;
mod top_table;

use anyhow::{Context, Result};

use crate::args::{Cli, Command, ServeArgs, StorageArgs};

/// Runs the command line; no subcommand means `serve` with its defaults.
pub(crate) fn run(cli: Cli) -> Result<()> {
    match cli.command {
        None => serve::run(ServeArgs::default()),
        Some(Command::Serve(a)) => serve::run(a),
        Some(Command::Agent(a)) => agent::run(a),
        Some(Command::Import(a)) => import::run(a),
        Some(Command::Inspect(a)) => inspect::run(a),
        Some(Command::Dump(a)) => dump::run(a),
        Some(Command::Query(a)) => query::run_instant(a),
        Some(Command::QueryRange(a)) => query::run_range(a),
        Some(Command::Promqltest(a)) => promqltest::run(a),
        Some(Command::Top(a)) => top::run(a),
    }
}

/// A failure already reported on stdout or stderr: the binary exits 1 without a message.
#[derive(Debug)]
pub(crate) struct SilentFailure;

impl std::fmt::Display for SilentFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("failed")
    }
}

impl std::error::Error for SilentFailure {}

/// Opens the data directory the flags name.
pub(crate) fn open_db(storage: &StorageArgs) -> Result<tsdb::Db> {
    tsdb::Db::open(&storage.data, storage.options())
        .with_context(|| format!("opening data directory {}", storage.data.display()))
}
