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
    /// Run the server: store, and serve Prometheus's query API, /metrics and health endpoints
    /// (the default command).
    Serve(Box<ServeArgs>),
    /// Run the node agent: read this node's procfs and cgroups and serve them on /metrics
    /// (node_exporter's and cAdvisor's names), as a DaemonSet does.
    Agent(AgentArgs),
    /// Backfill an OpenMetrics text file into a data directory, as `promtool tsdb
    /// create-blocks-from openmetrics` does.
    Import(ImportArgs),
    /// Print what a data directory holds: series, samples, chunks, bytes on disk.
    Inspect(InspectArgs),
    /// Print stored samples, optionally only those of series matching a selector.
    Dump(DumpArgs),
    /// Evaluate a PromQL expression at one time (against a server or a data directory).
    Query(QueryArgs),
    /// Evaluate a PromQL expression over a time range.
    #[command(name = "query-range")]
    QueryRange(QueryRangeArgs),
    /// Run Prometheus `.test` files (promqltest) against the PromQL engine.
    Promqltest(PromqltestArgs),
    /// Show node or pod CPU and memory, as `kubectl top` does, from a promlet server's
    /// resource metrics API; `--since` adds average, p95 and maximum over stored history.
    Top(TopArgs),
    /// HPA decisions, made as the Kubernetes HorizontalPodAutoscaler controller makes them.
    Autoscale(AutoscaleArgs),
    /// Draw a PromQL expression over a time range as a PNG or SVG image.
    Graph(GraphArgs),
}

/// Flags of `promlet graph`.
#[derive(Debug, Args)]
pub(crate) struct GraphArgs {
    /// The PromQL expression.
    pub(crate) expr: String,
    /// The image to write: `.png` or `.svg`.
    #[arg(short = 'o', long)]
    pub(crate) output: PathBuf,
    /// The start: RFC 3339, Unix seconds, or relative like `now-1h` or `-1h`.
    #[arg(long, default_value = "-1h", allow_hyphen_values = true)]
    pub(crate) start: String,
    /// The end (default now).
    #[arg(long, default_value = "now", allow_hyphen_values = true)]
    pub(crate) end: String,
    /// The resolution (default: the range over 250, at least 1s).
    #[arg(long)]
    pub(crate) step: Option<String>,
    /// Image width, pixels.
    #[arg(long, default_value_t = 800)]
    pub(crate) width: u32,
    /// Image height, pixels.
    #[arg(long, default_value_t = 400)]
    pub(crate) height: u32,
    /// The title (default: the expression).
    #[arg(long)]
    pub(crate) title: Option<String>,
    /// Ask this promlet or Prometheus server.
    #[arg(long, conflicts_with = "data")]
    pub(crate) server: Option<String>,
    /// Open this data directory (the default, with `./data`).
    #[arg(long)]
    pub(crate) data: Option<PathBuf>,
}

/// `promlet autoscale`.
#[derive(Debug, Args)]
pub(crate) struct AutoscaleArgs {
    #[command(subcommand)]
    pub(crate) command: AutoscaleCommand,
}

/// What `promlet autoscale` does.
#[derive(Debug, Subcommand)]
pub(crate) enum AutoscaleCommand {
    /// Make one decision from a state file (an autoscaling/v2 HorizontalPodAutoscaler, the
    /// scale, pods and metrics as `kubectl get -o json` prints them) and print it as JSON.
    Decide {
        /// The state file.
        #[arg(long)]
        input: PathBuf,
    },
    /// Decide every interval for the configured autoscalers from promlet's data; publish
    /// the decisions at /api/v1/autoscale and /metrics; with --apply, scale the targets.
    Run(AutoscaleRunArgs),
    /// Replay stored history through the algorithm: the replica timeline as a table (or
    /// JSON) and, with --output, as a graph image.
    Backtest(AutoscaleBacktestArgs),
}

/// Where `promlet autoscale run` and `backtest` read data.
#[derive(Debug, Clone, Args)]
pub(crate) struct AutoscaleSource {
    /// The autoscalers (see `promlet autoscale run --help` and the README).
    #[arg(long)]
    pub(crate) config: PathBuf,
    /// Ask this promlet server.
    #[arg(long, conflicts_with = "data")]
    pub(crate) server: Option<String>,
    /// Open this data directory (the default, with `./data`).
    #[arg(long)]
    pub(crate) data: Option<PathBuf>,
}

