//! The scrape part of `prometheus.yml`: `global` and `scrape_configs`, with Prometheus's
//! names, defaults and validation (`config/config.go`, `model/relabel/relabel.go`).
//!
//! Every struct denies unknown keys, so a misspelt key is an error that names it and its
//! place (`scrape_configs[0]: unknown field `job`, expected one of ... at line 3 column 5`).
//! Validation after parsing names the offending entry the same way
//! (`scrape_configs[1].relabel_configs[0]: unknown relabel action "foo"`).

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Deserializer};

use super::ConfigError;
use super::relabel::{self, Rule};

/// Prometheus's default `scrape_interval`.
pub const DEFAULT_SCRAPE_INTERVAL: PromDuration = PromDuration(Duration::from_secs(60));
/// Prometheus's default `scrape_timeout`.
pub const DEFAULT_SCRAPE_TIMEOUT: PromDuration = PromDuration(Duration::from_secs(10));

/// A duration in Prometheus's syntax (`1y2w3d4h5m6s7ms`, units largest first, or `0`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct PromDuration(pub Duration);

impl PromDuration {
    /// Parses Prometheus's duration syntax (`model.ParseDuration`).
    ///
    /// # Errors
    /// A message naming the text when it is not a duration.
    pub fn parse(s: &str) -> Result<Self, String> {
        model::parse_duration_ms(s)
            .and_then(|ms| u64::try_from(ms).ok())
            .map(|ms| Self(Duration::from_millis(ms)))
            .ok_or_else(|| format!("not a valid duration string: {s:?}"))
    }

    /// The duration in milliseconds.
    pub fn as_millis(self) -> i64 {
        i64::try_from(self.0.as_millis()).unwrap_or(i64::MAX)
    }
}

/// Writes the duration as Prometheus does (`1m30s`, `15s`, `0s`).
impl fmt::Display for PromDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut ms = self.as_millis();
        if ms == 0 {
            return f.write_str("0s");
        }
        for (unit, size) in [
            ("y", 365 * 86_400_000),
            ("w", 7 * 86_400_000),
            ("d", 86_400_000),
            ("h", 3_600_000),
            ("m", 60_000),
            ("s", 1000),
            ("ms", 1),
        ] {
            // Prometheus writes weeks only when the days divide evenly into them.
            if unit == "w" && (ms / 86_400_000) % 7 != 0 {
                continue;
            }
            if ms >= size {
                write!(f, "{}{unit}", ms / size)?;
                ms %= size;
            }
        }
        Ok(())
    }
}

impl<'de> Deserialize<'de> for PromDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// The whole file: the parts of `prometheus.yml` promlet reads.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Defaults for every scrape config.
    #[serde(default)]
    pub global: GlobalConfig,
    /// The scrape jobs.
    #[serde(default)]
    pub scrape_configs: Vec<ScrapeConfig>,
    /// Where stored samples are forwarded.
    #[serde(default)]
    pub remote_write: Vec<crate::remote_write::RemoteWriteConfig>,
}

/// `global:`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GlobalConfig {
    /// How often to scrape targets by default (1m).
    pub scrape_interval: Option<PromDuration>,
    /// How long a scrape may take by default (10s, at most the interval).
    pub scrape_timeout: Option<PromDuration>,
    /// Accepted for compatibility with existing files; promlet evaluates no rules yet.
    pub evaluation_interval: Option<PromDuration>,
    /// Labels for communicating with external systems (remote write, federation); as in
    /// Prometheus they are not added to stored series.
    #[serde(default)]
    pub external_labels: BTreeMap<String, String>,
}

/// One `scrape_configs` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScrapeConfig {
    /// The job name, also the `job` label by default; unique in the file.
    pub job_name: String,
    /// How often to scrape (the global default when absent).
    pub scrape_interval: Option<PromDuration>,
    /// How long a scrape may take (the global default, capped at the interval).
    pub scrape_timeout: Option<PromDuration>,
    /// The HTTP path (`/metrics`).
    pub metrics_path: Option<String>,
    /// `http` or `https`.
    pub scheme: Option<String>,
    /// URL query parameters.
    #[serde(default)]
    pub params: BTreeMap<String, Vec<String>>,
    /// Whether scraped labels win over target labels (false).
    #[serde(default)]
    pub honor_labels: bool,
    /// Whether exposed timestamps are kept (true).
    pub honor_timestamps: Option<bool>,
    /// HTTP basic authentication.
    pub basic_auth: Option<BasicAuth>,
    /// The `Authorization` header.
    pub authorization: Option<Authorization>,
    /// A bearer token (Prometheus 2.x's form of `authorization`).
    pub bearer_token: Option<String>,
    /// A file holding a bearer token.
    pub bearer_token_file: Option<String>,
    /// TLS settings for `https` targets.
    pub tls_config: Option<TlsConfig>,
    /// Fixed targets.
    #[serde(default)]
    pub static_configs: Vec<StaticConfig>,
    /// Kubernetes service discovery (roles pod, node and endpoints).
    #[serde(default)]
    pub kubernetes_sd_configs: Vec<KubernetesSdConfig>,
    /// Relabeling of targets before scraping.
    #[serde(default)]
    pub relabel_configs: Vec<RelabelConfig>,
    /// Relabeling of scraped samples before storing.
    #[serde(default)]
    pub metric_relabel_configs: Vec<RelabelConfig>,
}

