//! `custom.metrics.k8s.io` (`v1beta2`, `v1beta1`) and `external.metrics.k8s.io` (`v1beta1`),
//! driven by prometheus-adapter's rules ([`super::adapter`]) and answered by the PromQL engine,
//! in the JSON the HPA controller reads.
//!
//! A request for a resource (`pods`, `deployments.apps`, a namespace) becomes the rule's
//! `metricsQuery` with `<<.LabelMatchers>>` = the namespace and the object's name, grouped by
//! the resource's label. For pods `*` with a `labelSelector`, the selector picks pod objects
//! (when the server watches them, [`crate::AppState::pods`]) whose names the query then
//! matches, as prometheus-adapter does; without pod objects it is matched against the series'
//! own labels (pod labels copied onto series by relabeling, as `labelmap` of
//! `__meta_kubernetes_pod_label_*` does).

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use model::{MatchOp, Matcher};
use query::engine::Value as QueryValue;
use serde_json::{Value, json};

use super::adapter::{Adapter, Discovered, Rule, singular};
use super::format::{milli_quantity, rfc3339_seconds};
use super::selector::{parse_label_selector, regex_escape};
use super::{Failure, bad_request, failure, ok};
use crate::AppState;

/// How far back discovery looks for series, ms.
const DISCOVERY_MS: i64 = 10 * 60 * 1000;

/// The custom metrics group.
pub const CUSTOM: &str = "custom.metrics.k8s.io";
/// The external metrics group.
pub const EXTERNAL: &str = "external.metrics.k8s.io";
/// Custom metrics versions, preferred first.
pub const CUSTOM_VERSIONS: [&str; 2] = ["v1beta2", "v1beta1"];

fn adapter(state: &AppState) -> Result<Arc<Adapter>, Failure> {
    state.adapter.clone().ok_or_else(|| {
        failure(
            StatusCode::NOT_FOUND,
            "NotFound",
            "no adapter rules are configured (--adapter.config)".into(),
            None,
        )
    })
}

/// Every metric `rules` expose now, sorted and de-duplicated by name.
async fn discover(state: &AppState, external: bool) -> Result<Vec<Discovered>, Failure> {
    let adapter = adapter(state)?;
    let (storage, now) = (state.storage.clone(), (state.clock)());
    let found = tokio::task::spawn_blocking(move || {
        let rules = if external {
            &adapter.external
        } else {
            &adapter.custom
        };
        let mut out = Vec::new();
        for (i, r) in rules.iter().enumerate() {
            out.extend(r.discover(&*storage, now - DISCOVERY_MS, now, i)?);
        }
        out.sort();
        out.dedup_by(|a, b| a.name == b.name);
        Ok::<_, String>(out)
    })
    .await;
    match found {
        Ok(Ok(d)) => Ok(d),
        Ok(Err(e)) => Err(super::internal(e)),
        Err(e) => Err(super::internal(e.to_string())),
    }
}

/// `GET /apis/custom.metrics.k8s.io/{version}`: one entry per (resource, metric).
pub async fn custom_resources(
    State(state): State<AppState>,
    Path(version): Path<String>,
) -> Response {
    let run = async {
        custom_version(&version)?;
        let found = discover(&state, false).await?;
        let adapter = adapter(&state)?;
        let mut resources = Vec::new();
        for d in &found {
            for res in adapter.custom[d.rule].resources.values() {
                let namespaced = res != "namespace" && res != "node";
                let plural = format!("{res}s");
                resources.push(
                    json!({"name": format!("{plural}/{}", d.name), "singularName": "",
                    "namespaced": namespaced, "kind": "MetricValueList", "verbs": ["get"]}),
                );
            }
        }
        Ok(ok(json!({"kind": "APIResourceList", "apiVersion": "v1",
            "groupVersion": format!("{CUSTOM}/{version}"), "resources": resources})))
    };
    run.await.unwrap_or_else(|f: Failure| f.into_response())
}

/// `GET /apis/external.metrics.k8s.io/v1beta1`.
pub async fn external_resources(State(state): State<AppState>) -> Response {
    let run = async {
        let found = discover(&state, true).await?;
        let resources: Vec<Value> = found
            .iter()
            .map(|d| {
                json!({"name": d.name, "singularName": "", "namespaced": true,
                "kind": "ExternalMetricValueList", "verbs": ["get"]})
            })
            .collect();
        Ok(ok(json!({"kind": "APIResourceList", "apiVersion": "v1",
            "groupVersion": format!("{EXTERNAL}/v1beta1"), "resources": resources})))
    };
    run.await.unwrap_or_else(|f: Failure| f.into_response())
}

fn custom_version(version: &str) -> Result<(), Failure> {
    if CUSTOM_VERSIONS.contains(&version) {
        Ok(())
    } else {
        Err(failure(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("version {version:?} is not served"),
            None,
        ))
    }
}