/// Flags of `promlet autoscale run`.
#[derive(Debug, Args)]
pub(crate) struct AutoscaleRunArgs {
    #[command(flatten)]
    pub(crate) source: AutoscaleSource,
    /// Where /api/v1/autoscale and /metrics are served.
    #[arg(long, default_value = "127.0.0.1:9096")]
    pub(crate) listen: SocketAddr,
    /// Set the targets' replicas through their scale subresource (needs a cluster
    /// configuration); the replicas and pods are then read from Kubernetes.
    #[arg(long)]
    pub(crate) apply: bool,
    /// Decide once, print the decisions as JSON and exit.
    #[arg(long)]
    pub(crate) once: bool,
}

/// Flags of `promlet autoscale backtest`.
#[derive(Debug, Args)]
pub(crate) struct AutoscaleBacktestArgs {
    #[command(flatten)]
    pub(crate) source: AutoscaleSource,
    /// How far back to start (ignored with --start).
    #[arg(long, default_value = "24h")]
    pub(crate) since: Duration,
    /// The start: RFC 3339 or Unix seconds.
    #[arg(long)]
    pub(crate) start: Option<String>,
    /// The end: RFC 3339 or Unix seconds (default now).
    #[arg(long)]
    pub(crate) end: Option<String>,
    /// Also draw the replica timeline into this image (`.png` or `.svg`).
    #[arg(short = 'o', long)]
    pub(crate) output: Option<PathBuf>,
    /// Print every step as JSON instead of the table of changes.
    #[arg(long)]
    pub(crate) json: bool,
}

/// What `promlet top` shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum TopWhat {
    /// Nodes (`kubectl top node`).
    #[value(alias = "node", alias = "no")]
    Nodes,
    /// Pods (`kubectl top pod`).
    #[value(alias = "pod", alias = "po")]
    Pods,
}

/// The sort keys of `promlet top`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum TopSort {
    /// Highest CPU first.
    Cpu,
    /// Highest memory first.
    Memory,
}