/// `basic_auth:`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BasicAuth {
    /// The user name.
    pub username: String,
    /// The password.
    pub password: Option<String>,
    /// A file holding the password (read at every scrape).
    pub password_file: Option<String>,
}

/// `authorization:`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Authorization {
    /// The scheme (`Bearer`).
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// The credentials.
    pub credentials: Option<String>,
    /// A file holding the credentials (read at every scrape).
    pub credentials_file: Option<String>,
}

/// `tls_config:` (Prometheus's names; files are read when a target's scrape loop starts).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// PEM CA certificates that sign the target's certificate (the system's roots when absent).
    pub ca_file: Option<String>,
    /// A PEM client certificate (chain), with `key_file`.
    pub cert_file: Option<String>,
    /// The PEM private key of `cert_file`.
    pub key_file: Option<String>,
    /// Accept any server certificate (no verification at all).
    #[serde(default)]
    pub insecure_skip_verify: bool,
}

/// `static_configs:` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaticConfig {
    /// `host:port` addresses.
    #[serde(default)]
    pub targets: Vec<String>,
    /// Labels for every target of the group.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

/// `kubernetes_sd_configs:` entry (roles pod, node, endpoints).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KubernetesSdConfig {
    /// `pod`, `node` or `endpoints`.
    pub role: String,
    /// The API server (in-cluster config when absent).
    pub api_server: Option<String>,
    /// A kubeconfig file.
    pub kubeconfig_file: Option<String>,
    /// Namespaces to watch.
    pub namespaces: Option<KubernetesNamespaces>,
    /// Label and field selectors.
    #[serde(default)]
    pub selectors: Vec<KubernetesSelector>,
}

/// `namespaces:` of a Kubernetes SD config.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KubernetesNamespaces {
    /// Namespace names.
    #[serde(default)]
    pub names: Vec<String>,
    /// Whether to watch the namespace promlet runs in.
    #[serde(default)]
    pub own_namespace: bool,
}

/// `selectors:` entry of a Kubernetes SD config.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KubernetesSelector {
    /// The role the selector applies to.
    pub role: String,
    /// A label selector.
    pub label: Option<String>,
    /// A field selector.
    pub field: Option<String>,
}

/// One `relabel_configs` entry as written; [`Rule::new`] validates and compiles it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RelabelConfig {
    /// Labels whose values are joined with `separator`.
    pub source_labels: Option<Vec<String>>,
    /// The join separator (`;`).
    pub separator: Option<String>,
    /// The regular expression, anchored at both ends (`(.*)`).
    pub regex: Option<String>,
    /// The modulus for `hashmod`.
    pub modulus: Option<u64>,
    /// The label to write.
    pub target_label: Option<String>,
    /// The replacement, with `$1`/`${name}` references (`$1`).
    pub replacement: Option<String>,
    /// The action (`replace`).
    pub action: Option<String>,
}

/// A scrape config with every default filled in and every rule compiled.
#[derive(Debug, Clone)]
pub struct Job {
    /// The config as written.
    pub config: ScrapeConfig,
    /// The effective interval.
    pub interval: PromDuration,
    /// The effective timeout.
    pub timeout: PromDuration,
    /// The effective path.
    pub metrics_path: String,
    /// The effective scheme.
    pub scheme: String,
    /// Whether exposed timestamps are kept.
    pub honor_timestamps: bool,
    /// Compiled `relabel_configs`.
    pub relabel: Vec<Rule>,
    /// Compiled `metric_relabel_configs`.
    pub metric_relabel: Vec<Rule>,
}

/// A loaded and validated configuration.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The file as parsed.
    pub global: GlobalConfig,
    /// One per `scrape_configs` entry, in file order.
    pub jobs: Vec<Job>,
    /// The `remote_write` entries, validated.
    pub remote_write: Vec<crate::remote_write::RemoteWriteConfig>,
}

