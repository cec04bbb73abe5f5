//! `remote_write:` entries of `prometheus.yml`, with Prometheus's names and defaults.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::scrape::config::{Authorization, BasicAuth, PromDuration, RelabelConfig, TlsConfig};

/// One `remote_write` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoteWriteConfig {
    /// The receiver's URL (`http://host:9090/api/v1/write`).
    pub url: String,
    /// A name for logs and the state file (default: derived from the URL).
    pub name: Option<String>,
    /// How long one request may take (30s).
    pub remote_timeout: Option<PromDuration>,
    /// Extra HTTP headers.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// HTTP basic authentication.
    pub basic_auth: Option<BasicAuth>,
    /// The `Authorization` header.
    pub authorization: Option<Authorization>,
    /// A bearer token.
    pub bearer_token: Option<String>,
    /// A file holding a bearer token.
    pub bearer_token_file: Option<String>,
    /// TLS settings for `https` URLs.
    pub tls_config: Option<TlsConfig>,
    /// Relabeling of series before sending (`drop`/`keep`, `replace`, `labeldrop`, ...).
    #[serde(default)]
    pub write_relabel_configs: Vec<RelabelConfig>,
    /// Sending parameters.
    #[serde(default)]
    pub queue_config: QueueConfig,
    /// Accepted for compatibility; promlet sends no metadata.
    pub metadata_config: Option<serde_yaml::Value>,
    /// Accepted for compatibility; promlet stores no exemplars.
    pub send_exemplars: Option<bool>,
}

/// `queue_config:` (Prometheus 2.42's names and defaults). promlet's queue is the stored
/// data itself, so `capacity` only bounds how many samples wait in memory per shard.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueConfig {
    /// Samples waiting in memory per shard, read from storage ahead of sending (2500).
    pub capacity: Option<usize>,
    /// The most concurrent senders (200); the sender runs as many as the receiver's speed
    /// and the backlog call for.
    pub max_shards: Option<usize>,
    /// The fewest concurrent senders (1).
    pub min_shards: Option<usize>,
    /// Samples per request (500).
    pub max_samples_per_send: Option<usize>,
    /// How long samples may wait before being sent (5s).
    pub batch_send_deadline: Option<PromDuration>,
    /// The first retry delay (30ms).
    pub min_backoff: Option<PromDuration>,
    /// The longest retry delay (5s).
    pub max_backoff: Option<PromDuration>,
    /// Whether a 429 is retried (false: dropped, as other 4xx).
    #[serde(default)]
    pub retry_on_http_429: bool,
}

/// The effective sending parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Queue {
    /// Samples waiting in memory per shard.
    pub capacity: usize,
    /// Concurrent senders at most.
    pub max_shards: usize,
    /// Concurrent senders at least.
    pub min_shards: usize,
    /// Samples per request.
    pub max_samples_per_send: usize,
    /// ms.
    pub batch_send_deadline_ms: i64,
    /// ms.
    pub min_backoff_ms: i64,
    /// ms.
    pub max_backoff_ms: i64,
    /// Retry 429s.
    pub retry_on_http_429: bool,
}

impl QueueConfig {
    /// The parameters with Prometheus 2.42's defaults filled in.
    pub fn effective(&self) -> Queue {
        let ms = |d: &Option<PromDuration>, default: i64| d.map_or(default, |d| d.as_millis());
        Queue {
            capacity: self.capacity.unwrap_or(2500).max(1),
            max_shards: self.max_shards.unwrap_or(200).max(1),
            min_shards: self.min_shards.unwrap_or(1).max(1),
            max_samples_per_send: self.max_samples_per_send.unwrap_or(500).max(1),
            batch_send_deadline_ms: ms(&self.batch_send_deadline, 5000).max(1),
            min_backoff_ms: ms(&self.min_backoff, 30).max(1),
            max_backoff_ms: ms(&self.max_backoff, 5000).max(1),
            retry_on_http_429: self.retry_on_http_429,
        }
    }
}

impl RemoteWriteConfig {
    /// Checks what Prometheus checks when loading: an `http` or `https` URL, one kind of
    /// credentials.
    ///
    /// # Errors
    /// A message naming the entry's field.
    pub fn validate(&self) -> Result<(), String> {
        let scheme_ok = self.url.starts_with("http://") || self.url.starts_with("https://");
        if !scheme_ok {
            return Err(format!("url: {:?} is not an http or https URL", self.url));
        }
        let kinds = [
            self.basic_auth.is_some(),
            self.authorization.is_some(),
            self.bearer_token.is_some() || self.bearer_token_file.is_some(),
        ];
        if kinds.iter().filter(|k| **k).count() > 1 {
            return Err(
                "at most one of basic_auth, authorization and bearer_token(_file) may be set"
                    .into(),
            );
        }
        Ok(())
    }

    /// The name used in logs and for the state file.
    pub fn display_name(&self) -> String {
        self.name.clone().unwrap_or_else(|| {
            self.url
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::scrape::Config;

    #[test]
    fn remote_write_entries_load_with_prometheus_names() {
        let loaded = Config::load(
            "remote_write:\n  - url: https://mimir:8080/api/v1/push\n    basic_auth: {username: u, password: p}\n    queue_config: {max_samples_per_send: 1000, batch_send_deadline: 1s}\n    write_relabel_configs:\n      - {source_labels: [__name__], regex: 'go_.*', action: drop}\n",
        )
        .unwrap();
        let q = loaded.remote_write[0].queue_config.effective();
        assert_eq!(
            (q.max_samples_per_send, q.batch_send_deadline_ms),
            (1000, 1000)
        );
        assert_eq!(
            (q.min_backoff_ms, q.max_backoff_ms, q.max_shards),
            (30, 5000, 200)
        );
    }

    #[test]
    fn bad_entries_name_the_field() {
        let e = Config::load("remote_write:\n  - url: ftp://x\n").unwrap_err();
        assert!(e.to_string().contains("remote_write[0]: url"), "{e}");
        let e = Config::load("remote_write:\n  - url: http://x\n    bearer_token: t\n    basic_auth: {username: u}\n").unwrap_err();
        assert!(e.to_string().contains("at most one of"), "{e}");
        let e = Config::load("remote_write:\n  - url: http://x\n    write_relabel_configs: [{action: replace, regex: '('}]\n").unwrap_err();
        assert!(
            e.to_string()
                .contains("remote_write[0].write_relabel_configs[0]"),
            "{e}"
        );
        let e = Config::load("remote_write:\n  - url: http://x\n    queue: {}\n").unwrap_err();
        assert!(e.to_string().contains("unknown field"), "{e}");
    }
}
