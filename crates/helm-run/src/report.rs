//! The reports helm-run prints on stdout, one type per subcommand, written by core's
//! `report::to_yaml` and read back by the install with `report::from_yaml`. Field order is
//! declaration order and the field names are the documented ones (README.md), so a renamed
//! field breaks the build or a test here, never a `yq` pipeline.

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use crate::notes::{NotesWarning, NotesWarningKind};

/// Which helm ran: the report's `helm` field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HelmUsed {
    /// As a person would type it: `/usr/bin/helm`, `/snap/bin/microk8s helm3`.
    pub command: String,
    /// `3.17.3`.
    pub version: String,
    /// `--helm`, `PATH`, `--microk8s` (the flag asked for MicroK8s' helm) or `microk8s` (no
    /// helm on PATH, so MicroK8s' was used).
    pub found_by: String,
}

/// `helm-run repo`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepoReport {
    /// `repo`.
    pub action: String,
    pub helm: HelmUsed,
    pub repo: RepoEntry,
    /// Every helm command run, in order.
    pub commands: Vec<String>,
}

/// The chart repository as it is now, and what `repo` did to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepoEntry {
    pub name: String,
    pub url: String,
    pub change: RepoChange,
}

/// What `repo` did to the repository entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RepoChange {
    Added,
    Replaced,
    Unchanged,
}

/// `helm-run preflight`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PreflightReport {
    /// `preflight`.
    pub action: String,
    /// Always false (kept so preflight and upgrade reports read alike).
    pub dry_run: bool,
    pub helm: HelmUsed,
    pub release: String,
    pub namespace: String,
    /// The chart asked for (`apache-airflow/airflow`, a directory, a .tgz).
    pub chart: String,
    /// From `helm show chart`.
    pub chart_version: Option<String>,
    pub app_version: Option<String>,
    /// The release's current revision, None when it is not installed.
    pub revision: Option<u64>,
    /// The release's current status, `not-installed` when there is none.
    pub status: Option<String>,
    /// The kubeconfig files helm reads (none listed for MicroK8s' own helm).
    pub kubeconfig: Vec<String>,
    /// The temp values file helm was given (already removed when the report is read).
    pub values_file: Option<String>,
    pub commands: Vec<String>,
    /// Preflight warnings (kubeconfig mode, no kubeconfig found).
    pub warnings: Vec<String>,
    /// Always empty here: preflight installs nothing, so there are no NOTES.
    pub notes_warnings: Vec<NotesWarning>,
}

/// `helm-run upgrade`, with or without `--dry-run`, and when a dropped value refused it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UpgradeReport {
    /// `upgrade`.
    pub action: String,
    pub dry_run: bool,
    pub helm: HelmUsed,
    pub release: String,
    pub namespace: String,
    pub chart: String,
    /// From the upgraded release, else from `helm show chart`.
    pub chart_version: Option<String>,
    pub app_version: Option<String>,
    /// After the upgrade the new revision; refused, the current one; None under
    /// `--dry-run` (the cluster is not asked) or when the release is not installed.
    pub revision: Option<u64>,
    /// After the upgrade helm's status (`deployed`, `failed`); refused, the current one;
    /// None under `--dry-run`.
    pub status: Option<String>,
    /// Helm's description of the upgrade, when it ran.
    pub description: Option<String>,
    pub kubeconfig: Vec<String>,
    pub values_file: Option<String>,
    /// Every helm command run, in order; the values are only ever a file path.
    pub commands: Vec<String>,
    /// `--dry-run` only: the upgrade a person can paste, with the values file helm-run was
    /// given (`-f -` when they came on stdin), no `-o json`, no secret.
    pub would_run: Option<String>,
    pub values_diff: ValuesDiffReport,
    pub warnings: Vec<String>,
    pub notes_warnings: Vec<NotesWarning>,
}

