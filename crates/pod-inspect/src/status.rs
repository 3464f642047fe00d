//! `status`: every pod and job of the release, what state each container is in, and whether
//! the whole release is healthy.

use airflow_kit_core::report_node::to_node;
use airflow_kit_core::yaml::emit_document;
use airflow_kit_core::{Error, Mapping, Node, NodeKind};
use serde::{Deserialize, Serialize};

use crate::kubectl::Kubectl;
use crate::model::{ContainerStatus, Job, List, Pod};

/// The pods and jobs of one release, as read in one go.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub release: String,
    pub namespace: String,
    pub pods: Vec<Pod>,
    pub jobs: Vec<Job>,
}

/// One thing that keeps the release from being healthy; `status`, `wait` and `diagnose`
/// report it as it is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Problem {
    /// `pod/<name>` or `job/<name>`.
    pub object: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// True when waiting cannot make it go away (a pull error, a failed job).
    pub terminal: bool,
}

/// The computed status: data first; the report is [`report`] (printed by [`emit`]).
#[derive(Debug, Clone)]
pub struct Status {
    pub healthy: bool,
    pub problems: Vec<Problem>,
    /// Pods that are neither ready nor failing yet (initializing, being scheduled).
    pub not_ready: Vec<String>,
}

/// Reads the release's pods (all pods of the namespace, filtered by label, because the
/// PostgreSQL subchart labels its pods `app.kubernetes.io/instance` instead of `release`) and
/// its jobs. A namespace without any pod of the release is exit 1.
pub fn fetch(kubectl: &Kubectl, release: &str) -> Result<Snapshot, Error> {
    let pods: List<Pod> = kubectl.get_json(&["get", "pods"])?;
    let selector = format!("release={release}");
    let jobs: List<Job> = kubectl.get_json(&["get", "jobs", "-l", &selector])?;
    let pods: Vec<Pod> = pods.items.into_iter().filter(|pod| belongs_to_release(pod, release)).collect();
    if pods.is_empty() && jobs.items.is_empty() {
        return Err(Error::no(format!("no pods of release `{release}` in namespace `{}`", kubectl.namespace))
            .with_hint(
                "check `--release` and `-n/--namespace`; `helm list -A` shows the releases and their namespaces",
            ));
    }
    Ok(Snapshot { release: release.to_string(), namespace: kubectl.namespace.clone(), pods, jobs: jobs.items })
}

/// True when the chart or its PostgreSQL subchart labelled this pod as part of `release`.
pub fn belongs_to_release(pod: &Pod, release: &str) -> bool {
    let labels = &pod.metadata.labels;
    labels.get("release").map(String::as_str) == Some(release)
        || labels.get("app.kubernetes.io/instance").map(String::as_str) == Some(release)
}

/// The Airflow component a pod runs, from the labels the official chart sets.
pub fn component(labels: &std::collections::BTreeMap<String, String>) -> String {
    match labels.get("component").map(String::as_str) {
        Some("run-airflow-migrations") => "migrations".to_string(),
        Some(other) => other.to_string(),
        None => match labels.get("app.kubernetes.io/name").map(String::as_str) {
            Some(name) => name.to_string(),
            None => "other".to_string(),
        },
    }
}

/// Decides health: every pod Running with all containers ready (or Succeeded, for job
/// pods), no container waiting on an error, and no failed job.
pub fn evaluate(snapshot: &Snapshot) -> Status {
    let mut problems = Vec::new();
    let mut not_ready = Vec::new();
    for pod in &snapshot.pods {
        let before = problems.len();
        pod_problems(pod, &mut problems);
        if problems.len() == before && !pod_is_ready(pod) {
            not_ready.push(pod.metadata.name.clone());
        }
    }
    for job in &snapshot.jobs {
        if job.has_failed() {
            let condition = job.status.conditions.iter().find(|c| c.kind == "Failed");
            problems.push(Problem {
                object: format!("job/{}", job.metadata.name),
                container: None,
                reason: condition.and_then(|c| c.reason.clone()).unwrap_or_else(|| "Failed".into()),
                message: condition.and_then(|c| c.message.clone()),
                terminal: true,
            });
        } else if !job.is_complete() {
            not_ready.push(format!("job/{}", job.metadata.name));
        }
    }
    Status { healthy: problems.is_empty() && not_ready.is_empty(), problems, not_ready }
}