/// One object request: namespace (if namespaced), resource, name (`*` for all), metric.
struct ObjectRequest {
    version: String,
    namespace: Option<String>,
    resource: String,
    name: String,
    metric: String,
    query: Option<String>,
}

/// `…/namespaces/{ns}/{resource}/{name}/{metric}`.
pub async fn namespaced_object(
    State(state): State<AppState>,
    Path((version, ns, resource, name, metric)): Path<(String, String, String, String, String)>,
    RawQuery(query): RawQuery,
) -> Response {
    let req = ObjectRequest {
        version,
        namespace: Some(ns),
        resource,
        name,
        metric,
        query,
    };
    object(state, req)
        .await
        .unwrap_or_else(|f| f.into_response())
}

/// `…/namespaces/{ns}/metrics/{metric}`: the namespace itself.
pub async fn namespace_object(
    State(state): State<AppState>,
    Path((version, ns, metric)): Path<(String, String, String)>,
    RawQuery(query): RawQuery,
) -> Response {
    let req = ObjectRequest {
        version,
        namespace: None,
        resource: "namespaces".into(),
        name: ns,
        metric,
        query,
    };
    object(state, req)
        .await
        .unwrap_or_else(|f| f.into_response())
}

/// `…/{resource}/{name}/{metric}` for cluster-scoped resources (nodes).
pub async fn root_object(
    State(state): State<AppState>,
    Path((version, resource, name, metric)): Path<(String, String, String, String)>,
    RawQuery(query): RawQuery,
) -> Response {
    let req = ObjectRequest {
        version,
        namespace: None,
        resource,
        name,
        metric,
        query,
    };
    object(state, req)
        .await
        .unwrap_or_else(|f| f.into_response())
}