/// `helm-run status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusReport {
    /// `status`.
    pub action: String,
    pub helm: HelmUsed,
    pub release: String,
    pub namespace: String,
    /// False only with `--ignore-not-found`, for a release helm does not know.
    pub installed: bool,
    /// The chart's name as helm stored it (`airflow`).
    pub chart_name: Option<String>,
    pub chart_version: Option<String>,
    pub app_version: Option<String>,
    pub revision: Option<u64>,
    /// Helm's status (`deployed`, `failed`, `pending-upgrade`), `not-installed` when there is
    /// no release.
    pub status: String,
    pub description: Option<String>,
    pub commands: Vec<String>,
    pub notes_warnings: Vec<NotesWarning>,
}

/// The upgrade report's `values_diff`: the new values against the deployed release's user
/// values. Every value in it is already masked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValuesDiffReport {
    /// False when the comparison was skipped.
    pub checked: bool,
    /// Why it was skipped: the release is not installed, or `--dry-run`.
    pub skipped: Option<String>,
    pub against_revision: Option<u64>,
    /// Deployed, absent now.
    pub removed: Vec<RemovedValue>,
    pub changed: Vec<ChangedValue>,
    pub added: Vec<AddedValue>,
    /// Removed paths a flag allowed.
    pub acknowledged: Vec<String>,
    /// Removed paths that stopped the upgrade (exit 4).
    pub unacknowledged: Vec<String>,
}

/// A deployed value the new values lack (secrets masked).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RemovedValue {
    /// As `--set` spells it (`a.b\.c`).
    pub path: String,
    pub value: Value,
}

/// A value the new values set differently (secrets masked).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangedValue {
    pub path: String,
    pub from: Value,
    pub to: Value,
}

/// A value the deployed release did not have (secrets masked).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AddedValue {
    pub path: String,
    pub value: Value,
}