/// Reasons a container waits for while things are merely starting.
const STARTING: &[&str] = &["ContainerCreating", "PodInitializing"];
/// Reasons that waiting will never fix.
const TERMINAL: &[&str] = &["ImagePullBackOff", "ErrImagePull", "InvalidImageName", "ErrImageNeverPull"];

fn pod_problems(pod: &Pod, problems: &mut Vec<Problem>) {
    let object = format!("pod/{}", pod.metadata.name);
    match pod.status.phase.as_str() {
        "Succeeded" => return,
        "Failed" => {
            problems.push(Problem {
                object,
                container: None,
                reason: pod.status.reason.clone().unwrap_or_else(|| "Failed".into()),
                message: pod.status.message.clone(),
                terminal: false,
            });
            return;
        }
        _ => {}
    }
    if let Some(unscheduled) = pod.status.conditions.iter().find(|c| c.kind == "PodScheduled" && c.status == "False") {
        problems.push(Problem {
            object: object.clone(),
            container: None,
            reason: unscheduled.reason.clone().unwrap_or_else(|| "Unschedulable".into()),
            message: unscheduled.message.clone(),
            terminal: false,
        });
    }
    let init = pod.status.init_container_statuses.iter().map(|s| (s, true));
    let app = pod.status.container_statuses.iter().map(|s| (s, false));
    for (status, is_init) in init.chain(app) {
        if let Some(waiting) = &status.state.waiting {
            let reason = waiting.reason.clone().unwrap_or_default();
            if reason.is_empty() || STARTING.contains(&reason.as_str()) {
                continue;
            }
            problems.push(Problem {
                object: object.clone(),
                container: Some(status.name.clone()),
                terminal: TERMINAL.contains(&reason.as_str()),
                reason,
                message: waiting.message.clone(),
            });
        } else if let Some(terminated) = &status.state.terminated {
            let failed = terminated.exit_code.unwrap_or(0) != 0;
            // A terminated app container of a running pod is about to be restarted; an init
            // container that exited 0 is simply done.
            if failed || !is_init {
                problems.push(Problem {
                    object: object.clone(),
                    container: Some(status.name.clone()),
                    reason: terminated.reason.clone().unwrap_or_else(|| "Terminated".into()),
                    message: terminated.message.clone(),
                    terminal: false,
                });
            }
        }
    }
}

fn pod_is_ready(pod: &Pod) -> bool {
    pod.status.phase == "Succeeded"
        || (pod.status.phase == "Running"
            && !pod.status.container_statuses.is_empty()
            && pod.status.container_statuses.iter().all(|s| s.ready))
}

/// kubectl's STATUS column, near enough: `Running`, `Init:0/2`, `Init:CrashLoopBackOff`,
/// `ImagePullBackOff`, `Pending`, `Completed`.
pub fn display_status(pod: &Pod) -> String {
    if pod.status.phase == "Succeeded" {
        return "Completed".into();
    }
    let inits = &pod.status.init_container_statuses;
    for status in inits {
        if let Some(reason) = status.state.waiting.as_ref().and_then(|w| w.reason.as_deref())
            && reason != "PodInitializing"
        {
            return format!("Init:{reason}");
        }
        if let Some(terminated) = &status.state.terminated
            && terminated.exit_code.unwrap_or(0) != 0
        {
            return format!("Init:{}", terminated.reason.as_deref().unwrap_or("Error"));
        }
    }
    let done = inits.iter().filter(|s| s.state.terminated.as_ref().is_some_and(|t| t.exit_code == Some(0))).count();
    if done < inits.len() {
        return format!("Init:{done}/{}", inits.len());
    }
    for status in &pod.status.container_statuses {
        if let Some(reason) = status.state.detail().and_then(|d| d.reason.as_deref())
            && reason != "Completed"
        {
            return reason.to_string();
        }
    }
    pod.status.phase.clone()
}

