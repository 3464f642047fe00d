//! `status`: every pod and job of the release, what state each container is in, and whether
//! the whole release is healthy.

use airflow_kit_core::yaml::emit_entry;
use airflow_kit_core::{Error, Mapping, Node, NodeKind, Scalar, ScalarStyle};

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

/// One thing that keeps the release from being healthy.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// `pod/<name>` or `job/<name>`.
    pub object: String,
    pub container: Option<String>,
    pub reason: String,
    pub message: Option<String>,
    /// True when waiting cannot make it go away (a pull error, a failed job).
    pub terminal: bool,
}

/// The computed status: data first; printing is [`status_report`].
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

/// The report of `status` as YAML text (field names documented in README.md). Core's emitter
/// writes every entry; the sequences go one item at a time, each as a one-item entry whose
/// `key:` line is kept only for the first item. The text is the same as emitting the whole
/// tree at once, but a 1,000-pod report never holds a tree of 40,000 nodes: building and
/// freeing that tree cost more than parsing kubectl's output.
pub fn status_report(snapshot: &Snapshot, status: &Status) -> String {
    let mut out = String::with_capacity(1024 * (1 + snapshot.pods.len()));
    push_entry(&mut out, "release", &Node::string(snapshot.release.as_str()));
    push_entry(&mut out, "namespace", &Node::string(snapshot.namespace.as_str()));
    push_entry(&mut out, "healthy", &Node::bool(status.healthy));
    push_sequence_entry(&mut out, "pods", snapshot.pods.iter().map(pod_report));
    push_sequence_entry(&mut out, "jobs", snapshot.jobs.iter().map(job_report));
    push_sequence_entry(&mut out, "problems", status.problems.iter().map(problem_report));
    push_sequence_entry(&mut out, "not_ready", status.not_ready.iter().map(|name| Node::string(name.as_str())));
    out
}

/// A top-level `key: value` of a report, as `emit_document` writes each entry of a mapping.
fn push_entry(out: &mut String, key: &str, value: &Node) {
    out.push_str(&emit_entry(&report_key(key), value, 0));
}

/// A top-level `key:` and its sequence, one item at a time (see [`status_report`]).
fn push_sequence_entry(out: &mut String, key: &str, items: impl Iterator<Item = Node>) {
    let key = report_key(key);
    let mut first = true;
    for item in items {
        let entry = emit_entry(&key, &Node::sequence(vec![item]), 0);
        if first {
            out.push_str(&entry);
            first = false;
        } else if let Some((_key_line, item_lines)) = entry.split_once('\n') {
            // A non-empty sequence starts on the line after `key:`; the rest is the item.
            out.push_str(item_lines);
        }
    }
    if first {
        push_entry(out, key.text.as_str(), &Node::sequence(Vec::new()));
    }
}

/// A report key as a tool makes it: the emitter chooses its quoting.
fn report_key(key: &str) -> Scalar {
    Scalar { text: key.to_string(), style: ScalarStyle::Auto, tag: None }
}

/// One problem of the report; `wait` and `diagnose` show the same fields.
pub fn problem_report(problem: &Problem) -> Node {
    let mut value = mapping_with_capacity(5);
    value.insert("object", Node::string(problem.object.as_str()));
    if let Some(container) = &problem.container {
        value.insert("container", Node::string(container.as_str()));
    }
    value.insert("reason", Node::string(problem.reason.as_str()));
    if let Some(message) = &problem.message {
        value.insert("message", Node::string(message.as_str()));
    }
    value.insert("terminal", Node::bool(problem.terminal));
    mapping_node(value)
}

/// A report mapping sized for its fields up front: growing thousands of small maps one
/// reallocation at a time showed up in profiles.
fn mapping_with_capacity(fields: usize) -> Mapping {
    Mapping { entries: indexmap::IndexMap::with_capacity(fields) }
}

fn mapping_node(mapping: Mapping) -> Node {
    Node::new(NodeKind::Mapping(mapping))
}

