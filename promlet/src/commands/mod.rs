//! One module per subcommand; each wires the library crates together for one mode.

mod agent;
mod autoscale;
mod dump;
mod graph;
mod import;
mod inspect;
mod local;
mod promqltest;
mod query;
mod query_output;
mod serve;
mod serve_secure;
mod top;
mod top_table;

use anyhow::{Context, Result};

use crate::args::{Cli, Command, ServeArgs, StorageArgs};

/// Runs the command line; no subcommand means `serve` with its defaults.
pub(crate) fn run(cli: Cli) -> Result<()> {
    match cli.command {
        None => serve::run(ServeArgs::default()),
        Some(Command::Serve(a)) => serve::run(*a),
        Some(Command::Agent(a)) => agent::run(a),
        Some(Command::Import(a)) => import::run(a),
        Some(Command::Inspect(a)) => inspect::run(a),
        Some(Command::Dump(a)) => dump::run(a),
        Some(Command::Query(a)) => query::run_instant(a),
        Some(Command::QueryRange(a)) => query::run_range(a),
        Some(Command::Promqltest(a)) => promqltest::run(a),
        Some(Command::Top(a)) => top::run(a),
        Some(Command::Autoscale(a)) => autoscale::run(a),
        Some(Command::Graph(a)) => graph::run(&a),
    }
}

/// `GET base+path?params` from a promlet or Prometheus server: the URL asked, the status and
/// the body. Non-2xx statuses are returned, not errors, so callers can read error bodies.
///
/// # Errors
/// Connection failures and unreadable bodies, naming the URL.
pub(crate) fn http_get(
    base: &str,
    path: &str,
    params: &[(&str, String)],
) -> Result<(String, ureq::http::StatusCode, String)> {
    use anyhow::Context as _;
    let url = format!("{}{path}", base.trim_end_matches('/'));
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(std::time::Duration::from_secs(600)))
        .build()
        .new_agent();
    let mut resp = agent
        .get(&url)
        .query_pairs(params.iter().map(|(k, v)| (*k, v.as_str())))
        .call()
        .with_context(|| format!("asking {url}"))?;
    let status = resp.status();
    let body = resp
        .body_mut()
        .with_config()
        .limit(u64::MAX)
        .read_to_string()
        .with_context(|| format!("reading the answer of {url}"))?;
    Ok((url, status, body))
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