/// The report of `status` (and of `wait` when the release is healthy). Field names and order
/// are the stable ones of README.md; the install reads it back with core's
/// `report::from_yaml::<StatusReport>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusReport {
    pub release: String,
    pub namespace: String,
    pub healthy: bool,
    pub pods: Vec<PodReport>,
    pub jobs: Vec<JobReport>,
    pub problems: Vec<Problem>,
    /// Pods and jobs that are still starting.
    pub not_ready: Vec<String>,
}

/// One pod of [`StatusReport`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PodReport {
    pub name: String,
    /// The chart's component (scheduler, worker, api-server, migrations, postgresql, ...).
    pub component: String,
    pub phase: String,
    /// kubectl's STATUS column (`Running`, `Init:0/2`, `Init:CrashLoopBackOff`, ...).
    pub status: String,
    /// Ready containers of all containers, `"2/3"`.
    pub ready: String,
    pub restarts: i64,
    pub containers: Vec<ContainerReport>,
}

/// One container of [`PodReport`]: init containers first, in the pod's order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContainerReport {
    pub name: String,
    pub init: bool,
    /// `running`, `waiting`, `terminated`, or `unknown` when the kubelet reported nothing yet.
    pub state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i64>,
    /// Absent while the kubelet has reported nothing for the container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restarts: Option<i64>,
}

/// One job of [`StatusReport`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobReport {
    pub name: String,
    pub component: String,
    /// `complete`, `failed` or `running`.
    pub state: String,
    pub succeeded: i64,
    pub failed: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The report of what [`fetch`] read and [`evaluate`] decided.
pub fn report(snapshot: &Snapshot, status: &Status) -> StatusReport {
    StatusReport {
        release: snapshot.release.clone(),
        namespace: snapshot.namespace.clone(),
        healthy: status.healthy,
        pods: snapshot.pods.iter().map(pod_report).collect(),
        jobs: snapshot.jobs.iter().map(job_report).collect(),
        problems: status.problems.clone(),
        not_ready: status.not_ready.clone(),
    }
}

/// The report of [`report`] as YAML text, the same text as core's `report::to_yaml` of it (a
/// test holds them equal), written one list item at a time: each pod's [`PodReport`] is made,
/// turned into a tree alone (core's `report_node::to_node`, the tree `to_yaml` builds, without
/// its JSON step), emitted by core's emitter as a one-item `pods:` list whose `pods:` line is
/// kept only for the first, and dropped. A 1,000-pod report then never exists whole, as
/// structs, one JSON value or one YAML tree of 40,000 nodes: building and freeing those cost
/// more than parsing kubectl's output.
pub fn emit(snapshot: &Snapshot, status: &Status) -> Result<String, Error> {
    /// The leading scalar fields of [`StatusReport`], in its order.
    #[derive(Serialize)]
    struct Head<'a> {
        release: &'a str,
        namespace: &'a str,
        healthy: bool,
    }
    let mut out = String::with_capacity(1024 * (1 + snapshot.pods.len()));
    let head = Head { release: &snapshot.release, namespace: &snapshot.namespace, healthy: status.healthy };
    out.push_str(&emit_document(&to_node(&head)?));
    push_sequence(&mut out, "pods", snapshot.pods.iter().map(pod_report))?;
    push_sequence(&mut out, "jobs", snapshot.jobs.iter().map(job_report))?;
    push_sequence(&mut out, "problems", status.problems.iter())?;
    push_sequence(&mut out, "not_ready", status.not_ready.iter())?;
    Ok(out)
}

/// A top-level `key:` and its list, one item at a time (see [`emit`]).
fn push_sequence<T: Serialize>(out: &mut String, key: &str, items: impl Iterator<Item = T>) -> Result<(), Error> {
    let entry = |items: Vec<Node>| {
        let mut mapping = Mapping::default();
        mapping.insert(key, Node::sequence(items));
        emit_document(&Node::new(NodeKind::Mapping(mapping)))
    };
    let mut first = true;
    for item in items {
        let text = entry(vec![to_node(&item)?]);
        if first {
            out.push_str(&text);
            first = false;
        } else if let Some((_key_line, item_lines)) = text.split_once('\n') {
            // A non-empty list starts on the line after `key:`; the rest is the item.
            out.push_str(item_lines);
        }
    }
    if first {
        out.push_str(&entry(Vec::new()));
    }
    Ok(())
}

