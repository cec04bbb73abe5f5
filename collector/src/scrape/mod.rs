//! Scraping as Prometheus does it, configured by the scrape part of `prometheus.yml`.
//!
//! - [`config`]: `global` and `scrape_configs` with Prometheus's names, defaults and
//!   validation; unknown keys are errors that name them. `kubernetes_sd_configs` discover
//!   role `pod` through the API server ([`crate::k8s::sd`]); roles `node` and `endpoints`
//!   are refused at load as not implemented yet.
//! - [`relabel`]: `relabel_configs` and `metric_relabel_configs`, every action of
//!   Prometheus's `model/relabel`.
//! - [`target`]: static targets and their labels (`PopulateLabels`).
//! - [`scraper`]: one scrape from body to one committed batch, with the report series and
//!   staleness markers.
//! - [`Manager`]: the per-target loops, the local [`crate::Collect`] sources, and what
//!   `/api/v1/targets` shows.
//!
//! `global.external_labels` are parsed and kept but, as in Prometheus, not added to stored
//! series (they are for remote write and federation).

pub mod config;
pub(crate) mod http;
mod manager;
pub mod relabel;
pub mod scraper;
pub mod target;

pub use config::{Config, Job, Loaded, PromDuration};
pub use http::ACCEPT_HEADER;
pub use manager::{ActiveTarget, Clock, DroppedTarget, Health, Manager, system_clock};

/// A configuration that cannot be used; the message names the key or entry and, for YAML
/// errors, the line and column.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);
