//! `dags`: look inside a pod that runs git-sync and answer "which commit are the DAGs at, and
//! are the DAG files there?", for git-sync v4 (`repo -> .worktrees/<sha>`) and v3
//! (`repo -> <sha>` or `rev-<sha>`).

use airflow_kit_core::Error;
use serde::{Deserialize, Serialize};

use crate::diagnose;
use crate::kubectl::Kubectl;
use crate::model::{DataObject, Pod};
use crate::status::{self, Snapshot};

/// Where the chart mounts the DAGs volume and where git-sync's link sits inside it.
pub const DAGS_MOUNT: &str = "/opt/airflow/dags";
pub const REPO_LINK: &str = "/opt/airflow/dags/repo";

#[derive(Debug, Clone, Default)]
pub struct DagsConfig {
    pub release: String,
    /// A pod to look into; otherwise the first running pod with a git-sync sidecar.
    pub pod: Option<String>,
    /// The DAG folder inside the repository; otherwise read from `<release>-config`.
    pub sub_path: Option<String>,
}

/// The answer, and whether it is a yes (the link resolves and DAG files are there).
#[derive(Debug)]
pub struct DagsResult {
    pub ok: bool,
    pub report: DagsReport,
}

/// The report of `dags`. The install reads it back with core's
/// `report::from_yaml::<DagsReport>` and compares `commit` with `git ls-remote`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct DagsReport {
    /// The pod looked into, and its Airflow container the commands ran in.
    pub pod: String,
    pub container: String,
    /// The target of `/opt/airflow/dags/repo`; null when there is no link.
    pub link: Option<String>,
    /// The commit the link points at (absent when it points at none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// `git-sync v4` (`.worktrees/<sha>`) or `git-sync v3` (`<sha>`, `rev-<sha>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layout: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dags_folder: Option<String>,
    /// How many DAG files (`*.py`, `*.zip`) are under the DAG folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<usize>,
    /// The DAG files, relative to the DAG folder, sorted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub files: Option<Vec<String>>,
    /// Why the answer is no.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
    /// git-sync's last lines, when the answer is no (passwords masked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_sync_log: Option<Vec<String>>,
}

/// Components whose pods carry a git-sync sidecar, in the order we prefer to look.
const GIT_SYNC_COMPONENTS: &[&str] = &["worker", "dag-processor", "scheduler", "triggerer"];

pub fn check_dags(kubectl: &Kubectl, snapshot: &Snapshot, config: &DagsConfig) -> Result<DagsResult, Error> {
    let pod = choose_pod(snapshot, config.pod.as_deref())?;
    let container = main_container(pod);
    let pod_name = pod.metadata.name.clone();
    let sub_path = match &config.sub_path {
        Some(sub_path) => sub_path.trim_matches('/').to_string(),
        None => sub_path_from_config(kubectl, &config.release)?,
    };
    let exec = |command: &[&str]| {
        let mut args = vec!["exec", pod_name.as_str(), "-c", container.as_str(), "--"];
        args.extend(command);
        kubectl.run(&args)
    };
    let mut report = DagsReport { pod: pod_name.clone(), container: container.clone(), ..DagsReport::default() };
    let link = exec(&["readlink", REPO_LINK])?;
    let target = link.stdout_text().trim().to_string();
    let Some((commit, layout)) = commit_of_link(&target).filter(|_| link.success()) else {
        report.link = Some(target).filter(|target| !target.is_empty());
        // `kubectl exec` itself failing (no such container, exec refused) is not a missing link:
        // its own last line says which, and the person needs it.
        let exec_error = link.stderr_text().lines().rev().find(|line| line.contains("error")).map(str::to_string);
        report.problem = Some(match exec_error {
            Some(error) => format!("cannot look inside the pod (`kubectl exec` failed: {})", error.trim()),
            None => format!("`{REPO_LINK}` is not a git-sync link to a commit"),
        });
        report.git_sync_log = Some(git_sync_log(kubectl, pod)?);
        return Ok(DagsResult { ok: false, report });
    };
    let folder = if sub_path.is_empty() { REPO_LINK.to_string() } else { format!("{REPO_LINK}/{sub_path}") };
    report.link = Some(target);
    report.commit = Some(commit);
    report.layout = Some(layout.to_string());
    report.sub_path = Some(sub_path);
    report.dags_folder = Some(folder.clone());
    let listing = exec(&["find", "-L", &folder, "-type", "f"])?;
    let files = dag_files(&listing.stdout_text(), &folder);
    report.count = Some(files.len());
    let found = listing.success() && !files.is_empty();
    report.files = Some(files);
    if !found {
        report.problem = Some(format!("no DAG files (*.py, *.zip) under `{folder}`"));
        report.git_sync_log = Some(git_sync_log(kubectl, pod)?);
        return Ok(DagsResult { ok: false, report });
    }
    Ok(DagsResult { ok: true, report })
}