fn param(query: Option<&str>, key: &str) -> String {
    form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

fn matcher(op: MatchOp, name: &str, value: &str) -> Result<Matcher, Failure> {
    Matcher::new(op, name, value).map_err(|e| bad_request(e.to_string()))
}

fn selector_matchers(query: Option<&str>, key: &str) -> Result<Vec<Matcher>, Failure> {
    let sel = parse_label_selector(&param(query, key)).map_err(|e| bad_request(e.to_string()))?;
    sel.to_matchers().map_err(|e| bad_request(e.to_string()))
}

async fn object(state: AppState, req: ObjectRequest) -> Result<Response, Failure> {
    custom_version(&req.version)?;
    let found = discover(&state, false).await?;
    let resource = singular(&req.resource, "");
    let adapter = adapter(&state)?;
    let not_found = || {
        let message = format!(
            "the server could not find the metric {} for {}",
            req.metric, req.resource
        );
        failure(StatusCode::NOT_FOUND, "NotFound", message, None)
    };
    let d = found
        .iter()
        .find(|d| d.name == req.metric)
        .ok_or_else(not_found)?;
    let rule = &adapter.custom[d.rule];
    let label = rule.label_for(&resource).ok_or_else(not_found)?.to_string();
    let mut matchers = Vec::new();
    if let (Some(ns), Some(ns_label)) = (&req.namespace, rule.label_for("namespace")) {
        matchers.push(matcher(MatchOp::Equal, ns_label, ns)?);
    }
    match state
        .pods
        .as_ref()
        .filter(|_| resource == "pod" && req.name == "*")
    {
        // As prometheus-adapter does: the selector picks pod objects, whose names the query
        // then matches.
        Some(pods) => {
            let ns = req.namespace.as_deref().unwrap_or_default();
            let sel = parse_label_selector(&param(req.query.as_deref(), "labelSelector"))
                .map_err(|e| bad_request(e.to_string()))?;
            let names: Vec<String> = pods
                .pods_in(ns)
                .into_iter()
                .filter(|(_, labels)| sel.matches(labels))
                .map(|(name, _)| regex_escape(&name))
                .collect();
            if names.is_empty() {
                let version = format!("{CUSTOM}/{}", req.version);
                return Ok(ok(json!({"kind": "MetricValueList", "apiVersion": version,
                    "metadata": {}, "items": []})));
            }
            matchers.push(matcher(MatchOp::Regex, &label, &names.join("|"))?);
        }
        None => {
            let (op, value) = if req.name == "*" {
                (MatchOp::Regex, ".+")
            } else {
                (MatchOp::Equal, req.name.as_str())
            };
            matchers.push(matcher(op, &label, value)?);
            matchers.extend(selector_matchers(req.query.as_deref(), "labelSelector")?);
        }
    }
    matchers.extend(selector_matchers(
        req.query.as_deref(),
        "metricLabelSelector",
    )?);
    let promql = rule.render(&d.series, &matchers, &label);
    let (mut samples, now) = evaluate(&state, promql).await?;
    samples.sort_by(|a, b| a.0.get(&label).cmp(&b.0.get(&label)));
    let kind = kind_of(&resource);
    let ts = rfc3339_seconds(now);
    let beta2 = req.version == "v1beta2";
    let items: Vec<Value> = samples
        .iter()
        .filter_map(|(labels, v)| {
            let name = labels.get(&label)?;
            let mut described = json!({"kind": kind, "name": name, "apiVersion": "/v1"});
            if let Some(ns) = req.namespace.as_ref().filter(|_| resource != "namespace") {
                described["namespace"] = json!(ns);
            }
            let value = milli_quantity(*v)?;
            Some(if beta2 {
                json!({"describedObject": described, "metric": {"name": req.metric, "selector": null},
                    "timestamp": ts, "value": value})
            } else {
                json!({"describedObject": described, "metricName": req.metric, "timestamp": ts, "value": value})
            })
        })
        .collect();
    if items.is_empty() && req.name != "*" {
        return Err(not_found());
    }
    Ok(ok(
        json!({"kind": "MetricValueList", "apiVersion": format!("{CUSTOM}/{}", req.version),
        "metadata": {}, "items": items}),
    ))
}

/// `GET /apis/external.metrics.k8s.io/v1beta1/namespaces/{ns}/{metric}`.
pub async fn external(
    State(state): State<AppState>,
    Path((ns, metric)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Response {
    let run = async {
        let found = discover(&state, true).await?;
        let adapter = adapter(&state)?;
        let d = found.iter().find(|d| d.name == metric).ok_or_else(|| {
            failure(
                StatusCode::NOT_FOUND,
                "NotFound",
                format!("the server could not find the external metric {metric}"),
                None,
            )
        })?;
        let rule: &Rule = &adapter.external[d.rule];
        let mut matchers = Vec::new();
        if rule.namespaced {
            let label = rule.label_for("namespace").unwrap_or("namespace");
            matchers.push(matcher(MatchOp::Equal, label, &ns)?);
        }
        matchers.extend(selector_matchers(query.as_deref(), "labelSelector")?);
        let promql = rule.render(&d.series, &matchers, "");
        let (samples, now) = evaluate(&state, promql).await?;
        let ts = rfc3339_seconds(now);
        let items: Vec<Value> = samples
            .iter()
            .filter_map(|(labels, v)| {
                let value = milli_quantity(*v)?;
                let metric_labels: serde_json::Map<String, Value> = labels
                    .iter()
                    .filter(|l| &*l.name != model::METRIC_NAME)
                    .map(|l| (l.name.to_string(), json!(&*l.value)))
                    .collect();
                Some(json!({"metricName": metric, "metricLabels": metric_labels, "timestamp": ts, "value": value}))
            })
            .collect();
        Ok(ok(
            json!({"kind": "ExternalMetricValueList", "apiVersion": format!("{EXTERNAL}/v1beta1"),
            "metadata": {}, "items": items}),
        ))
    };
    run.await.unwrap_or_else(|f: Failure| f.into_response())
}

/// The Kubernetes kind of a (singular) resource: `pod` → `Pod`.
fn kind_of(resource: &str) -> String {
    let mut c = resource.chars();
    c.next()
        .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
        .unwrap_or_default()
}

/// Runs `promql` at now: the vector's (labels, value) pairs.
async fn evaluate(
    state: &AppState,
    promql: String,
) -> Result<(Vec<(model::Labels, f64)>, i64), Failure> {
    let (engine, storage, now) = (state.engine.clone(), state.storage.clone(), (state.clock)());
    let result = tokio::task::spawn_blocking(move || {
        crate::api::query::instant_query(&engine, &*storage, &promql, now)
            .map_err(|e| format!("{promql}: {}", e.message))
    })
    .await
    .map_err(|e| super::internal(e.to_string()))?;
    let result = result.map_err(bad_request)?;
    let samples = match result.value {
        QueryValue::Vector(mut v) => {
            v.sort_by(|a, b| a.metric.cmp(&b.metric));
            v.into_iter().map(|s| (s.metric, s.v)).collect()
        }
        QueryValue::Scalar { v, .. } => vec![(model::Labels::default(), v)],
        _ => Vec::new(),
    };
    Ok((samples, now))
}

/// The groups this adapter adds to discovery: `(group, versions preferred first)`.
pub fn groups(state: &AppState) -> Vec<(&'static str, Vec<&'static str>)> {
    let Some(a) = &state.adapter else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if !a.custom.is_empty() {
        out.push((CUSTOM, CUSTOM_VERSIONS.to_vec()));
    }
    if !a.external.is_empty() {
        out.push((EXTERNAL, vec!["v1beta1"]));
    }
    out
}
