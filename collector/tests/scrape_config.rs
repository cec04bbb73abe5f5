//! The scrape configuration and relabeling, against Prometheus's semantics.

#![allow(clippy::unwrap_used)]

use collector::scrape::config::RelabelConfig;
use collector::scrape::relabel::{self, LabelMap, Rule};
use collector::scrape::target::{self, Outcome};
use collector::scrape::{Config, PromDuration};

const GOOD: &str = r#"
global:
  scrape_interval: 15s
  evaluation_interval: 30s
  external_labels:
    region: eu
scrape_configs:
  - job_name: node
    static_configs:
      - targets: ["localhost:9100", "db"]
        labels: {env: prod}
  - job_name: fast
    scrape_interval: 5s
    metrics_path: /m
    params: {module: [if_mib]}
    honor_labels: true
    basic_auth: {username: u, password: p}
    relabel_configs:
      - source_labels: [__address__]
        regex: "(.*):.*"
        target_label: host
      - action: hashmod
        source_labels: [__address__]
        modulus: 4
        target_label: __tmp_shard
    metric_relabel_configs:
      - action: labeldrop
        regex: junk
    kubernetes_sd_configs:
      - role: pod
        namespaces: {names: [default]}
"#;

#[test]
fn a_good_file_gets_prometheus_defaults() {
    let loaded = Config::load(GOOD).unwrap();
    assert_eq!(loaded.global.external_labels.get("region").unwrap(), "eu");
    let node = &loaded.jobs[0];
    assert_eq!(node.interval.to_string(), "15s");
    assert_eq!(node.timeout.to_string(), "10s");
    assert_eq!(
        (node.metrics_path.as_str(), node.scheme.as_str()),
        ("/metrics", "http")
    );
    assert!(!node.config.honor_labels && node.honor_timestamps);
    let fast = &loaded.jobs[1];
    // The global timeout (10s) is capped at the job's interval.
    assert_eq!(
        (fast.interval.to_string(), fast.timeout.to_string()),
        ("5s".into(), "5s".into())
    );
    assert_eq!(fast.relabel.len(), 2);
    // An empty file is a valid, empty configuration.
    assert!(Config::load("").unwrap().jobs.is_empty());
}

#[test]
fn errors_name_the_key_or_entry() {
    let cases = [
        (
            "scrape_configs:\n  - job_name: a\n    scrape_intervall: 1s\n",
            "scrape_intervall",
        ),
        (
            "global:\n  scrape_interval: 1x\n",
            "not a valid duration string",
        ),
        (
            "global:\n  scrape_interval: 1x\n",
            "global: not a valid duration string: \"1x\" at line 2",
        ),
        (
            "scrape_configs:\n  - job_name: a\n  - job_name: b\n    relabel_configs:\n      - action: foo\n",
            "scrape_configs[1].relabel_configs[0]: unknown relabel action \"foo\"",
        ),
        (
            "scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - regex: \"(\"\n        target_label: x\n",
            "scrape_configs[0].relabel_configs[0]: invalid regex \"(\"",
        ),
        (
            "scrape_configs:\n  - job_name: a\n  - job_name: a\n",
            "found multiple scrape configs with job name \"a\"",
        ),
        (
            "scrape_configs:\n  - job_name: a\n    scrape_interval: 5s\n    scrape_timeout: 6s\n",
            "scrape timeout greater than scrape interval",
        ),
        (
            "scrape_configs:\n  - job_name: a\n    kubernetes_sd_configs:\n      - role: ingress\n",
            "unknown Kubernetes SD role \"ingress\"",
        ),
        (
            "scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - action: hashmod\n        target_label: x\n",
            "requires non-zero modulus",
        ),
        (
            "scrape_configs:\n  - job_name: a\n    scheme: ftp\n",
            "unknown scheme \"ftp\"",
        ),
    ];
    for (text, want) in cases {
        let err = Config::load(text).unwrap_err().to_string();
        assert!(err.contains(want), "{text:?}: {err}");
    }
}

fn rule(yaml: &str) -> Rule {
    let c: RelabelConfig = serde_yaml::from_str(yaml).unwrap();
    Rule::new(&c).unwrap()
}

fn lset(pairs: &[(&str, &str)]) -> LabelMap {
    pairs
        .iter()
        .map(|(n, v)| ((*n).into(), (*v).into()))
        .collect()
}