/// The commit a git-sync link points at, and the layout that made it: v4 links
/// `.worktrees/<sha>`, v3 `<sha>` or `rev-<sha>`.
pub fn commit_of_link(target: &str) -> Option<(String, &'static str)> {
    let target = target.trim().trim_end_matches('/');
    let mut parts = target.rsplit('/');
    let last = parts.next()?;
    let parent = parts.next();
    if parent == Some(".worktrees") && is_sha(last) {
        return Some((last.to_string(), "git-sync v4"));
    }
    if let Some(sha) = last.strip_prefix("rev-").filter(|sha| is_sha(sha)) {
        return Some((sha.to_string(), "git-sync v3"));
    }
    if is_sha(last) {
        return Some((last.to_string(), "git-sync v3"));
    }
    None
}

fn is_sha(text: &str) -> bool {
    (7..=64).contains(&text.len()) && text.chars().all(|c| c.is_ascii_hexdigit())
}

/// DAG files from `find` output, relative to the DAG folder, sorted.
pub fn dag_files(find_output: &str, folder: &str) -> Vec<String> {
    let prefix = format!("{}/", folder.trim_end_matches('/'));
    let mut files: Vec<String> = find_output
        .lines()
        .map(str::trim)
        .filter(|line| line.ends_with(".py") || line.ends_with(".zip"))
        .filter(|line| !line.contains("/.git/") && !line.contains("__pycache__"))
        .map(|line| line.strip_prefix(&prefix).unwrap_or(line).to_string())
        .collect();
    files.sort();
    files
}

fn choose_pod<'a>(snapshot: &'a Snapshot, wanted: Option<&str>) -> Result<&'a Pod, Error> {
    if let Some(name) = wanted {
        return snapshot.pods.iter().find(|pod| pod.metadata.name == name).ok_or_else(|| {
            Error::bad_input(format!("pod `{name}` is not part of release `{}`", snapshot.release))
                .with_hint("`pod-inspect status` lists the release's pods")
        });
    }
    let runs_git_sync = |pod: &&Pod| pod.spec.containers.iter().any(|c| c.name == "git-sync");
    let running = |pod: &&Pod| pod.status.phase == "Running";
    for component in GIT_SYNC_COMPONENTS {
        let of_component = |pod: &&Pod| status::component(&pod.metadata.labels) == *component;
        if let Some(pod) = snapshot.pods.iter().filter(of_component).filter(runs_git_sync).find(running) {
            return Ok(pod);
        }
    }
    // None running: look into one that should run git-sync anyway, so the report shows why.
    snapshot.pods.iter().find(runs_git_sync).ok_or_else(|| {
        Error::no(format!("no pod of release `{}` runs a git-sync sidecar", snapshot.release)).with_hint(
            "is `dags.gitSync.enabled: true` in values.yaml? `helm-run get-values` shows what the release has",
        )
    })
}

/// The Airflow container of a pod (named like its component), not the git-sync or log sidecars.
fn main_container(pod: &Pod) -> String {
    let component = status::component(&pod.metadata.labels);
    let names: Vec<&str> = pod.spec.containers.iter().map(|c| c.name.as_str()).collect();
    if names.contains(&component.as_str()) {
        return component;
    }
    names
        .iter()
        .find(|name| **name != "git-sync" && !name.ends_with("log-groomer"))
        .map(|name| name.to_string())
        .unwrap_or(component)
}

/// The sub-path from the `dags_folder` the chart writes into `<release>-config`'s
/// airflow.cfg (`/opt/airflow/dags/repo/<subPath>`); empty when the ConfigMap says nothing.
fn sub_path_from_config(kubectl: &Kubectl, release: &str) -> Result<String, Error> {
    let name = format!("{release}-config");
    let output = kubectl.run(&["get", "configmap", &name, "-o", "json"])?;
    if !output.success() {
        return Ok(String::new());
    }
    let config: DataObject =
        crate::kubectl::parse_json(&output.stdout, &kubectl.display(&["get", "configmap", &name, "-o", "json"]))?;
    let cfg = config.data.get("airflow.cfg").map(String::as_str).unwrap_or_default();
    Ok(sub_path_from_cfg(cfg))
}