#[derive(Debug, Args)]
pub(crate) struct TopArgs {
    /// `nodes` or `pods`.
    #[arg(value_enum)]
    pub(crate) what: TopWhat,
    /// The promlet server.
    #[arg(long, default_value = "http://127.0.0.1:9090")]
    pub(crate) server: String,
    /// Pods of every namespace.
    #[arg(short = 'A', long = "all-namespaces")]
    pub(crate) all_namespaces: bool,
    /// Pods of this namespace.
    #[arg(short = 'n', long, default_value = "default")]
    pub(crate) namespace: String,
    /// One row per container.
    #[arg(long)]
    pub(crate) containers: bool,
    /// Sort by CPU or memory, highest first (by name otherwise).
    #[arg(long = "sort-by", value_enum)]
    pub(crate) sort_by: Option<TopSort>,
    /// A label selector, as `kubectl top -l`.
    #[arg(short = 'l', long)]
    pub(crate) selector: Option<String>,
    /// Average, p95 and maximum over this much history (e.g. `1h`), from usage evaluated at
    /// `--points` evenly spaced times, instead of the current usage.
    #[arg(long)]
    pub(crate) since: Option<String>,
    /// How many times `--since` evaluates usage at.
    #[arg(long, default_value_t = 30)]
    pub(crate) points: u32,
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

/// PromQL engine flags, with Prometheus's names and defaults.
#[derive(Debug, Clone, Args)]
pub(crate) struct EngineArgs {
    /// Maximum time a query may take before it is aborted.
    #[arg(long = "query.timeout", default_value = "2m")]
    pub(crate) timeout: Duration,
    /// Maximum number of samples a single query can load into memory at once; a query that
    /// needs more fails.
    #[arg(long = "query.max-samples", default_value_t = 50_000_000)]
    pub(crate) max_samples: usize,
    /// How far back an instant selector looks for a sample.
    #[arg(long = "query.lookback-delta", default_value = "5m")]
    pub(crate) lookback_delta: Duration,
}

impl EngineArgs {
    pub(crate) fn options(&self) -> query::EngineOptions {
        query::EngineOptions {
            lookback_delta_ms: self.lookback_delta.as_millis(),
            max_samples: self.max_samples,
            timeout: std::time::Duration::from_millis(
                u64::try_from(self.timeout.as_millis()).unwrap_or(0),
            ),
            ..query::EngineOptions::default()
        }
    }
}

impl Default for EngineArgs {
    fn default() -> Self {
        Self {
            timeout: Duration::from_millis(2 * 60 * 1000),
            max_samples: 50_000_000,
            lookback_delta: Duration::from_millis(5 * 60 * 1000),
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
    #[command(flatten)]
    pub(crate) engine: EngineArgs,
    /// A Prometheus configuration file (`global`, `scrape_configs`): the targets to scrape.
    #[arg(long = "config.file")]
    pub(crate) config_file: Option<PathBuf>,
    /// Collect this host (procfs and every cgroup) every `scrape_interval`, as
    /// `job="node", instance="<host name>"`; `--collect-host=false` stores only what is
    /// scraped, imported or received.
    #[arg(long = "collect-host", default_value_t = true, action = clap::ArgAction::Set)]
    pub(crate) collect_host: bool,
    #[command(flatten)]
    pub(crate) tls: TlsArgs,
    /// prometheus-adapter's rule file (`rules`, `externalRules`): serves
    /// custom.metrics.k8s.io and external.metrics.k8s.io from the stored series.
    #[arg(long = "adapter.config")]
    pub(crate) adapter_config: Option<PathBuf>,
    /// Autoscalers to decide for from the stored data (`promlet autoscale run`'s
    /// configuration); the decisions are served at /api/v1/autoscale.
    #[arg(long = "autoscale.config")]
    pub(crate) autoscale_config: Option<PathBuf>,
}

/// HTTPS and who may read the Kubernetes APIs (as an aggregated API server needs).
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct TlsArgs {
    /// Serve HTTPS with this PEM certificate chain (with `--tls-private-key-file`).
    #[arg(long = "tls-cert-file", requires = "tls_key")]
    pub(crate) tls_cert: Option<PathBuf>,
    /// The PEM private key of `--tls-cert-file`.
    #[arg(long = "tls-private-key-file", requires = "tls_cert")]
    pub(crate) tls_key: Option<PathBuf>,
    /// Serve HTTPS with a certificate made at start (for localhost, the host name and the
    /// in-cluster Service names).
    #[arg(long = "tls-self-signed", conflicts_with = "tls_cert")]
    pub(crate) self_signed: bool,
    /// The front-proxy CA (kube-apiserver's `--requestheader-client-ca-file`): requests to the
    /// Kubernetes APIs with a client certificate it signed and an `X-Remote-User` header are
    /// accepted. Needs HTTPS.
    #[arg(long = "requestheader-client-ca-file")]
    pub(crate) front_proxy_ca: Option<PathBuf>,
    /// Bearer tokens accepted for the Kubernetes APIs, one per line.
    #[arg(long = "authentication-token-file")]
    pub(crate) token_file: Option<PathBuf>,
    /// Serve HTTPS (with the authentication above) on this address as well, and keep
    /// `--listen` plain HTTP without it: the aggregation layer's port next to Prometheus's.
    #[arg(long = "secure-listen")]
    pub(crate) secure_listen: Option<SocketAddr>,
    /// Common names the front proxy's client certificate may have (comma-separated; empty:
    /// any the CA signed). Default: the cluster's `requestheader-allowed-names`.
    #[arg(long = "requestheader-allowed-names", value_delimiter = ',')]
    pub(crate) allowed_names: Vec<String>,
    /// Headers naming the user the front proxy acts for (comma-separated). Default: the
    /// cluster's, else `X-Remote-User`.
    #[arg(long = "requestheader-username-headers", value_delimiter = ',')]
    pub(crate) username_headers: Vec<String>,
    /// Headers naming that user's groups (comma-separated). Default: the cluster's, else
    /// `X-Remote-Group`.
    #[arg(long = "requestheader-group-headers", value_delimiter = ',')]
    pub(crate) group_headers: Vec<String>,
    /// TLS and basic or bearer authentication for every endpoint, in Prometheus's web
    /// configuration file format (`tls_server_config`, `basic_auth_users`; promlet adds
    /// `bearer_token_file`).
    #[arg(long = "web.config.file")]
    pub(crate) web_config: Option<PathBuf>,
    /// Never ask the Kubernetes API server about requests. By default, when serving HTTPS
    /// with a cluster configuration, promlet reads the front-proxy CA and headers from
    /// `kube-system/extension-apiserver-authentication` (unless
    /// `--requestheader-client-ca-file` is given), checks bearer tokens with `TokenReview`
    /// and every request with `SubjectAccessReview`, as metrics-server does.
    #[arg(long = "no-delegation")]
    pub(crate) no_delegation: bool,
}

/// Flags of `promlet agent`.
#[derive(Debug, Clone, Args)]
pub(crate) struct AgentArgs {
    /// Address to listen on.
    #[arg(long, default_value = "0.0.0.0:9101")]
    pub(crate) listen: SocketAddr,
    /// This node's name, whose pods name the cgroups (defaults to `NODE_NAME`, else the host
    /// name).
    #[arg(long = "node-name")]
    pub(crate) node_name: Option<String>,
    /// Where procfs is mounted (`/host/proc` in a DaemonSet).
    #[arg(long = "path.procfs", default_value = "/proc")]
    pub(crate) procfs: PathBuf,
    /// Where sysfs is mounted (`/host/sys` in a DaemonSet); cgroups are read below it.
    #[arg(long = "path.sysfs", default_value = "/sys")]
    pub(crate) sysfs: PathBuf,
    /// The root filesystem whose mounts the filesystem reader lists (`/host/root`).
    #[arg(long = "path.rootfs", default_value = "/")]
    pub(crate) rootfs: PathBuf,
    /// Cgroup files kept open between scrapes, so that each is read again with one system
    /// call; each costs about 4.4 KiB of kernel memory. Default: the smaller of 4096 and half
    /// the open-file limit; 0 opens and closes every file on every scrape.
    #[arg(long = "collector.cgroup.open-files")]
    pub(crate) cgroup_open_files: Option<usize>,
}

impl Default for ServeArgs {
    fn default() -> Self {
        Self {
            storage: StorageArgs::default(),
            listen: SocketAddr::from(([127, 0, 0, 1], 9090)),
            engine: EngineArgs::default(),
            config_file: None,
            collect_host: true,
            tls: TlsArgs::default(),
            adapter_config: None,
            autoscale_config: None,
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
    /// Check every file of the key-value store against the checksum its manifest recorded,
    /// without opening the store; print the damaged ones and exit with status 1 if any.
    #[arg(long, conflicts_with_all = ["json", "files"])]
    pub(crate) verify: bool,
    /// Print each keyspace of the key-value store (index keyspaces, then one `p<start ms>`
    /// per time partition) and its directory.
    #[arg(long, conflicts_with = "json")]
    pub(crate) files: bool,
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

/// Where a query runs: a server's HTTP API or a data directory opened here.
#[derive(Debug, Clone, Args)]
pub(crate) struct SourceArgs {
    /// Ask this promlet or Prometheus server, e.g. `http://127.0.0.1:9090`.
    #[arg(long, conflicts_with = "data")]
    pub(crate) server: Option<String>,
    /// Open this data directory and evaluate here (the default, with `./data`).
    #[arg(long)]
    pub(crate) data: Option<PathBuf>,
    /// Output format.
    #[arg(
        short = 'o',
        long = "format",
        visible_alias = "output",
        value_enum,
        default_value = "table"
    )]
    pub(crate) format: OutputFormat,
    #[command(flatten, next_help_heading = "Evaluation on --data")]
    pub(crate) engine: EngineArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum OutputFormat {
    /// Aligned columns: series, (time,) value.
    Table,
    /// The Prometheus API's JSON answer.
    Json,
}

#[derive(Debug, Args)]
pub(crate) struct QueryArgs {
    /// The PromQL expression.
    pub(crate) expr: String,
    /// Evaluation time: RFC 3339, Unix seconds, `now`, or relative like `now-1h` or `-1h`.
    #[arg(long, default_value = "now", allow_hyphen_values = true)]
    pub(crate) time: String,
    #[command(flatten)]
    pub(crate) source: SourceArgs,
}

#[derive(Debug, Args)]
pub(crate) struct QueryRangeArgs {
    /// The PromQL expression.
    pub(crate) expr: String,
    /// Start of the range (same forms as `query --time`).
    #[arg(long, default_value = "now-1h", allow_hyphen_values = true)]
    pub(crate) start: String,
    /// End of the range.
    #[arg(long, default_value = "now", allow_hyphen_values = true)]
    pub(crate) end: String,
    /// Step between evaluations: a duration (`15s`, `1m`) or seconds; by default the range
    /// divided into 250 steps, at least 1 s (as promtool).
    #[arg(long)]
    pub(crate) step: Option<String>,
    #[command(flatten)]
    pub(crate) source: SourceArgs,
}

#[derive(Debug, Args)]
pub(crate) struct PromqltestArgs {
    /// The `.test` files.
    #[arg(required = true)]
    pub(crate) files: Vec<PathBuf>,
}