fn pod_report(pod: &Pod) -> Node {
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
    let mut value = mapping_with_capacity(7);
    value.insert("name", Node::string(pod.metadata.name.as_str()));
    value.insert("component", Node::string(component(&pod.metadata.labels)));
    value.insert("phase", Node::string(pod.status.phase.as_str()));
    value.insert("status", Node::string(display_status(pod)));
    value.insert("ready", Node::string(format!("{ready}/{total}")));
    value.insert("restarts", Node::int(restarts));
    value.insert("containers", Node::sequence(containers));
    mapping_node(value)
}

fn find<'a>(statuses: &'a [ContainerStatus], name: &str) -> Option<&'a ContainerStatus> {
    statuses.iter().find(|s| s.name == name)
}

fn container_report(name: &str, init: bool, status: Option<&ContainerStatus>) -> Node {
    let mut value = mapping_with_capacity(7);
    value.insert("name", Node::string(name));
    value.insert("init", Node::bool(init));
    let Some(status) = status else {
        value.insert("state", Node::string("unknown"));
        return mapping_node(value);
    };
    value.insert("state", Node::string(status.state.name()));
    if let Some(detail) = status.state.detail() {
        if let Some(reason) = &detail.reason {
            value.insert("reason", Node::string(reason.as_str()));
        }
        if let Some(code) = detail.exit_code {
            value.insert("exit_code", Node::int(code));
        }
    }
    value.insert("ready", Node::bool(status.ready));
    value.insert("restarts", Node::int(status.restart_count));
    mapping_node(value)
}

fn job_report(job: &Job) -> Node {
    let state = if job.has_failed() {
        "failed"
    } else if job.is_complete() {
        "complete"
    } else {
        "running"
    };
    let mut value = mapping_with_capacity(6);
    value.insert("name", Node::string(job.metadata.name.as_str()));
    value.insert("component", Node::string(component(&job.metadata.labels)));
    value.insert("state", Node::string(state));
    value.insert("succeeded", Node::int(job.status.succeeded));
    value.insert("failed", Node::int(job.status.failed));
    if let Some(reason) = job.status.conditions.iter().find(|c| c.kind == "Failed").and_then(|c| c.reason.as_deref()) {
        value.insert("reason", Node::string(reason));
    }
    mapping_node(value)
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

    /// The whole report as one tree, emitted at once: what `status_report` streams must be
    /// exactly this text.
    fn report_as_one_tree(snapshot: &Snapshot, status: &Status) -> String {
        let mut report = Mapping::default();
        report.insert("release", Node::string(snapshot.release.as_str()));
        report.insert("namespace", Node::string(snapshot.namespace.as_str()));
        report.insert("healthy", Node::bool(status.healthy));
        report.insert("pods", Node::sequence(snapshot.pods.iter().map(pod_report).collect()));
        report.insert("jobs", Node::sequence(snapshot.jobs.iter().map(job_report).collect()));
        report.insert("problems", Node::sequence(status.problems.iter().map(problem_report).collect()));
        let not_ready = status.not_ready.iter().map(|name| Node::string(name.as_str())).collect();
        report.insert("not_ready", Node::sequence(not_ready));
        airflow_kit_core::yaml::emit_document(&Node::new(NodeKind::Mapping(report)))
    }

    fn check_report(snapshot: &Snapshot) -> String {
        let status = evaluate(snapshot);
        let streamed = status_report(snapshot, &status);
        assert_eq!(streamed, report_as_one_tree(snapshot, &status));
        streamed
    }

    #[test]
    fn streamed_report_is_the_whole_tree_emitted_at_once() {
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

    #[test]
    fn components_from_chart_labels() {
        let labels = |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        assert_eq!(component(&labels(&[("component", "run-airflow-migrations")])), "migrations");
        assert_eq!(component(&labels(&[("component", "api-server")])), "api-server");
        assert_eq!(component(&labels(&[("app.kubernetes.io/name", "postgresql")])), "postgresql");
    }
}