/// (name, rules, input, expected output or None when dropped); derived from Prometheus's
/// `model/relabel` semantics.
#[test]
fn relabeling_table() {
    type Case = (
        &'static str,
        &'static [&'static str],
        &'static [(&'static str, &'static str)],
        Option<&'static [(&'static str, &'static str)]>,
    );
    let cases: &[Case] = &[
        (
            "replace with groups",
            &[
                "{source_labels: [a], regex: 'f(.*)', target_label: d, replacement: 'ch${1}-ch${1}'}",
            ],
            &[("a", "foo")],
            Some(&[("a", "foo"), ("d", "choo-choo")]),
        ),
        (
            "regex is anchored",
            &["{source_labels: [a], regex: 'o', target_label: d}"],
            &[("a", "foo")],
            Some(&[("a", "foo")]),
        ),
        (
            "separator joins sources, missing is empty",
            &["{source_labels: [a, b, c], target_label: d}"],
            &[("a", "x"), ("b", "y")],
            Some(&[("a", "x"), ("b", "y"), ("d", "x;y;")]),
        ),
        (
            "empty replacement deletes",
            &["{source_labels: [a], regex: '.*', target_label: a, replacement: ''}"],
            &[("a", "x"), ("b", "y")],
            Some(&[("b", "y")]),
        ),
        (
            "target label from a group",
            &["{source_labels: [a], regex: '(.+)=(.+)', target_label: '$1', replacement: '$2'}"],
            &[("a", "k=v")],
            Some(&[("a", "k=v"), ("k", "v")]),
        ),
        (
            "invalid expanded target is skipped",
            &["{source_labels: [a], regex: '(.*)', target_label: '${1}', replacement: 'x'}"],
            &[("a", "1bad")],
            Some(&[("a", "1bad")]),
        ),
        (
            "$1x names group 1x",
            &["{source_labels: [a], target_label: d, replacement: '$1x'}"],
            &[("a", "v")],
            Some(&[("a", "v")]),
        ),
        (
            "keep",
            &["{action: keep, source_labels: [a], regex: 'y.*'}"],
            &[("a", "foo")],
            None,
        ),
        (
            "keep matches",
            &["{action: keep, source_labels: [a], regex: 'f.*'}"],
            &[("a", "foo")],
            Some(&[("a", "foo")]),
        ),
        (
            "drop",
            &["{action: drop, source_labels: [a], regex: 'f.*'}"],
            &[("a", "foo")],
            None,
        ),
        (
            "drop on empty source",
            &["{action: drop, source_labels: [z], regex: ''}"],
            &[("a", "foo")],
            None,
        ),
        (
            "keepequal",
            &["{action: keepequal, source_labels: [a], target_label: b}"],
            &[("a", "1"), ("b", "2")],
            None,
        ),
        (
            "dropequal",
            &["{action: dropequal, source_labels: [a], target_label: b}"],
            &[("a", "1"), ("b", "2")],
            Some(&[("a", "1"), ("b", "2")]),
        ),
        (
            "lowercase",
            &["{action: lowercase, source_labels: [a], target_label: b}"],
            &[("a", "FoO")],
            Some(&[("a", "FoO"), ("b", "foo")]),
        ),
        (
            "uppercase",
            &["{action: uppercase, source_labels: [a], target_label: a}"],
            &[("a", "FoO")],
            Some(&[("a", "FOO")]),
        ),
        (
            "labelmap",
            &["{action: labelmap, regex: '__meta_(.+)'}"],
            &[("__meta_zone", "z1"), ("a", "1")],
            Some(&[("__meta_zone", "z1"), ("a", "1"), ("zone", "z1")]),
        ),
        (
            "labelmap with replacement",
            &["{action: labelmap, regex: 'a(.*)', replacement: 'b_$1'}"],
            &[("ax", "1")],
            Some(&[("ax", "1"), ("b_x", "1")]),
        ),
        (
            "labeldrop",
            &["{action: labeldrop, regex: 'a.*'}"],
            &[("ab", "1"), ("b", "2")],
            Some(&[("b", "2")]),
        ),
        (
            "labelkeep",
            &["{action: labelkeep, regex: 'a.*'}"],
            &[("ab", "1"), ("b", "2")],
            Some(&[("ab", "1")]),
        ),
        (
            "rules run in order",
            &[
                "{source_labels: [a], target_label: b}",
                "{action: keep, source_labels: [b], regex: 'x'}",
            ],
            &[("a", "x")],
            Some(&[("a", "x"), ("b", "x")]),
        ),
    ];
    for (name, rules, input, want) in cases {
        let rules: Vec<Rule> = rules.iter().map(|r| rule(r)).collect();
        let mut lb = lset(input);
        let kept = relabel::process(&rules, &mut lb);
        match want {
            None => assert!(!kept, "{name}: expected drop, got {lb:?}"),
            Some(w) => {
                assert!(kept, "{name}: dropped");
                assert_eq!(lb, lset(w), "{name}");
            }
        }
    }
}

