//! Targets: discovered label sets turned into scrape targets as Prometheus's
//! `scrape.PopulateLabels` (2.42) does.
//!
//! A static target starts as `__address__` plus its group's labels; then `job`,
//! `__scrape_interval__`, `__scrape_timeout__`, `__metrics_path__`, `__scheme__` and one
//! `__param_<name>` per `params` entry are added where not already set. That set is the
//! target's *discovered labels*. Relabeling may drop the target; otherwise a port is added
//! to an address without one (80 for http, 443 for https), `__meta_*` labels are removed,
//! `instance` defaults to `__address__`, and the labels not starting with `__` are the ones
//! every stored series of the target carries.

use std::collections::BTreeMap;

use super::config::{Job, PromDuration};
use super::relabel::{self, LabelMap};

/// A target ready to scrape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The labels before relabeling.
    pub discovered: LabelMap,
    /// The labels after relabeling, `__address__` and other `__` labels included.
    pub full: LabelMap,
}

/// What relabeling made of one discovered label set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The target is scraped.
    Active(Target),
    /// Relabeling dropped it; the discovered labels.
    Dropped(LabelMap),
}

impl Target {
    /// The labels every series of the target carries: those not starting with `__`.
    pub fn labels(&self) -> LabelMap {
        self.full
            .iter()
            .filter(|(n, _)| !n.starts_with("__"))
            .map(|(n, v)| (n.clone(), v.clone()))
            .collect()
    }

    /// The URL to scrape: scheme, address, path, and the query from `params` with each
    /// `__param_<name>` label replacing the first value of `<name>`.
    pub fn url(&self, params: &BTreeMap<String, Vec<String>>) -> String {
        let get = |n: &str| self.full.get(n).map_or("", String::as_str);
        let mut params = params.clone();
        for (name, value) in &self.full {
            if let Some(key) = name.strip_prefix("__param_") {
                let values = params.entry(key.to_string()).or_default();
                match values.first_mut() {
                    Some(first) => value.clone_into(first),
                    None => values.push(value.clone()),
                }
            }
        }
        let mut url = format!(
            "{}://{}{}",
            get("__scheme__"),
            get("__address__"),
            get("__metrics_path__")
        );
        let query = encode_query(&params);
        if !query.is_empty() {
            url.push('?');
            url.push_str(&query);
        }
        url
    }
}

/// Go's `url.Values.Encode`: keys sorted, `k=v` pairs joined by `&`, query-escaped.
fn encode_query(params: &BTreeMap<String, Vec<String>>) -> String {
    let mut out = String::new();
    for (k, values) in params {
        for v in values {
            if !out.is_empty() {
                out.push('&');
            }
            out.push_str(&query_escape(k));
            out.push('=');
            out.push_str(&query_escape(v));
        }
    }
    out
}

/// Go's `url.QueryEscape`: unreserved bytes stay, space becomes `+`, the rest `%XX`.
fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(b));
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The discovered label sets of a job's `static_configs`, in file order.
pub fn static_targets(job: &Job) -> Vec<LabelMap> {
    let mut out = Vec::new();
    for group in &job.config.static_configs {
        for addr in &group.targets {
            let mut lset = LabelMap::new();
            lset.insert("__address__".into(), addr.clone());
            for (n, v) in &group.labels {
                if !v.is_empty() {
                    lset.entry(n.clone()).or_insert_with(|| v.clone());
                }
            }
            out.push(lset);
        }
    }
    out
}

/// Prometheus's `PopulateLabels`: adds the job's labels, relabels, and checks the result.
///
/// # Errors
/// A message when the relabeled target has no address, an invalid one, or a bad
/// `__scrape_interval__`/`__scrape_timeout__`.
pub fn populate(lset: &LabelMap, job: &Job) -> Result<Outcome, String> {
    let mut lb = lset.clone();
    let defaults = [
        ("job", job.config.job_name.clone()),
        ("__scrape_interval__", job.interval.to_string()),
        ("__scrape_timeout__", job.timeout.to_string()),
        ("__metrics_path__", job.metrics_path.clone()),
        ("__scheme__", job.scheme.clone()),
    ];
    for (name, value) in defaults {
        if !value.is_empty() {
            lb.entry(name.to_string()).or_insert(value);
        }
    }
    for (k, v) in &job.config.params {
        if let Some(first) = v.first().filter(|f| !f.is_empty()) {
            lb.insert(format!("__param_{k}"), first.clone());
        }
    }
    let discovered = lb.clone();
    if !relabel::process(&job.relabel, &mut lb) {
        return Ok(Outcome::Dropped(discovered));
    }
    let Some(addr) = lb.get("__address__").cloned() else {
        return Err("no address".into());
    };
    let addr = with_default_port(&addr, lb.get("__scheme__").map(String::as_str));
    if addr.contains('/') {
        return Err(format!("{addr:?} is not a valid hostname"));
    }
    lb.insert("__address__".into(), addr.clone());
    check_durations(&lb)?;
    lb.retain(|n, _| !n.starts_with("__meta_"));
    lb.entry("instance".into()).or_insert(addr);
    Ok(Outcome::Active(Target {
        discovered,
        full: lb,
    }))
}

/// Prometheus 2.x's `addPort`: an address without a port gets the scheme's default.
fn with_default_port(addr: &str, scheme: Option<&str>) -> String {
    let has_port = if let Some(rest) = addr.strip_prefix('[') {
        rest.split_once(']')
            .is_some_and(|(_, p)| p.starts_with(':'))
    } else {
        addr.matches(':').count() == 1
    };
    if has_port || addr.matches(':').count() > 1 {
        return addr.to_string();
    }
    match scheme {
        Some("https") => format!("{addr}:443"),
        Some("http") => format!("{addr}:80"),
        _ => addr.to_string(),
    }
}

fn check_durations(lb: &LabelMap) -> Result<(), String> {
    let read = |n: &str, what: &str| -> Result<PromDuration, String> {
        let text = lb.get(n).map_or("", String::as_str);
        PromDuration::parse(text).map_err(|e| format!("error parsing {what}: {e}"))
    };
    let interval = read("__scrape_interval__", "scrape interval")?;
    let timeout = read("__scrape_timeout__", "scrape timeout")?;
    if interval.0.is_zero() {
        return Err("scrape interval cannot be 0".into());
    }
    if timeout.0.is_zero() {
        return Err("scrape timeout cannot be 0".into());
    }
    if timeout > interval {
        return Err(format!(
            "scrape timeout cannot be greater than scrape interval ({timeout:?} > {interval:?})",
            timeout = timeout.to_string(),
            interval = interval.to_string()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_ports_and_escaping() {
        assert_eq!(with_default_port("a", Some("http")), "a:80");
        assert_eq!(with_default_port("a:9", Some("http")), "a:9");
        assert_eq!(with_default_port("a", Some("https")), "a:443");
        assert_eq!(with_default_port("[::1]:9", Some("http")), "[::1]:9");
        assert_eq!(query_escape("a b/c"), "a+b%2Fc");
    }
}