fn pod_report(pod: &Pod) -> PodReport {
    let statuses = &pod.status.container_statuses;
    let ready = statuses.iter().filter(|s| s.ready).count();
    let total = pod.spec.containers.len().max(statuses.len());
    let restarts: i64 = statuses.iter().chain(&pod.status.init_container_statuses).map(|s| s.restart_count).sum();
    let mut containers = Vec::with_capacity(pod.spec.init_containers.len() + pod.spec.containers.len());
    for spec in &pod.spec.init_containers {
        containers.push(container_report(&spec.name, true, find(&pod.status.init_container_statuses, &spec.name)));
    }
    for spec in &pod.spec.containers {
        containers.push(container_report(&spec.name, false, find(statuses, &spec.name)));
    }
    PodReport {
        name: pod.metadata.name.clone(),
        component: component(&pod.metadata.labels),
        phase: pod.status.phase.clone(),
        status: display_status(pod),
        ready: format!("{ready}/{total}"),
        restarts,
        containers,
    }
}

fn find<'a>(statuses: &'a [ContainerStatus], name: &str) -> Option<&'a ContainerStatus> {
    statuses.iter().find(|s| s.name == name)
}

fn container_report(name: &str, init: bool, status: Option<&ContainerStatus>) -> ContainerReport {
    let mut report = ContainerReport {
        name: name.to_string(),
        init,
        state: "unknown".into(),
        reason: None,
        exit_code: None,
        ready: None,
        restarts: None,
    };
    let Some(status) = status else {
        return report;
    };
    report.state = status.state.name().into();
    if let Some(detail) = status.state.detail() {
        report.reason = detail.reason.clone();
        report.exit_code = detail.exit_code;
    }
    report.ready = Some(status.ready);
    report.restarts = Some(status.restart_count);
    report
}