impl Config {
    /// Parses and validates a YAML document.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the key or entry and, for syntax errors, the line and column.
    pub fn load(text: &str) -> Result<Loaded, ConfigError> {
        let config: Config = if text.trim().is_empty() {
            Config::default()
        } else {
            serde_yaml::from_str(text).map_err(|e| ConfigError(e.to_string()))?
        };
        config.validate()
    }

    /// Fills in defaults and checks what serde cannot.
    fn validate(self) -> Result<Loaded, ConfigError> {
        let global_interval = self
            .global
            .scrape_interval
            .unwrap_or(DEFAULT_SCRAPE_INTERVAL);
        let global_timeout = match self.global.scrape_timeout {
            Some(t) => t,
            None => DEFAULT_SCRAPE_TIMEOUT.min(global_interval),
        };
        if global_timeout > global_interval {
            return Err(ConfigError(
                "global: global scrape timeout greater than scrape interval".into(),
            ));
        }
        for name in self.global.external_labels.keys() {
            check_label_name(name)
                .map_err(|m| ConfigError(format!("global.external_labels: {m}")))?;
        }
        let mut jobs: Vec<Job> = Vec::with_capacity(self.scrape_configs.len());
        for (i, sc) in self.scrape_configs.into_iter().enumerate() {
            let at = |m: String| ConfigError(format!("scrape_configs[{i}]: {m}"));
            if jobs.iter().any(|j| j.config.job_name == sc.job_name) {
                return Err(at(format!(
                    "found multiple scrape configs with job name {:?}",
                    sc.job_name
                )));
            }
            jobs.push(job(i, sc, global_interval, global_timeout)?);
        }
        for (i, rw) in self.remote_write.iter().enumerate() {
            rw.validate()
                .map_err(|m| ConfigError(format!("remote_write[{i}]: {m}")))?;
            for (j, r) in rw.write_relabel_configs.iter().enumerate() {
                Rule::new(r).map_err(|m| {
                    ConfigError(format!("remote_write[{i}].write_relabel_configs[{j}]: {m}"))
                })?;
            }
        }
        Ok(Loaded {
            global: self.global,
            jobs,
            remote_write: self.remote_write,
        })
    }
}

/// Validates one scrape config and fills in its defaults.
fn job(
    i: usize,
    sc: ScrapeConfig,
    global_interval: PromDuration,
    global_timeout: PromDuration,
) -> Result<Job, ConfigError> {
    let at = |m: String| ConfigError(format!("scrape_configs[{i}]: {m}"));
    if sc.job_name.is_empty() {
        return Err(at("job_name is empty".into()));
    }
    let interval = sc.scrape_interval.unwrap_or(global_interval);
    let timeout = match sc.scrape_timeout {
        Some(t) => t,
        None => global_timeout.min(interval),
    };
    if timeout > interval {
        return Err(at(format!(
            "scrape timeout greater than scrape interval for scrape config with job name {:?}",
            sc.job_name
        )));
    }
    if interval.0.is_zero() {
        return Err(at("scrape_interval must be greater than 0".into()));
    }
    if timeout.0.is_zero() {
        return Err(at("scrape_timeout must be greater than 0".into()));
    }
    let scheme = sc.scheme.clone().unwrap_or_else(|| "http".into());
    if scheme != "http" && scheme != "https" {
        return Err(at(format!(
            "scheme: unknown scheme {scheme:?} (http or https)"
        )));
    }
    let metrics_path = sc.metrics_path.clone().unwrap_or_else(|| "/metrics".into());
    check_auth(&sc).map_err(at)?;
    check_tls(sc.tls_config.as_ref()).map_err(at)?;
    // Messages that start with a nested key join it with a dot.
    let at_key = |m: String| ConfigError(format!("scrape_configs[{i}].{m}"));
    check_static(&sc).map_err(at_key)?;
    check_kubernetes(&sc).map_err(at_key)?;
    let relabel = compile(&sc.relabel_configs, "relabel_configs").map_err(at_key)?;
    let metric_relabel =
        compile(&sc.metric_relabel_configs, "metric_relabel_configs").map_err(at_key)?;
    Ok(Job {
        honor_timestamps: sc.honor_timestamps.unwrap_or(true),
        config: sc,
        interval,
        timeout,
        metrics_path,
        scheme,
        relabel,
        metric_relabel,
    })
}

fn compile(rules: &[RelabelConfig], key: &str) -> Result<Vec<Rule>, String> {
    rules
        .iter()
        .enumerate()
        .map(|(j, r)| Rule::new(r).map_err(|m| format!("{key}[{j}]: {m}")))
        .collect()
}

