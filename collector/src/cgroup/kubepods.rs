//! Maps a cgroup path to the pod and container the kubelet made it for.
//!
//! Both cgroup drivers are understood:
//!
//! - systemd: `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<uid_>.slice/cri-containerd-<id>.scope`
//!   (also `crio-<id>.scope`, `docker-<id>.scope`, `libpod-<id>.scope`, and
//!   `…pod<uid_>.slice:cri-containerd:<id>` when containerd itself uses cgroupfs);
//! - cgroupfs: `/kubepods/burstable/pod<uid>/<id>` (also `crio-<id>`).
//!
//! Guaranteed pods sit directly under `kubepods`. A `--cgroup-root` prefix before `kubepods` is
//! allowed. Conmon scopes (`crio-conmon-<id>.scope`) are not containers.

/// The QoS class of a pod, from the kubepods level its cgroup sits under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Qos {
    /// Directly under `kubepods`.
    Guaranteed,
    /// Under `kubepods/burstable`.
    Burstable,
    /// Under `kubepods/besteffort`.
    BestEffort,
}

impl Qos {
    /// The label value: `guaranteed`, `burstable` or `besteffort`.
    pub fn as_str(self) -> &'static str {
        match self {
            Qos::Guaranteed => "guaranteed",
            Qos::Burstable => "burstable",
            Qos::BestEffort => "besteffort",
        }
    }
}

/// The container runtime a scope name reveals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runtime {
    /// `cri-containerd-<id>.scope` or `:cri-containerd:<id>`.
    Containerd,
    /// `crio-<id>.scope` or `crio-<id>`.
    CriO,
    /// `docker-<id>.scope` (docker or cri-dockerd).
    Docker,
    /// `libpod-<id>.scope` (podman).
    Podman,
}

impl Runtime {
    /// The label value, as in a CRI `containerID` scheme (`containerd`, `cri-o`, `docker`, `podman`).
    pub fn as_str(self) -> &'static str {
        match self {
            Runtime::Containerd => "containerd",
            Runtime::CriO => "cri-o",
            Runtime::Docker => "docker",
            Runtime::Podman => "podman",
        }
    }
}

/// A container cgroup inside a pod cgroup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerRef {
    /// The 64-hex-digit runtime container ID (for pause/sandbox containers too).
    pub id: String,
    /// The runtime, when the name says (a bare cgroupfs ID does not).
    pub runtime: Option<Runtime>,
}

/// What a kubelet cgroup path says about its pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodRef {
    /// The pod UID with dashes (`metadata.uid`).
    pub uid: String,
    /// The QoS class.
    pub qos: Qos,
    /// The container, when the path is a container cgroup directly below the pod cgroup.
    pub container: Option<ContainerRef>,
}

/// Parses a cgroup path (`/`-separated, as in cAdvisor's `id` label). `None` when the path is not
/// a pod cgroup or a container cgroup below one.
pub fn parse(path: &str) -> Option<PodRef> {
    let mut parts = path.split('/').filter(|c| !c.is_empty());
    let mut prev: Option<&str> = None;
    let mut seen_kubepods = false;
    while let Some(comp) = parts.next() {
        seen_kubepods |= comp.contains("kubepods");
        // `…pod<uid_>.slice:cri-containerd:<id>`: pod and container in one component.
        let (pod_part, inline) = match comp.split_once(':') {
            Some((p, rest)) => (p, Some(rest)),
            None => (comp, None),
        };
        if seen_kubepods && let Some((uid, qos)) = pod_component(pod_part, prev) {
            let container = match (inline, parts.next(), parts.next()) {
                (Some(rest), None, _) => {
                    let id = rest.strip_prefix("cri-containerd:")?;
                    Some(container(id, Some(Runtime::Containerd))?)
                }
                (None, None, _) => None,
                (None, Some(c), None) => Some(container_component(c)?),
                _ => return None,
            };
            return Some(PodRef {
                uid,
                qos,
                container,
            });
        }
        prev = Some(comp);
    }
    None
}

/// A pod directory: systemd `…-pod<uid_>.slice` or cgroupfs `pod<uid>`.
fn pod_component(comp: &str, parent: Option<&str>) -> Option<(String, Qos)> {
    if let Some(stem) = comp.strip_suffix(".slice") {
        let at = stem.rfind("pod")?;
        let (head, uid) = (&stem[..at], &stem[at + 3..]);
        if !(head.is_empty() || head.ends_with('-')) || !is_uid(uid, '_') {
            return None;
        }
        let qos = if head.ends_with("-burstable-") {
            Qos::Burstable
        } else if head.ends_with("-besteffort-") {
            Qos::BestEffort
        } else {
            Qos::Guaranteed
        };
        return Some((uid.replace('_', "-"), qos));
    }
    let uid = comp.strip_prefix("pod")?;
    if !is_uid(uid, '-') {
        return None;
    }
    let qos = match parent {
        Some("burstable") => Qos::Burstable,
        Some("besteffort") => Qos::BestEffort,
        _ => Qos::Guaranteed,
    };
    Some((uid.to_string(), qos))
}