fn job_report(job: &Job) -> JobReport {
    let state = if job.has_failed() {
        "failed"
    } else if job.is_complete() {
        "complete"
    } else {
        "running"
    };
    JobReport {
        name: job.metadata.name.clone(),
        component: component(&job.metadata.labels),
        state: state.into(),
        succeeded: job.status.succeeded,
        failed: job.status.failed,
        reason: job.status.conditions.iter().find(|c| c.kind == "Failed").and_then(|c| c.reason.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn pod(json: Value) -> Pod {
        serde_json::from_value(json).expect("pod json")
    }

    fn check(pod_json: Value, expected_status: &str, expected_reasons: &[&str]) {
        let pod = pod(pod_json);
        assert_eq!(display_status(&pod), expected_status);
        let snapshot = Snapshot { pods: vec![pod], ..Snapshot::default() };
        let status = evaluate(&snapshot);
        let reasons: Vec<&str> = status.problems.iter().map(|p| p.reason.as_str()).collect();
        assert_eq!(reasons, expected_reasons);
    }

    #[test]
    fn states() {
        check(
            json!({"status": {"phase": "Running", "containerStatuses": [{"name": "a", "ready": true, "state": {"running": {}}}]}}),
            "Running",
            &[],
        );
        check(
            json!({"status": {"phase": "Pending", "initContainerStatuses": [{"name": "git-sync-init", "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}}),
            "Init:CrashLoopBackOff",
            &["CrashLoopBackOff"],
        );
        check(
            json!({"status": {"phase": "Pending", "initContainerStatuses": [{"name": "w", "state": {"running": {}}}, {"name": "g", "state": {"waiting": {"reason": "PodInitializing"}}}]}}),
            "Init:0/2",
            &[],
        );
        check(
            json!({"status": {"phase": "Pending", "containerStatuses": [{"name": "postgresql", "state": {"waiting": {"reason": "ImagePullBackOff"}}}]}}),
            "ImagePullBackOff",
            &["ImagePullBackOff"],
        );
        check(json!({"status": {"phase": "Succeeded"}}), "Completed", &[]);
    }

    /// What `emit` streams must be exactly core's `to_yaml` of the whole report, and it must
    /// read back into the same report.
    fn check_report(snapshot: &Snapshot) -> String {
        let status = evaluate(snapshot);
        let report = report(snapshot, &status);
        let streamed = emit(snapshot, &status).expect("emits");
        assert_eq!(streamed, airflow_kit_core::report::to_yaml(&report).expect("emits whole"));
        assert_eq!(airflow_kit_core::report::from_yaml::<StatusReport>(&streamed, "status").expect("reads"), report);
        streamed
    }

    #[test]
    fn streamed_report_is_the_whole_report_emitted_at_once() {
        let empty = check_report(&Snapshot { release: "yes".into(), namespace: "on".into(), ..Snapshot::default() });
        assert_eq!(
            empty,
            "release: \"yes\"\nnamespace: \"on\"\nhealthy: true\npods: []\njobs: []\nproblems: []\nnot_ready: []\n"
        );
        let pods = vec![
            pod(json!({"metadata": {"name": "airflow-worker-0", "labels": {"component": "worker"}},
                "spec": {"initContainers": [{"name": "git-sync-init"}], "containers": [{"name": "worker"}]},
                "status": {"phase": "Pending", "initContainerStatuses": [{"name": "git-sync-init", "restartCount": 4,
                    "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 5m0s\nrestarting: #2"}}}]}})),
            pod(json!({"metadata": {"name": "null", "labels": {"app.kubernetes.io/name": "postgresql"}},
                "spec": {"containers": [{"name": "postgresql"}]},
                "status": {"phase": "Running", "containerStatuses": [{"name": "postgresql", "ready": true, "state": {"running": {}}}]}})),
            pod(json!({"metadata": {"name": "airflow-scheduler-1"}, "status": {"phase": "Pending"}})),
        ];
        let job: Job = serde_json::from_value(json!({"metadata": {"name": "airflow-run-airflow-migrations"},
            "status": {"failed": 1, "conditions": [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded"}]}}))
        .expect("job json");
        let snapshot = Snapshot { release: "airflow".into(), namespace: "airflow".into(), pods, jobs: vec![job] };
        let report = check_report(&snapshot);
        assert!(report.contains("\n  - name: \"null\"\n"), "{report}");
        assert!(report.contains("    message: |-\n      back-off 5m0s\n      restarting: #2\n"), "{report}");
    }

    /// The fixtures' real kubectl output, every set: streamed = whole, and read back equal.
    #[test]
    fn fixture_reports_stream_and_read_back() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/pod-inspect");
        let mut checked = 0;
        for set in [
            "healthy-af2",
            "healthy-af3",
            "f4-publickey",
            "f11-f12-migration-failed",
            "f16-image",
            "unknown-migration-failed",
        ] {
            let read = |name: &str| std::fs::read(root.join(set).join(name)).ok();
            let Some(pods) = read("pods.json") else { continue };
            let pods: crate::model::List<Pod> = serde_json::from_slice(&pods).expect("pods json");
            let jobs: crate::model::List<Job> =
                read("jobs.json").map(|j| serde_json::from_slice(&j).expect("jobs json")).unwrap_or_default();
            let snapshot =
                Snapshot { release: "airflow".into(), namespace: "airflow".into(), pods: pods.items, jobs: jobs.items };
            check_report(&snapshot);
            checked += 1;
        }
        assert_eq!(checked, 6, "every fixture set was found");
    }

    #[test]
    fn components_from_chart_labels() {
        let labels = |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        assert_eq!(component(&labels(&[("component", "run-airflow-migrations")])), "migrations");
        assert_eq!(component(&labels(&[("component", "api-server")])), "api-server");
        assert_eq!(component(&labels(&[("app.kubernetes.io/name", "postgresql")])), "postgresql");
    }
}