#[test]
fn hashmod_uses_the_low_8_bytes_of_md5() {
    // md5("foo") = acbd18db4cc2f85c edef654fccc4a4d8 (hex); the last 8 bytes big-endian.
    let low = 0xedef_654f_ccc4_a4d8u64;
    assert_eq!(low % 1000, 696);
    assert_eq!(relabel::hash_mod("foo", 1000), low % 1000);
    let r = rule("{action: hashmod, source_labels: [a], modulus: 1000, target_label: s}");
    let mut lb = lset(&[("a", "foo")]);
    assert!(r.apply(&mut lb));
    assert_eq!(lb.get("s").unwrap(), &(low % 1000).to_string());
}

#[test]
fn invalid_rules_get_prometheus_messages() {
    for (yaml, want) in [
        (
            "{action: replace}",
            "relabel configuration for replace action requires 'target_label' value",
        ),
        (
            "{target_label: '1x'}",
            "\"1x\" is invalid 'target_label' for replace action",
        ),
        (
            "{action: lowercase, source_labels: [a], target_label: b, replacement: x}",
            "'replacement' can not be set for lowercase action",
        ),
        (
            "{action: labeldrop, regex: a, source_labels: [b]}",
            "labeldrop action requires only 'regex', and no other fields",
        ),
        (
            "{action: keepequal, source_labels: [a], target_label: b, regex: x}",
            "keepequal action requires only 'source_labels'",
        ),
        (
            "{action: labelmap, replacement: '-'}",
            "\"-\" is invalid 'replacement' for labelmap action",
        ),
        (
            "{source_labels: ['a-b'], target_label: x}",
            "\"a-b\" is not a valid label name",
        ),
    ] {
        let c: RelabelConfig = serde_yaml::from_str(yaml).unwrap();
        let err = Rule::new(&c).unwrap_err();
        assert!(err.contains(want), "{yaml}: {err}");
    }
}

#[test]
fn targets_get_prometheus_labels_and_urls() {
    let loaded = Config::load(GOOD).unwrap();
    let node = &loaded.jobs[0];
    let found = target::static_targets(node);
    assert_eq!(found.len(), 2);
    let Outcome::Active(t) = target::populate(&found[1], node).unwrap() else {
        panic!("dropped")
    };
    // An address without a port gets the scheme's default port (Prometheus 2.x).
    assert_eq!(
        t.labels(),
        lset(&[("env", "prod"), ("instance", "db:80"), ("job", "node")])
    );
    assert_eq!(t.url(&node.config.params), "http://db:80/metrics");
    assert_eq!(t.discovered.get("__scrape_interval__").unwrap(), "15s");
    let fast = &loaded.jobs[1];
    let Outcome::Active(f) = target::populate(&lset(&[("__address__", "h:1")]), fast).unwrap()
    else {
        panic!("dropped")
    };
    assert_eq!(f.url(&fast.config.params), "http://h:1/m?module=if_mib");
    assert_eq!(f.labels().get("host").unwrap(), "h");
    assert!(!f.labels().contains_key("__tmp_shard"));
    assert_eq!(PromDuration::parse("1m").unwrap().to_string(), "1m");
}

/// Roles Prometheus knows and promlet discovers load, selectors for every role included.
#[test]
fn kubernetes_roles_load() {
    for role in ["pod", "node", "endpoints"] {
        let text = format!(
            "scrape_configs:\n  - job_name: a\n    kubernetes_sd_configs:\n      - role: {role}\n        selectors:\n          - role: {role}\n            label: a=b\n"
        );
        let loaded = Config::load(&text).unwrap_or_else(|e| panic!("{role}: {e}"));
        assert_eq!(loaded.jobs[0].config.kubernetes_sd_configs[0].role, role);
    }
}