fn is_uid(s: &str, sep: char) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars().all(|c| c.is_ascii_hexdigit() || c == sep)
        && s.chars().any(|c| c.is_ascii_hexdigit())
}

/// A container directory below a pod directory.
fn container_component(comp: &str) -> Option<ContainerRef> {
    let stem = comp.strip_suffix(".scope").unwrap_or(comp);
    const PREFIXES: [(&str, Runtime); 4] = [
        ("cri-containerd-", Runtime::Containerd),
        ("crio-", Runtime::CriO),
        ("docker-", Runtime::Docker),
        ("libpod-", Runtime::Podman),
    ];
    for (prefix, runtime) in PREFIXES {
        if let Some(id) = stem.strip_prefix(prefix) {
            return container(id, Some(runtime));
        }
    }
    container(stem, None)
}

fn container(id: &str, runtime: Option<Runtime>) -> Option<ContainerRef> {
    let hex = id.len() == 64 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    hex.then(|| ContainerRef {
        id: id.to_string(),
        runtime,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    const UID: &str = "1234abcd-5678-90ef-1234-567890abcdef";
    const UID_: &str = "1234abcd_5678_90ef_1234_567890abcdef";

    fn pod(qos: Qos, c: Option<(&str, Option<Runtime>)>) -> Option<PodRef> {
        Some(PodRef {
            uid: UID.into(),
            qos,
            container: c.map(|(id, runtime)| ContainerRef {
                id: id.into(),
                runtime,
            }),
        })
    }

    #[test]
    fn layouts() {
        use Qos::*;
        use Runtime::*;
        let cases: Vec<(&str, String, Option<PodRef>)> = vec![
            ("root", "/".into(), None),
            (
                "qos slice",
                "/kubepods.slice/kubepods-burstable.slice".into(),
                None,
            ),
            (
                "systemd burstable pod",
                format!(
                    "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{UID_}.slice"
                ),
                pod(Burstable, None),
            ),
            (
                "systemd guaranteed containerd",
                format!("/kubepods.slice/kubepods-pod{UID_}.slice/cri-containerd-{ID}.scope"),
                pod(Guaranteed, Some((ID, Some(Containerd)))),
            ),
            (
                "systemd besteffort crio",
                format!(
                    "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod{UID_}.slice/crio-{ID}.scope"
                ),
                pod(BestEffort, Some((ID, Some(CriO)))),
            ),
            (
                "systemd docker",
                format!(
                    "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{UID_}.slice/docker-{ID}.scope"
                ),
                pod(Burstable, Some((ID, Some(Docker)))),
            ),
            (
                "crio conmon is not a container",
                format!("/kubepods.slice/kubepods-pod{UID_}.slice/crio-conmon-{ID}.scope"),
                None,
            ),
            (
                "containerd cgroupfs under systemd names",
                format!("/kubepods.slice/kubepods-pod{UID_}.slice:cri-containerd:{ID}"),
                pod(Guaranteed, Some((ID, Some(Containerd)))),
            ),
            (
                "cgroupfs burstable",
                format!("/kubepods/burstable/pod{UID}/{ID}"),
                pod(Burstable, Some((ID, None))),
            ),
            (
                "cgroupfs guaranteed crio",
                format!("/kubepods/pod{UID}/crio-{ID}"),
                pod(Guaranteed, Some((ID, Some(CriO)))),
            ),
            (
                "cgroupfs besteffort pod",
                format!("/kubepods/besteffort/pod{UID}"),
                pod(BestEffort, None),
            ),
            (
                "cgroup-root prefix",
                format!(
                    "/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod{UID_}.slice"
                ),
                pod(BestEffort, None),
            ),
            (
                "pod outside kubepods",
                format!("/system.slice/pod{UID}"),
                None,
            ),
            ("too deep", format!("/kubepods/pod{UID}/{ID}/x"), None),
            ("short id", format!("/kubepods/pod{UID}/abc"), None),
        ];
        for (name, path, want) in cases {
            assert_eq!(parse(&path), want, "{name}: {path}");
        }
    }
}
