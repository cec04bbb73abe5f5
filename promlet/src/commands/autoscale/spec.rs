//! An `autoscaling/v2` HorizontalPodAutoscaler's spec as the algorithm's [`Spec`], with the
//! API server's defaults (minReplicas 1, cpu at 80%, behavior parts filled in).

use autoscale::{MetricSpec, Policy, PolicyKind, SelectPolicy, Spec, Target};
use k8s_openapi::api::autoscaling::v2 as hpa;

use super::state::target_of;

/// The algorithm's spec of `s`; errors name the field (`hpa.spec.metrics[0].resource.target`).
pub(crate) fn spec_of(s: &hpa::HorizontalPodAutoscalerSpec) -> Result<Spec, String> {
    let metrics = match s.metrics.as_deref() {
        None | Some([]) => vec![MetricSpec::Resource {
            name: "cpu".into(),
            target: Target::Utilization(80),
        }],
        Some(list) => list
            .iter()
            .enumerate()
            .map(|(i, m)| metric_of(m, &format!("hpa.spec.metrics[{i}]")))
            .collect::<Result<_, _>>()?,
    };
    let behavior = s
        .behavior
        .as_ref()
        .map(|b| {
            Ok::<_, String>(autoscale::defaults::behavior(
                b.scale_up
                    .as_ref()
                    .map(|r| rules_of(r, "hpa.spec.behavior.scaleUp"))
                    .transpose()?,
                b.scale_down
                    .as_ref()
                    .map(|r| rules_of(r, "hpa.spec.behavior.scaleDown"))
                    .transpose()?,
            ))
        })
        .transpose()?;
    let min_replicas = s.min_replicas.unwrap_or(1);
    if s.max_replicas < min_replicas.max(1) {
        return Err(format!(
            "hpa.spec.maxReplicas: {} is less than minReplicas {min_replicas}",
            s.max_replicas
        ));
    }
    Ok(Spec {
        min_replicas,
        max_replicas: s.max_replicas,
        metrics,
        behavior,
    })
}

fn metric_of(m: &hpa::MetricSpec, field: &str) -> Result<MetricSpec, String> {
    let missing = |key: &str| format!("{field}.{key}: missing for type {}", m.type_);
    match m.type_.as_str() {
        "Resource" => {
            let r = m.resource.as_ref().ok_or_else(|| missing("resource"))?;
            Ok(MetricSpec::Resource {
                name: r.name.clone(),
                target: target_of(&r.target, &format!("{field}.resource.target"))?,
            })
        }
        "ContainerResource" => {
            let r = m
                .container_resource
                .as_ref()
                .ok_or_else(|| missing("containerResource"))?;
            Ok(MetricSpec::ContainerResource {
                name: r.name.clone(),
                container: r.container.clone(),
                target: target_of(&r.target, &format!("{field}.containerResource.target"))?,
            })
        }
        "Pods" => {
            let p = m.pods.as_ref().ok_or_else(|| missing("pods"))?;
            Ok(MetricSpec::Pods {
                metric: p.metric.name.clone(),
                target: target_of(&p.target, &format!("{field}.pods.target"))?,
            })
        }
        "Object" => {
            let o = m.object.as_ref().ok_or_else(|| missing("object"))?;
            let d = &o.described_object;
            Ok(MetricSpec::Object {
                metric: o.metric.name.clone(),
                described_object: format!("{}/{}", d.kind, d.name),
                target: target_of(&o.target, &format!("{field}.object.target"))?,
            })
        }
        "External" => {
            let e = m.external.as_ref().ok_or_else(|| missing("external"))?;
            Ok(MetricSpec::External {
                metric: e.metric.name.clone(),
                target: target_of(&e.target, &format!("{field}.external.target"))?,
            })
        }
        other => Err(format!(
            "{field}.type: {other:?} is not Resource, ContainerResource, Pods, Object or External"
        )),
    }
}

/// One direction's rules as written (pieces left `None` get the defaults).
fn rules_of(
    r: &hpa::HPAScalingRules,
    field: &str,
) -> Result<autoscale::defaults::PartialRules, String> {
    let select_policy = r
        .select_policy
        .as_deref()
        .map(|p| match p {
            "Max" => Ok(SelectPolicy::Max),
            "Min" => Ok(SelectPolicy::Min),
            "Disabled" => Ok(SelectPolicy::Disabled),
            other => Err(format!(
                "{field}.selectPolicy: {other:?} is not Max, Min or Disabled"
            )),
        })
        .transpose()?;
    let policies = r
        .policies
        .as_ref()
        .map(|list| {
            list.iter()
                .enumerate()
                .map(|(i, p)| policy_of(p, &format!("{field}.policies[{i}]")))
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()?;
    let window = r.stabilization_window_seconds;
    if let Some(w) = window
        && !(0..=3600).contains(&w)
    {
        return Err(format!(
            "{field}.stabilizationWindowSeconds: {w} is not within 0..3600"
        ));
    }
    let tolerance = r
        .tolerance
        .as_ref()
        .map(|q| {
            exporter::k8s::format::parse_quantity(&q.0)
                .ok()
                .filter(|t| *t >= 0.0)
                .ok_or_else(|| format!("{field}.tolerance: {:?} is not a quantity >= 0", q.0))
        })
        .transpose()?;
    Ok(autoscale::defaults::PartialRules {
        stabilization_window_seconds: window,
        select_policy,
        policies,
        tolerance,
    })
}

fn policy_of(p: &hpa::HPAScalingPolicy, field: &str) -> Result<Policy, String> {
    let kind = match p.type_.as_str() {
        "Pods" => PolicyKind::Pods,
        "Percent" => PolicyKind::Percent,
        other => return Err(format!("{field}.type: {other:?} is not Pods or Percent")),
    };
    if p.value <= 0 {
        return Err(format!("{field}.value: {} must be greater than 0", p.value));
    }
    if !(1..=1800).contains(&p.period_seconds) {
        return Err(format!(
            "{field}.periodSeconds: {} is not within 1..1800",
            p.period_seconds
        ));
    }
    Ok(Policy {
        kind,
        value: p.value,
        period_seconds: p.period_seconds,
    })
}
