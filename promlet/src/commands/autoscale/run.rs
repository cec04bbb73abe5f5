//! `promlet autoscale run`: every interval, a decision per configured autoscaler from
//! promlet's data, published at `/api/v1/autoscale` (JSON) and `/metrics`, and with
//! `--apply` written to the target's scale subresource.
//!
//! With `--apply` the replicas and pods are Kubernetes's (the scale subresource, the pods of
//! `podSelector`); without it the decisions are followed as if applied, the observed load
//! spread over the simulated replicas, as `backtest` does.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use autoscale::{History, Input, Options};
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use serde_json::{Value, json};

use super::config::{Autoscaler, Config};
use super::{observe, output, simulate, state, target};
use crate::commands::query::Evaluator;

/// What one autoscaler carries from one decision to the next.
#[derive(Debug, Clone)]
struct Memory {
    replicas: i32,
    history: History,
}

/// The latest decision of every autoscaler, by (namespace, name).
#[derive(Default)]
pub(crate) struct Published {
    decisions: BTreeMap<(String, String), Value>,
}

impl Published {
    /// The decisions as `/api/v1/autoscale` lists them.
    pub(crate) fn list(&self) -> Value {
        Value::Array(self.decisions.values().cloned().collect())
    }
}

/// The gauges of `/metrics`.
struct Gauges {
    registry: Registry,
    desired: Family<Vec<(String, String)>, Gauge>,
    current: Family<Vec<(String, String)>, Gauge>,
}

impl Gauges {
    fn new() -> Self {
        let mut registry = Registry::default();
        let desired = Family::<Vec<(String, String)>, Gauge>::default();
        let current = Family::<Vec<(String, String)>, Gauge>::default();
        registry.register(
            "promlet_autoscale_desired_replicas",
            "Replicas the autoscaler's last decision asks for",
            desired.clone(),
        );
        registry.register(
            "promlet_autoscale_current_replicas",
            "Replicas before the autoscaler's last decision",
            current.clone(),
        );
        Gauges {
            registry,
            desired,
            current,
        }
    }
}

/// One round: a decision per autoscaler at `now_ms`; `client` set means `--apply`.
async fn round(
    eval: &Evaluator,
    config: &Config,
    memory: &mut BTreeMap<String, Memory>,
    client: Option<&kube::Client>,
    now_ms: i64,
) -> Vec<(Autoscaler, Value)> {
    let mut out = Vec::new();
    for a in &config.autoscalers {
        let mem = memory.entry(a.name.clone()).or_insert(Memory {
            replicas: a.initial_replicas,
            history: History::default(),
        });
        let decision = match decide_one(eval, a, mem, client, now_ms).await {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!(autoscaler = %a.name, error = %format!("{e:#}"), "no decision");
                json!({"error": format!("{e:#}")})
            }
        };
        out.push((a.clone(), decision));
    }
    out
}

async fn decide_one(
    eval: &Evaluator,
    a: &Autoscaler,
    mem: &mut Memory,
    client: Option<&kube::Client>,
    now_ms: i64,
) -> Result<Value> {
    let obs = tokio::task::block_in_place(|| observe::at(eval, a, now_ms))?;
    let input = match client {
        Some(c) => cluster_input(c, a, obs, mem.history.clone(), now_ms).await?,
        None => simulate::simulated_input(
            a,
            &obs,
            mem.replicas,
            mem.history.clone(),
            Options::default(),
        ),
    };
    let d = autoscale::decide(&input);
    if let Some(c) = client
        && d.desired_replicas != input.current_replicas
    {
        target::set_replicas(c, a, d.desired_replicas).await?;
    }
    mem.replicas = d.desired_replicas;
    mem.history = d.history.clone();
    let mut v = output::decision_json(&d, input.current_replicas);
    v["time"] = json!(exporter::k8s::format::rfc3339_seconds(now_ms));
    v["applied"] = json!(client.is_some());
    Ok(v)
}

/// The input from Kubernetes's scale and pods, with the observed metrics.
async fn cluster_input(
    client: &kube::Client,
    a: &Autoscaler,
    obs: observe::Observation,
    history: History,
    now_ms: i64,
) -> Result<Input> {
    let (current, status) = target::scale(client, a).await?;
    let pods = target::pods(client, a)
        .await?
        .iter()
        .enumerate()
        .map(|(i, p)| state::pod_of(p).map_err(|e| anyhow::anyhow!("pod {i}: {e}")))
        .collect::<Result<_>>()?;
    Ok(Input {
        now_ms,
        spec: a.spec.clone(),
        current_replicas: current,
        status_replicas: status,
        pods,
        metrics: obs.metrics,
        history,
        options: Options::default(),
    })
}