impl ValuesDiffReport {
    /// The field when the comparison did not run, and why.
    pub fn skipped(reason: &str) -> ValuesDiffReport {
        ValuesDiffReport {
            checked: false,
            skipped: Some(reason.to_string()),
            against_revision: None,
            removed: Vec::new(),
            changed: Vec::new(),
            added: Vec::new(),
            acknowledged: Vec::new(),
            unacknowledged: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use airflow_kit_core::report::{from_yaml, to_yaml};
    use serde::de::DeserializeOwned;
    use serde_json::json;

    /// Writes the report, checks its top-level keys are `keys` in that order, and reads it
    /// back into the same value.
    fn check<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(report: &T, keys: &[&str]) -> String {
        let text = to_yaml(report).expect("writes");
        let top: Vec<&str> = text
            .lines()
            .filter(|line| !line.starts_with(' ') && !line.starts_with('-'))
            .filter_map(|line| line.split_once(':').map(|(key, _)| key))
            .collect();
        assert_eq!(top, keys, "{text}");
        assert_eq!(&from_yaml::<T>(&text, "helm-run").expect("reads back"), report, "{text}");
        text
    }

    fn helm() -> HelmUsed {
        HelmUsed { command: "/snap/bin/microk8s helm3".into(), version: "3.17.3".into(), found_by: "--microk8s".into() }
    }

    fn notes() -> Vec<NotesWarning> {
        vec![NotesWarning {
            kind: NotesWarningKind::StaticSecretKey,
            failure: Some("F9".into()),
            text: "WARNING: You should set a static API secret key".into(),
        }]
    }

    #[test]
    fn repo_report() {
        let report = RepoReport {
            action: "repo".into(),
            helm: helm(),
            repo: RepoEntry {
                name: "apache-airflow".into(),
                url: "https://airflow.apache.org".into(),
                change: RepoChange::Replaced,
            },
            commands: vec!["helm repo update apache-airflow".into()],
        };
        let text = check(&report, &["action", "helm", "repo", "commands"]);
        assert!(text.contains("  change: replaced\n"), "{text}");
    }

    #[test]
    fn preflight_report() {
        let report = PreflightReport {
            action: "preflight".into(),
            dry_run: false,
            helm: helm(),
            release: "airflow".into(),
            namespace: "airflow".into(),
            chart: "apache-airflow/airflow".into(),
            chart_version: Some("1.20.0".into()),
            app_version: Some("3.1.8".into()),
            revision: None,
            status: Some("not-installed".into()),
            kubeconfig: vec!["/home/me/.kube/config".into()],
            values_file: Some("/tmp/helm-run-x/values.yaml".into()),
            commands: vec!["helm version --short".into()],
            warnings: vec!["no kubeconfig found".into()],
            notes_warnings: Vec::new(),
        };
        let text = check(
            &report,
            &[
                "action",
                "dry_run",
                "helm",
                "release",
                "namespace",
                "chart",
                "chart_version",
                "app_version",
                "revision",
                "status",
                "kubeconfig",
                "values_file",
                "commands",
                "warnings",
                "notes_warnings",
            ],
        );
        // A version that looks like a number stays a string for yq and for the reader.
        assert!(text.contains("chart_version: \"1.20.0\"\n"), "{text}");
    }

    #[test]
    fn upgrade_report_with_its_values_diff() {
        let report = UpgradeReport {
            action: "upgrade".into(),
            dry_run: false,
            helm: helm(),
            release: "airflow".into(),
            namespace: "data".into(),
            chart: "./airflow-1.20.0.tgz".into(),
            chart_version: Some("1.20.0".into()),
            app_version: Some("3.1.8".into()),
            revision: Some(4),
            status: Some("deployed".into()),
            description: Some("Upgrade complete".into()),
            kubeconfig: Vec::new(),
            values_file: Some("/tmp/helm-run-x/values.yaml".into()),
            commands: vec!["helm upgrade --install airflow ./airflow-1.20.0.tgz".into()],
            would_run: None,
            values_diff: ValuesDiffReport {
                checked: true,
                skipped: None,
                against_revision: Some(3),
                removed: vec![RemovedValue {
                    path: "dags.gitSync.repo".into(),
                    value: json!("git@github.com:me/d.git"),
                }],
                changed: vec![ChangedValue {
                    path: "workers.replicas".into(),
                    from: json!(3),
                    to: json!({"min": 1, "on": "yes"}),
                }],
                added: vec![AddedValue { path: "images.airflow.tag".into(), value: json!("3.1.8") }],
                acknowledged: vec!["dags.gitSync.repo".into()],
                unacknowledged: Vec::new(),
            },
            warnings: Vec::new(),
            notes_warnings: notes(),
        };
        let keys = [
            "action",
            "dry_run",
            "helm",
            "release",
            "namespace",
            "chart",
            "chart_version",
            "app_version",
            "revision",
            "status",
            "description",
            "kubeconfig",
            "values_file",
            "commands",
            "would_run",
            "values_diff",
            "warnings",
            "notes_warnings",
        ];
        let text = check(&report, &keys);
        assert!(text.contains("  - kind: static-secret-key\n    failure: F9\n"), "{text}");
        let dry_run = UpgradeReport {
            dry_run: true,
            revision: None,
            status: None,
            description: None,
            would_run: Some("helm upgrade --install airflow ./airflow-1.20.0.tgz -f -".into()),
            values_diff: ValuesDiffReport::skipped("`--dry-run` does not ask the cluster"),
            notes_warnings: Vec::new(),
            ..report
        };
        check(&dry_run, &keys);
    }

    #[test]
    fn status_report() {
        let report = StatusReport {
            action: "status".into(),
            helm: helm(),
            release: "airflow".into(),
            namespace: "airflow".into(),
            installed: true,
            chart_name: Some("airflow".into()),
            chart_version: Some("1.20.0".into()),
            app_version: Some("3.1.8".into()),
            revision: Some(2),
            status: "pending-upgrade".into(),
            description: Some("Preparing upgrade".into()),
            commands: vec!["helm status airflow --namespace airflow -o json".into()],
            notes_warnings: notes(),
        };
        check(
            &report,
            &[
                "action",
                "helm",
                "release",
                "namespace",
                "installed",
                "chart_name",
                "chart_version",
                "app_version",
                "revision",
                "status",
                "description",
                "commands",
                "notes_warnings",
            ],
        );
    }
}
