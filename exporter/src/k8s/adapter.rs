//! prometheus-adapter's rule file (`rules`, `externalRules`), compiled: which stored series a
//! rule exposes (`seriesQuery`, `seriesFilters`), as which metric (`name.matches`/`as`), for
//! which Kubernetes resources (`resources.overrides`), and the PromQL it runs
//! (`metricsQuery`, a template of `<<.Series>>`, `<<.LabelMatchers>>` and `<<.GroupBy>>`).
//!
//! Not supported, and rejected with an error naming them: `resources.template` and any other
//! template field. `resourceRules` is accepted and ignored (promlet serves `metrics.k8s.io`
//! itself).

use std::collections::BTreeMap;

use model::{MatchOp, Matcher, Queryable};
use regex::Regex;
use serde::Deserialize;

/// The rule file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct File {
    #[serde(default)]
    rules: Vec<RuleConfig>,
    #[serde(default)]
    external_rules: Vec<RuleConfig>,
    #[serde(default)]
    resource_rules: Option<serde_yaml::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RuleConfig {
    series_query: String,
    #[serde(default)]
    series_filters: Vec<FilterConfig>,
    #[serde(default)]
    resources: ResourcesConfig,
    #[serde(default)]
    name: NameConfig,
    metrics_query: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct FilterConfig {
    is: Option<String>,
    is_not: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ResourcesConfig {
    #[serde(default)]
    overrides: BTreeMap<String, ResourceRef>,
    template: Option<String>,
    namespaced: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ResourceRef {
    #[serde(default)]
    group: String,
    resource: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct NameConfig {
    matches: Option<String>,
    #[serde(rename = "as")]
    as_: Option<String>,
}

/// A compiled rule.
#[derive(Debug)]
pub struct Rule {
    series: Vec<Matcher>,
    filters: Vec<(Regex, bool)>,
    /// Series label → resource (singular, lower case, e.g. `pod`, `namespace`, `deployment`).
    pub resources: BTreeMap<String, String>,
    /// Whether `namespace="<ns>"` is added (external rules can turn it off).
    pub namespaced: bool,
    matches: Regex,
    as_: String,
    query: String,
}

/// A metric a rule exposes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Discovered {
    /// The exposed name.
    pub name: String,
    /// The stored series name it comes from.
    pub series: String,
    /// The rule's index.
    pub rule: usize,
}

/// Both rule lists.
#[derive(Debug, Default)]
pub struct Adapter {
    /// `rules`: custom metrics.
    pub custom: Vec<Rule>,
    /// `externalRules`.
    pub external: Vec<Rule>,
}

/// A rule file error, naming the rule and key.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct AdapterError(pub String);

impl Adapter {
    /// Parses and compiles a rule file.
    ///
    /// # Errors
    /// YAML errors (with line and column), unknown keys, bad regexes, selectors or templates.
    pub fn load(text: &str) -> Result<Adapter, AdapterError> {
        let file: File = serde_yaml::from_str(text).map_err(|e| AdapterError(e.to_string()))?;
        if file.resource_rules.is_some() {
            tracing::info!("resourceRules ignored: promlet serves metrics.k8s.io itself");
        }
        let compile = |list: Vec<RuleConfig>, what: &str| {
            list.into_iter()
                .enumerate()
                .map(|(i, r)| compile(r).map_err(|e| AdapterError(format!("{what}[{i}].{e}"))))
                .collect::<Result<Vec<_>, _>>()
        };
        Ok(Adapter {
            custom: compile(file.rules, "rules")?,
            external: compile(file.external_rules, "externalRules")?,
        })
    }
}

fn compile(r: RuleConfig) -> Result<Rule, String> {
    let series = match query::parse(&r.series_query) {
        Ok(query::Expr::VectorSelector { matchers, .. }) => matchers,
        Ok(_) => return Err("seriesQuery: not a series selector".into()),
        Err(e) => return Err(format!("seriesQuery: {e}")),
    };
    let mut filters = Vec::new();
    for f in r.series_filters {
        for (re, keep) in [(f.is, true), (f.is_not, false)] {
            if let Some(re) = re {
                let re = Regex::new(&re).map_err(|e| format!("seriesFilters: {e}"))?;
                filters.push((re, keep));
            }
        }
    }
    if r.resources.template.is_some() {
        return Err("resources.template: not supported; use resources.overrides".into());
    }
    let resources = r
        .resources
        .overrides
        .into_iter()
        .map(|(label, res)| (label, singular(&res.resource, &res.group)))
        .collect();
    let matches = r.name.matches.as_deref().unwrap_or(".*");
    let matches = Regex::new(matches).map_err(|e| format!("name.matches: {e}"))?;
    let as_ = match r.name.as_ {
        Some(a) => a,
        None if matches.captures_len() > 2 => {
            return Err("name.as: required when name.matches has several groups".into());
        }
        None if matches.captures_len() == 2 => "${1}".into(),
        None => "${0}".into(),
    };
    check_template(&r.metrics_query).map_err(|e| format!("metricsQuery: {e}"))?;
    Ok(Rule {
        series,
        filters,
        resources,
        namespaced: r.resources.namespaced.unwrap_or(true),
        matches,
        as_,
        query: r.metrics_query,
    })
}

/// A resource name as the rules and URLs compare it: lower case, singular, no group.
pub fn singular(resource: &str, _group: &str) -> String {
    let r = resource
        .split('.')
        .next()
        .unwrap_or(resource)
        .to_ascii_lowercase();
    if let Some(stem) = r.strip_suffix("sses") {
        format!("{stem}ss")
    } else if let Some(stem) = r.strip_suffix("ies") {
        format!("{stem}y")
    } else if r.ends_with("ss") {
        r
    } else {
        r.strip_suffix('s').map(str::to_string).unwrap_or(r)
    }
}

const FIELDS: [&str; 3] = ["<<.Series>>", "<<.LabelMatchers>>", "<<.GroupBy>>"];

fn check_template(t: &str) -> Result<(), String> {
    let mut rest = t;
    while let Some(i) = rest.find("<<") {
        let tail = &rest[i..];
        let Some(field) = FIELDS.iter().find(|f| tail.starts_with(**f)) else {
            let end = tail.find(">>").map_or(tail.len(), |e| e + 2);
            return Err(format!("unsupported template field {}", &tail[..end]));
        };
        rest = &tail[field.len()..];
    }
    Ok(())
}

impl Rule {
    /// The metrics this rule exposes among the series stored in `[mint, maxt]`.
    ///
    /// # Errors
    /// A storage failure, as a message.
    pub fn discover(
        &self,
        storage: &dyn Queryable,
        mint: i64,
        maxt: i64,
        rule: usize,
    ) -> Result<Vec<Discovered>, String> {
        let q = storage.querier(mint, maxt).map_err(|e| e.to_string())?;
        let names = q
            .label_values(model::METRIC_NAME, &self.series)
            .map_err(|e| e.to_string())?;
        let mut out = Vec::new();
        for series in names {
            if !self
                .filters
                .iter()
                .all(|(re, keep)| re.is_match(&series) == *keep)
            {
                continue;
            }
            if let Some(caps) = self.matches.captures(&series) {
                let mut name = String::new();
                caps.expand(&self.as_, &mut name);
                out.push(Discovered { name, series, rule });
            }
        }
        Ok(out)
    }

    /// The label holding the names of `resource` (singular), if the rule maps one.
    pub fn label_for(&self, resource: &str) -> Option<&str> {
        self.resources
            .iter()
            .find(|(_, r)| *r == resource)
            .map(|(l, _)| l.as_str())
    }

    /// The PromQL for `series` restricted by `matchers` and grouped by `group_by`.
    pub fn render(&self, series: &str, matchers: &[Matcher], group_by: &str) -> String {
        let matchers: Vec<String> = matchers.iter().map(render_matcher).collect();
        self.query
            .replace("<<.Series>>", series)
            .replace("<<.LabelMatchers>>", &matchers.join(","))
            .replace("<<.GroupBy>>", group_by)
    }
}

fn render_matcher(m: &Matcher) -> String {
    let op = match m.op {
        MatchOp::Equal => "=",
        MatchOp::NotEqual => "!=",
        MatchOp::Regex => "=~",
        MatchOp::NotRegex => "!~",
    };
    let value = m.value.replace('\\', "\\\\").replace('"', "\\\"");
    format!("{}{op}\"{value}\"", m.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CANONICAL: &str = r#"
rules:
- seriesQuery: 'http_requests_total{kubernetes_namespace!="",kubernetes_pod_name!=""}'
  resources: {overrides: {kubernetes_namespace: {resource: "namespace"}, kubernetes_pod_name: {resource: "pod"}}}
  name: {matches: "^(.*)_total", as: "${1}_per_second"}
  metricsQuery: 'sum(rate(<<.Series>>{<<.LabelMatchers>>}[2m])) by (<<.GroupBy>>)'
externalRules:
- seriesQuery: '{__name__="queue_consumer_lag",name!=""}'
  metricsQuery: sum(<<.Series>>{<<.LabelMatchers>>}) by (name)
  resources: {overrides: {namespace: {resource: "namespace"}}}
"#;

    #[test]
    fn canonical_rules_compile_and_render() {
        let a = Adapter::load(CANONICAL).unwrap_or_else(|e| panic!("{e}"));
        let r = &a.custom[0];
        assert_eq!(r.label_for("pod"), Some("kubernetes_pod_name"));
        assert_eq!(r.label_for("namespace"), Some("kubernetes_namespace"));
        let m = [
            Matcher::new(MatchOp::Equal, "kubernetes_namespace", "default")
                .unwrap_or_else(|e| panic!("{e}")),
            Matcher::new(MatchOp::Regex, "kubernetes_pod_name", "a|b")
                .unwrap_or_else(|e| panic!("{e}")),
        ];
        assert_eq!(
            r.render("http_requests_total", &m, "kubernetes_pod_name"),
            r#"sum(rate(http_requests_total{kubernetes_namespace="default",kubernetes_pod_name=~"a|b"}[2m])) by (kubernetes_pod_name)"#
        );
        assert_eq!(a.external.len(), 1);
    }

    #[test]
    fn errors_name_the_rule_and_key() {
        let bad = "rules:\n- seriesQuery: 'x'\n  metricsQuery: '<<.LabelValuesByName>>'\n";
        let e = Adapter::load(bad).map(|_| ()).unwrap_err().to_string();
        assert!(
            e.starts_with(
                "rules[0].metricsQuery: unsupported template field <<.LabelValuesByName>>"
            ),
            "{e}"
        );
        let unknown = "rules:\n- seriesQuery: 'x'\n  metricQuery: 'x'\n";
        let e = Adapter::load(unknown).map(|_| ()).unwrap_err().to_string();
        assert!(e.contains("metricQuery"), "{e}");
        let several =
            "rules:\n- seriesQuery: 'x'\n  name: {matches: '(a)(b)'}\n  metricsQuery: 'x'\n";
        assert!(Adapter::load(several).is_err());
    }

    #[test]
    fn resource_names_compare_singular() {
        assert_eq!(singular("pods", ""), "pod");
        assert_eq!(singular("pod", ""), "pod");
        assert_eq!(singular("deployments.apps", ""), "deployment");
        assert_eq!(singular("ingresses.networking.k8s.io", ""), "ingress");
        assert_eq!(singular("namespaces", ""), "namespace");
        assert_eq!(singular("Services", ""), "service");
    }
}
