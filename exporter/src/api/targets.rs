//! `/api/v1/targets` (Prometheus's `api.targets`): the active targets with their labels,
//! URL and last scrape, and the targets relabeling dropped.
//!
//! The scrape loops live in another crate; they reach this endpoint through
//! [`TargetsSource`], which the binary implements over them. Parameters as Prometheus's:
//! `state` (`active`, `dropped`, `any`, the default) and `scrapePool`. `lastScrape` is
//! RFC 3339 with nanoseconds in UTC (Go's zero time before the first scrape).

use std::fmt::Write;

use axum::extract::State;
use axum::response::Response;

use super::error::ApiError;
use super::params::Params;
use super::{Success, json};
use crate::AppState;

/// A target's health: `up`, `down`, or `unknown` before its first scrape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetHealth {
    /// The last scrape succeeded.
    Up,
    /// The last scrape failed.
    Down,
    /// Not scraped yet.
    Unknown,
}

impl TargetHealth {
    fn as_str(self) -> &'static str {
        match self {
            Self::Up => "up",
            Self::Down => "down",
            Self::Unknown => "unknown",
        }
    }
}

/// One active target as the API shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct ActiveTarget {
    /// Labels before relabeling, sorted by name.
    pub discovered_labels: Vec<(String, String)>,
    /// Labels every series of the target carries, sorted by name.
    pub labels: Vec<(String, String)>,
    /// The job name.
    pub scrape_pool: String,
    /// The URL scraped.
    pub scrape_url: String,
    /// The URL as seen from outside this host.
    pub global_url: String,
    /// The last scrape's error, empty after a success.
    pub last_error: String,
    /// When the last scrape started, ms since the epoch.
    pub last_scrape_ms: Option<i64>,
    /// How long the last scrape took.
    pub last_scrape_duration_seconds: f64,
    /// The health.
    pub health: TargetHealth,
    /// The interval, in Prometheus's duration syntax (`15s`).
    pub scrape_interval: String,
    /// The timeout, in Prometheus's duration syntax.
    pub scrape_timeout: String,
}

/// A target dropped by relabeling.
#[derive(Debug, Clone, PartialEq)]
pub struct DroppedTarget {
    /// Labels before relabeling, sorted by name.
    pub discovered_labels: Vec<(String, String)>,
}

/// Where the targets come from (the binary's scrape manager).
pub trait TargetsSource: Send + Sync {
    /// The active targets, grouped by scrape pool in configuration order.
    fn active(&self) -> Vec<ActiveTarget>;
    /// The dropped targets.
    fn dropped(&self) -> Vec<DroppedTarget>;
}

/// No targets: what a server without a scrape configuration shows.
#[derive(Debug, Default)]
pub struct NoTargets;

impl TargetsSource for NoTargets {
    fn active(&self) -> Vec<ActiveTarget> {
        Vec::new()
    }
    fn dropped(&self) -> Vec<DroppedTarget> {
        Vec::new()
    }
}

/// `GET /api/v1/targets`.
pub(crate) async fn targets(State(state): State<AppState>, p: Params) -> Response {
    super::respond(targets_inner(&state, &p))
}

fn targets_inner(state: &AppState, p: &Params) -> Result<Success, ApiError> {
    let which = p.get("state").to_ascii_lowercase();
    let pool = p.get("scrapePool");
    let show_active = which.is_empty() || which == "any" || which == "active";
    let show_dropped = which.is_empty() || which == "any" || which == "dropped";
    let mut data = String::from("{\"activeTargets\":[");
    if show_active {
        let active = state.targets.active();
        let picked = active
            .iter()
            .filter(|t| pool.is_empty() || t.scrape_pool == pool);
        for (i, t) in picked.enumerate() {
            if i > 0 {
                data.push(',');
            }
            write_active(&mut data, t);
        }
    }
    data.push_str("],\"droppedTargets\":[");
    if show_dropped {
        for (i, t) in state.targets.dropped().iter().enumerate() {
            if i > 0 {
                data.push(',');
            }
            data.push_str("{\"discoveredLabels\":");
            write_labels(&mut data, &t.discovered_labels);
            data.push('}');
        }
    }
    data.push_str("]}");
    Ok(Success {
        data,
        warnings: Vec::new(),
        infos: Vec::new(),
    })
}

fn write_active(out: &mut String, t: &ActiveTarget) {
    out.push_str("{\"discoveredLabels\":");
    write_labels(out, &t.discovered_labels);
    out.push_str(",\"labels\":");
    write_labels(out, &t.labels);
    for (key, value) in [
        ("scrapePool", &t.scrape_pool),
        ("scrapeUrl", &t.scrape_url),
        ("globalUrl", &t.global_url),
        ("lastError", &t.last_error),
    ] {
        let _ = write!(out, ",\"{key}\":");
        json::write_str(out, value);
    }
    out.push_str(",\"lastScrape\":");
    json::write_str(out, &rfc3339_nano(t.last_scrape_ms));
    let _ = write!(
        out,
        ",\"lastScrapeDuration\":{},\"health\":\"{}\"",
        json::format_float(t.last_scrape_duration_seconds),
        t.health.as_str()
    );
    out.push_str(",\"scrapeInterval\":");
    json::write_str(out, &t.scrape_interval);
    out.push_str(",\"scrapeTimeout\":");
    json::write_str(out, &t.scrape_timeout);
    out.push('}');
}

fn write_labels(out: &mut String, labels: &[(String, String)]) {
    out.push('{');
    for (i, (n, v)) in labels.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        json::write_str(out, n);
        out.push(':');
        json::write_str(out, v);
    }
    out.push('}');
}

/// Go's `time.RFC3339Nano` in UTC: trailing zeros of the fraction dropped; Go's zero time
/// for `None`.
pub fn rfc3339_nano(t_ms: Option<i64>) -> String {
    let Some(ms) = t_ms else {
        return "0001-01-01T00:00:00Z".into();
    };
    let days = ms.div_euclid(86_400_000);
    let in_day = ms.rem_euclid(86_400_000);
    let (y, m, d) = civil_from_days(days);
    let (h, min, s, frac) = (
        in_day / 3_600_000,
        in_day / 60_000 % 60,
        in_day / 1000 % 60,
        in_day % 1000,
    );
    let mut out = format!("{y:04}-{m:02}-{d:02}T{h:02}:{min:02}:{s:02}");
    if frac != 0 {
        let digits = format!("{frac:03}");
        out.push('.');
        out.push_str(digits.trim_end_matches('0'));
    }
    out.push('Z');
    out
}

/// Days since 1970-01-01 to (year, month, day), Howard Hinnant's algorithm.
pub(crate) fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::rfc3339_nano;

    #[test]
    fn times_read_as_go_writes_them() {
        assert_eq!(rfc3339_nano(None), "0001-01-01T00:00:00Z");
        assert_eq!(rfc3339_nano(Some(0)), "1970-01-01T00:00:00Z");
        assert_eq!(
            rfc3339_nano(Some(1_700_000_000_120)),
            "2023-11-14T22:13:20.12Z"
        );
        assert_eq!(rfc3339_nano(Some(951_782_400_000)), "2000-02-29T00:00:00Z");
    }
}