/// Prometheus: "at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be
/// configured", and the same for `authorization`.
/// A client certificate needs its key and the other way round, as in Prometheus.
fn check_tls(tls: Option<&TlsConfig>) -> Result<(), String> {
    match tls.map(|t| (t.cert_file.is_some(), t.key_file.is_some())) {
        Some((true, false)) => Err(
            "tls_config: exactly one of key or key_file must be configured when a client certificate is configured".into(),
        ),
        Some((false, true)) => Err(
            "tls_config: exactly one of cert or cert_file must be configured when a client key is configured".into(),
        ),
        _ => Ok(()),
    }
}

fn check_auth(sc: &ScrapeConfig) -> Result<(), String> {
    let bearer = sc.bearer_token.is_some() || sc.bearer_token_file.is_some();
    if sc.bearer_token.is_some() && sc.bearer_token_file.is_some() {
        return Err("at most one of bearer_token & bearer_token_file must be configured".into());
    }
    let set = [sc.basic_auth.is_some(), sc.authorization.is_some(), bearer];
    if set.iter().filter(|b| **b).count() > 1 {
        return Err(
            "at most one of basic_auth, authorization, bearer_token & bearer_token_file must be configured"
                .into(),
        );
    }
    if let Some(b) = &sc.basic_auth
        && b.password.is_some()
        && b.password_file.is_some()
    {
        return Err(
            "basic_auth: at most one of password & password_file must be configured".into(),
        );
    }
    if let Some(a) = &sc.authorization {
        if a.credentials.is_some() && a.credentials_file.is_some() {
            return Err(
                "authorization: at most one of credentials & credentials_file must be configured"
                    .into(),
            );
        }
        if a.kind
            .as_deref()
            .is_some_and(|k| k.eq_ignore_ascii_case("basic"))
        {
            return Err(
                "authorization: authorization type cannot be set to \"basic\", use \"basic_auth\" instead"
                    .into(),
            );
        }
    }
    Ok(())
}

fn check_static(sc: &ScrapeConfig) -> Result<(), String> {
    for (g, group) in sc.static_configs.iter().enumerate() {
        for name in group.labels.keys() {
            check_label_name(name).map_err(|m| format!("static_configs[{g}].labels: {m}"))?;
        }
        for (t, target) in group.targets.iter().enumerate() {
            if target.is_empty() || target.contains('/') {
                return Err(format!(
                    "static_configs[{g}].targets[{t}]: {target:?} is not a valid hostname"
                ));
            }
        }
    }
    Ok(())
}

fn check_kubernetes(sc: &ScrapeConfig) -> Result<(), String> {
    for (k, kc) in sc.kubernetes_sd_configs.iter().enumerate() {
        let at = |m: String| format!("kubernetes_sd_configs[{k}]: {m}");
        if !matches!(kc.role.as_str(), "pod" | "node" | "endpoints") {
            return Err(at(format!(
                "unknown Kubernetes SD role {:?} (promlet knows pod, node, endpoints)",
                kc.role
            )));
        }
        if kc.api_server.is_some() && kc.kubeconfig_file.is_some() {
            return Err(at(
                "cannot use 'kubeconfig_file' and 'api_server' simultaneously".into(),
            ));
        }
        for (s, sel) in kc.selectors.iter().enumerate() {
            if !matches!(sel.role.as_str(), "pod" | "node" | "endpoints" | "service") {
                return Err(at(format!(
                    "selectors[{s}]: invalid selector role {:?}",
                    sel.role
                )));
            }
        }
    }
    Ok(())
}

/// A label name as Prometheus requires: `[a-zA-Z_][a-zA-Z0-9_]*`.
pub(crate) fn check_label_name(name: &str) -> Result<(), String> {
    if relabel::is_valid_label_name(name) {
        Ok(())
    } else {
        Err(format!("{name:?} is not a valid label name"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_and_print_as_prometheus() {
        for (text, ms, shown) in [
            ("0", 0, "0s"),
            ("15s", 15_000, "15s"),
            ("1m30s", 90_000, "1m30s"),
            ("1h", 3_600_000, "1h"),
            ("2w", 14 * 86_400_000, "2w"),
            ("8d", 8 * 86_400_000, "8d"),
            ("500ms", 500, "500ms"),
        ] {
            let d = PromDuration::parse(text).unwrap();
            assert_eq!(
                (d.as_millis(), d.to_string()),
                (ms, shown.to_string()),
                "{text}"
            );
        }
        for bad in ["", "1", "1x", "1s1m", "-1s", "1.5s", "s"] {
            assert!(PromDuration::parse(bad).is_err(), "{bad:?}");
        }
    }
}
