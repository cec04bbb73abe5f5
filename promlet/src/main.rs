//! `promlet`: one binary for collecting, storing, querying and serving metrics.

mod args;
mod commands;
mod duration;
mod selector;
mod telemetry;

use std::process::ExitCode;

use clap::Parser;

/// mimalloc: measurably faster than glibc malloc on the append path (series creation).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    init_tracing();
    raise_open_file_limit();
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) if e.is::<commands::SilentFailure>() => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("promlet: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Raises the soft open-file limit to the hard one, as Go programs (Prometheus,
/// node_exporter) do at start: the scrape pool's sockets and the cgroup files kept open
/// between collections need more than the usual soft limit of 1024. Failure changes nothing.
fn raise_open_file_limit() {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let mut limit = getrlimit(Resource::Nofile);
    if limit.current < limit.maximum {
        limit.current = limit.maximum;
        let _ = setrlimit(Resource::Nofile, limit);
    }
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("PROMLET_LOG").unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(
            "info,fjall=warn,lsm_tree=warn,rustls_platform_verifier=off",
        )
    });
    use std::io::IsTerminal;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .init();
}

/// `promlet dump | head` is not an error.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
