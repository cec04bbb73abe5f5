//! Pod metadata through the Kubernetes API: `KubePodMetadata` lists and watches the pods of
//! one node from a fake API server, and the cgroup collector on a kubelet fixture tree names
//! its series by them; a DELETED event takes the names away.

#[path = "fixtures/k8s/fake_api.rs"]
mod fake_api;
#[path = "fixtures/cgroup/gen.rs"]
mod fixture_gen;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use collector::cgroup::{CgroupCollector, Config};
use collector::k8s::{self, KubePodMetadata};
use collector::{Collect, Family};
use fake_api::FakeApi;
use fixture_gen::{container_id, pod_uid};

type LabelMap = BTreeMap<String, String>;

/// Polls `cond` every 10 ms until it holds; fails after 20 s.
async fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The labels of `container_memory_working_set_bytes` for the cgroup of `container`.
fn labels_of(c: &CgroupCollector, container: &str) -> LabelMap {
    let mut fams: Vec<Family> = Vec::new();
    c.collect(&mut fams).unwrap_or_else(|e| panic!("{e}"));
    let fam = fams
        .iter()
        .find(|f| f.name == "container_memory_working_set_bytes")
        .unwrap_or_else(|| panic!("no working set family"));
    let s = fam
        .samples
        .iter()
        .find(|s| {
            s.labels
                .iter()
                .any(|(k, v)| k == "container_id" && v == container)
        })
        .unwrap_or_else(|| panic!("no series for container {container}"));
    s.labels.to_vec().into_iter().collect()
}

fn names(l: &LabelMap) -> Vec<(&str, &str)> {
    ["namespace", "pod", "container", "image"]
        .iter()
        .filter_map(|k| l.get(*k).map(|v| (*k, v.as_str())))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pods_of_the_node_name_cgroup_series() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    fixture_gen::v2_kubepods(dir.path(), 2, 2);

    let web = fake_api::object("pod-web-0.json", 9113);
    let api = FakeApi::start(vec![("/api/v1/pods", fake_api::list("PodList", vec![web]))]).await;
    let client = k8s::client(Some(&api.url()), None)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let meta = Arc::new(KubePodMetadata::start(client, "node-1"));
    let c = CgroupCollector::new(Config::at(dir.path()))
        .unwrap_or_else(|e| panic!("{e}"))
        .with_metadata(meta.clone());

    wait_for("the first list", || meta.synced()).await;
    let first = api.requests();
    assert!(
        first[0].starts_with("/api/v1/pods?")
            && first[0].contains("fieldSelector=spec.nodeName%3Dnode-1")
            && !first[0].contains("watch"),
        "list request: {first:?}"
    );

    // Listed pod: names from the list.
    let web_c = labels_of(&c, &container_id(0));
    assert_eq!(
        names(&web_c),
        [
            ("namespace", "default"),
            ("pod", "web-0"),
            ("container", "nginx"),
            ("image", "docker.io/library/nginx:1.27"),
        ]
    );
    assert_eq!(web_c["pod_uid"], pod_uid(0));
    // The sandbox has no name in the status: pod names only.
    assert_eq!(
        names(&labels_of(&c, &container_id(1))),
        [("namespace", "default"), ("pod", "web-0")]
    );
    // Not yet known.
    assert!(names(&labels_of(&c, &container_id(2))).is_empty());

    // ADDED through the watch.
    let agent = fake_api::object("pod-agent.json", 0);
    api.event("/api/v1/pods", "ADDED", agent.clone());
    wait_for("the ADDED pod", || meta.pod_count() == 2).await;
    let watches: Vec<String> = api
        .requests()
        .into_iter()
        .filter(|r| r.contains("watch=true") || r.contains("watch=1"))
        .collect();
    assert!(
        watches
            .iter()
            .all(|r| r.contains("fieldSelector=spec.nodeName%3Dnode-1")),
        "watch requests: {watches:?}"
    );
    assert_eq!(
        names(&labels_of(&c, &container_id(2))),
        [
            ("namespace", "monitoring"),
            ("pod", "promlet-agent-x7k2p"),
            ("container", "agent"),
            ("image", "ghcr.io/promlet/promlet:0.1.0"),
        ]
    );

    // DELETED: the names go; the cgroup (still on disk here) keeps only its kubelet labels.
    api.event("/api/v1/pods", "DELETED", agent);
    wait_for("the DELETED pod", || meta.pod_count() == 1).await;
    let gone = labels_of(&c, &container_id(2));
    assert!(names(&gone).is_empty(), "{gone:?}");
    assert_eq!(gone["pod_uid"], pod_uid(1));
    assert_eq!(names(&labels_of(&c, &container_id(0))).len(), 4);
}