/// Publishes a round's decisions.
fn publish(published: &Mutex<Published>, gauges: &Gauges, decisions: Vec<(Autoscaler, Value)>) {
    let mut p = published.lock().unwrap_or_else(|e| e.into_inner());
    for (a, v) in decisions {
        let labels = vec![
            ("namespace".to_string(), a.namespace.clone()),
            ("autoscaler".to_string(), a.name.clone()),
        ];
        if let Some(d) = v["desiredReplicas"].as_i64() {
            gauges.desired.get_or_create(&labels).set(d);
        }
        if let Some(c) = v["currentReplicas"].as_i64() {
            gauges.current.get_or_create(&labels).set(c);
        }
        let mut entry = v;
        entry["autoscaler"] = json!(a.name);
        entry["namespace"] = json!(a.namespace);
        p.decisions.insert((a.namespace, a.name), entry);
    }
}

#[derive(Clone)]
struct AppState {
    published: Arc<Mutex<Published>>,
    gauges: Arc<Gauges>,
}

fn router(state: AppState) -> Router {
    Router::new()
        .route("/api/v1/autoscale", get(api_decisions))
        .route("/metrics", get(metrics))
        .with_state(state)
}

async fn api_decisions(State(s): State<AppState>) -> axum::Json<Value> {
    let p = s.published.lock().unwrap_or_else(|e| e.into_inner());
    axum::Json(json!({"status": "success", "data": p.list()}))
}

async fn metrics(State(s): State<AppState>) -> String {
    let mut out = String::new();
    let _ = encode(&mut out, &s.gauges.registry);
    out
}

/// Runs the loop (or one round with `once`, printing it).
///
/// # Errors
/// The listener cannot bind, or `--apply` has no Kubernetes client.
pub(crate) async fn run(
    eval: Evaluator,
    config: Config,
    listen: std::net::SocketAddr,
    apply: bool,
    once: bool,
) -> Result<()> {
    let client = if apply {
        Some(
            collector::k8s::client(None, None)
                .await
                .context("--apply")?,
        )
    } else {
        None
    };
    let eval = Arc::new(eval);
    if once {
        let mut memory = BTreeMap::new();
        let now = model::now_ms();
        let decisions = round(&eval, &config, &mut memory, client.as_ref(), now).await;
        let list: Vec<Value> = decisions.into_iter().map(|(_, v)| v).collect();
        println!("{}", serde_json::to_string_pretty(&list)?);
        return Ok(());
    }
    let state = AppState {
        published: Arc::new(Mutex::new(Published::default())),
        gauges: Arc::new(Gauges::new()),
    };
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("listening on {listen}"))?;
    tracing::info!(%listen, "promlet autoscale run: serving /api/v1/autoscale");
    let server = axum::serve(listener, router(state.clone()))
        .with_graceful_shutdown(crate::commands::serve::shutdown_signal());
    let worker = decide_forever(
        eval,
        config,
        client,
        state.published.clone(),
        state.gauges.clone(),
    );
    tokio::select! {
        r = server => r.context("serving")?,
        () = worker => {}
    }
    Ok(())
}

/// Decides every interval, forever, publishing into `published` and `gauges`.
async fn decide_forever(
    eval: Arc<Evaluator>,
    config: Config,
    client: Option<kube::Client>,
    published: Arc<Mutex<Published>>,
    gauges: Arc<Gauges>,
) {
    let mut memory = BTreeMap::new();
    let interval = std::time::Duration::from_millis(config.interval_ms.unsigned_abs());
    let mut tick = tokio::time::interval(interval);
    loop {
        tick.tick().await;
        let now = model::now_ms();
        let decisions = round(&eval, &config, &mut memory, client.as_ref(), now).await;
        publish(&published, &gauges, decisions);
    }
}

/// Starts the loop inside another server (`promlet serve --autoscale.config`), deciding
/// from `eval` without applying; returns the decisions it publishes.
pub(crate) fn spawn(eval: Evaluator, config: Config) -> Arc<Mutex<Published>> {
    let published = Arc::new(Mutex::new(Published::default()));
    let gauges = Arc::new(Gauges::new());
    tokio::spawn(decide_forever(
        Arc::new(eval),
        config,
        None,
        published.clone(),
        gauges,
    ));
    published
}