pub fn sub_path_from_cfg(cfg: &str) -> String {
    for line in cfg.lines() {
        let Some((key, value)) = line.split_once('=') else { continue };
        if key.trim() == "dags_folder" {
            let value = value.trim();
            return value.strip_prefix(REPO_LINK).unwrap_or("").trim_matches('/').to_string();
        }
    }
    String::new()
}

/// git-sync's last ten lines (read through `diagnose`, so passwords are masked).
fn git_sync_log(kubectl: &Kubectl, pod: &Pod) -> Result<Vec<String>, Error> {
    let restarted = pod.status.container_statuses.iter().any(|c| c.name == "git-sync" && c.restart_count > 0);
    let request = diagnose::LogRequest {
        pod: pod.metadata.name.clone(),
        container: "git-sync".into(),
        previous: restarted,
        failing: false,
    };
    let log = diagnose::read_log(kubectl, &request)?;
    let start = log.lines.len().saturating_sub(10);
    Ok(log.lines[start..].to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(target: &str, expected: Option<(&str, &str)>) {
        let found = commit_of_link(target);
        assert_eq!(found.as_ref().map(|(c, l)| (c.as_str(), *l)), expected, "{target}");
    }

    #[test]
    fn links() {
        let sha = "3f786850e387550fdab836ed7e6dc881de23001b";
        check(&format!(".worktrees/{sha}"), Some((sha, "git-sync v4")));
        check(&format!("/git/.worktrees/{sha}"), Some((sha, "git-sync v4")));
        check(&format!("rev-{sha}"), Some((sha, "git-sync v3")));
        check(sha, Some((sha, "git-sync v3")));
        check("", None);
        check("/opt/airflow/dags/something", None);
    }

    /// What the install reads back: the commit and the count, and a missing link as null.
    #[test]
    fn reports_read_back() {
        use airflow_kit_core::report::{from_yaml, to_yaml};
        let synced = DagsReport {
            pod: "airflow-worker-0".into(),
            container: "worker".into(),
            link: Some(".worktrees/3f786850e387550fdab836ed7e6dc881de23001b".into()),
            commit: Some("3f786850e387550fdab836ed7e6dc881de23001b".into()),
            layout: Some("git-sync v4".into()),
            sub_path: Some("dags".into()),
            dags_folder: Some("/opt/airflow/dags/repo/dags".into()),
            count: Some(2),
            files: Some(vec!["a.py".into(), "b.zip".into()]),
            problem: None,
            git_sync_log: None,
        };
        let missing = DagsReport {
            pod: "airflow-worker-0".into(),
            container: "worker".into(),
            problem: Some("no link".into()),
            git_sync_log: Some(vec!["Permission denied (publickey)".into()]),
            ..DagsReport::default()
        };
        let text = to_yaml(&missing).expect("writes");
        assert_eq!(
            text,
            "pod: airflow-worker-0\ncontainer: worker\nlink: null\nproblem: no link\ngit_sync_log:\n  - Permission denied (publickey)\n"
        );
        for report in [synced, missing] {
            let text = to_yaml(&report).expect("writes");
            assert_eq!(from_yaml::<DagsReport>(&text, "pod-inspect dags").expect("reads"), report);
        }
    }

    #[test]
    fn files_and_sub_path() {
        let folder = "/opt/airflow/dags/repo/dags";
        let out = "/opt/airflow/dags/repo/dags/b.py\n/opt/airflow/dags/repo/dags/a.py\n/opt/airflow/dags/repo/dags/README.md\n/opt/airflow/dags/repo/dags/__pycache__/a.cpython-312.pyc\n";
        assert_eq!(dag_files(out, folder), vec!["a.py", "b.py"]);
        assert_eq!(sub_path_from_cfg("[core]\ndags_folder = /opt/airflow/dags/repo/tests/dags\n"), "tests/dags");
        assert_eq!(sub_path_from_cfg("[core]\ndags_folder = /opt/airflow/dags\n"), "");
    }
}
