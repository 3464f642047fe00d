//! `fix`: the procedure's troubleshooting step. Delete the failed migration jobs and the
//! failed or crash-looping pods of THIS release, each by the release's label selector plus its
//! exact name, so nothing outside the release can ever be touched.

use airflow_kit_core::Error;
use serde::{Deserialize, Serialize};

use crate::kubectl::Kubectl;
use crate::model::Pod;
use crate::status::{self, Snapshot};

/// One delete, with why and the exact kubectl arguments (after the global flags).
#[derive(Debug, Clone, PartialEq)]
pub struct Action {
    /// `job/<name>` or `pod/<name>`.
    pub object: String,
    pub reason: String,
    pub args: Vec<String>,
}

/// What `fix` would do, and what it leaves alone on purpose.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub actions: Vec<Action>,
    /// Objects that are broken but that deleting would not help, with why.
    pub skipped: Vec<(String, String)>,
}

/// The report of `fix`: what it deletes (or would), and what it leaves alone and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FixReport {
    pub release: String,
    pub namespace: String,
    /// True when the deletes ran (`--yes`, or confirmed).
    pub deleted: bool,
    pub actions: Vec<ActionReport>,
    pub skipped: Vec<SkippedReport>,
}

/// One delete of [`FixReport`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionReport {
    /// `job/<name>` or `pod/<name>`.
    pub object: String,
    pub reason: String,
    /// The kubectl command line, as a person would type it.
    pub command: String,
    /// `deleted` or `failed: ...`, only after deleting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
}

/// An object `fix` leaves alone on purpose.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SkippedReport {
    pub object: String,
    pub why: String,
}

pub fn plan(snapshot: &Snapshot) -> Plan {
    let mut plan = Plan::default();
    let mut deleted_jobs: Vec<&str> = Vec::new();
    for job in &snapshot.jobs {
        if status::component(&job.metadata.labels) == "migrations" && job.has_failed() {
            let reason = job
                .status
                .conditions
                .iter()
                .find(|c| c.kind == "Failed")
                .and_then(|c| c.reason.clone())
                .unwrap_or_else(|| "Failed".into());
            plan.actions.push(delete_action(
                "job",
                &job.metadata.name,
                &job.metadata.labels,
                &snapshot.release,
                reason,
            ));
            deleted_jobs.push(&job.metadata.name);
        }
    }
    for pod in &snapshot.pods {
        // Deleting a Job deletes its pods (kubectl's default background cascade).
        let job =
            pod.metadata.labels.get("job-name").or_else(|| pod.metadata.labels.get("batch.kubernetes.io/job-name"));
        if job.is_some_and(|job| deleted_jobs.contains(&job.as_str())) {
            continue;
        }
        if let Some(reason) = deletable_reason(pod) {
            plan.actions.push(delete_action(
                "pod",
                &pod.metadata.name,
                &pod.metadata.labels,
                &snapshot.release,
                reason,
            ));
        } else if let Some(reason) = pull_error(pod) {
            plan.skipped.push((
                format!("pod/{}", pod.metadata.name),
                format!("{reason}: deleting does not fix a pull error; fix the image (see `pod-inspect diagnose`)"),
            ));
        }
    }
    plan
}

/// Runs the deletes one by one; a failure is reported and the rest still run.
pub fn apply(kubectl: &Kubectl, plan: &Plan) -> Vec<(Action, Result<String, Error>)> {
    plan.actions
        .iter()
        .map(|action| {
            let result = kubectl.run_checked(&action.args).map(|output| output.stdout_text().trim().to_string());
            (action.clone(), result)
        })
        .collect()
}

/// The report of `plan` (no `result` yet: [`ActionReport::result`] is set per delete that ran).
pub fn plan_report(kubectl: &Kubectl, snapshot: &Snapshot, plan: &Plan, deleted: bool) -> FixReport {
    FixReport {
        release: snapshot.release.clone(),
        namespace: snapshot.namespace.clone(),
        deleted,
        actions: plan
            .actions
            .iter()
            .map(|action| ActionReport {
                object: action.object.clone(),
                reason: action.reason.clone(),
                command: kubectl.display(&action.args),
                result: None,
            })
            .collect(),
        skipped: plan
            .skipped
            .iter()
            .map(|(object, why)| SkippedReport { object: object.clone(), why: why.clone() })
            .collect(),
    }
}

/// `kubectl delete KIND` of one object, selected both by this release's labels and by name:
/// nothing outside the release can match, even if a name were reused.
fn delete_action(
    kind: &str,
    name: &str,
    labels: &std::collections::BTreeMap<String, String>,
    release: &str,
    reason: String,
) -> Action {
    Action {
        object: format!("{kind}/{name}"),
        reason,
        args: vec![
            "delete".into(),
            kind.into(),
            "--selector".into(),
            selector(labels, release),
            "--field-selector".into(),
            format!("metadata.name={name}"),
        ],
    }
}

/// The selector that proves membership of the release: the chart's `release` and
/// `component` labels, or the subchart's `app.kubernetes.io/instance` and `name`.
pub fn selector(labels: &std::collections::BTreeMap<String, String>, release: &str) -> String {
    if labels.get("release").map(String::as_str) == Some(release) {
        return match labels.get("component") {
            Some(component) => format!("release={release},component={component}"),
            None => format!("release={release}"),
        };
    }
    match labels.get("app.kubernetes.io/name") {
        Some(name) => format!("app.kubernetes.io/instance={release},app.kubernetes.io/name={name}"),
        None => format!("app.kubernetes.io/instance={release}"),
    }
}

fn deletable_reason(pod: &Pod) -> Option<String> {
    if pod.status.phase == "Failed" {
        return Some(pod.status.reason.clone().unwrap_or_else(|| "Failed".into()));
    }
    let statuses = pod.status.init_container_statuses.iter().chain(&pod.status.container_statuses);
    for container in statuses {
        if container.state.waiting.as_ref().and_then(|w| w.reason.as_deref()) == Some("CrashLoopBackOff") {
            return Some(format!("CrashLoopBackOff ({})", container.name));
        }
    }
    None
}

fn pull_error(pod: &Pod) -> Option<String> {
    let statuses = pod.status.init_container_statuses.iter().chain(&pod.status.container_statuses);
    statuses
        .filter_map(|c| c.state.waiting.as_ref().and_then(|w| w.reason.clone()))
        .find(|reason| matches!(reason.as_str(), "ImagePullBackOff" | "ErrImagePull"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_name_the_release() {
        let labels = |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        assert_eq!(
            selector(&labels(&[("release", "airflow"), ("component", "worker")]), "airflow"),
            "release=airflow,component=worker"
        );
        assert_eq!(
            selector(
                &labels(&[("app.kubernetes.io/instance", "airflow"), ("app.kubernetes.io/name", "postgresql")]),
                "airflow"
            ),
            "app.kubernetes.io/instance=airflow,app.kubernetes.io/name=postgresql"
        );
    }
}
