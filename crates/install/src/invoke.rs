//! The argv of every tool call the install makes, and the reports it reads back. Each is
//! built here from the tool's own argument types and read into the tool's own report types,
//! so a renamed flag or field breaks the build, not a user's run.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use airflow_kit_core::process::{self, Command};
use airflow_kit_core::{Error, defaults, duration, report};
use serde::Deserialize;

use airflow_kit_core::cluster::ClusterArgs;
use secret_gen::cli::{AirflowArg, DeployKeyArgs, SecretsArgs, TypeArg};

use crate::chart::LocalChart;
use crate::config::{KeyType, Settings};

fn os(words: &[&str]) -> Vec<OsString> {
    words.iter().map(OsString::from).collect()
}

/// `--helm PATH` and the cluster flags, for helm-run.
fn helm_flags(settings: &Settings) -> Vec<OsString> {
    let mut args = Vec::new();
    if let Some(helm) = &settings.helm {
        args.extend([OsString::from("--helm"), helm.clone().into_os_string()]);
    }
    args.extend(settings.cluster.to_args());
    args
}

fn chart_flags(chart: &LocalChart) -> Vec<OsString> {
    let mut args = os(&["--chart", &chart.reference]);
    if let Some(version) = &chart.version {
        args.extend(os(&["--version", version]));
    }
    args
}

pub fn helm_repo(settings: &Settings, repo_url: &str) -> Vec<OsString> {
    let mut args = os(&["repo", "--repo-url", repo_url, "--repo-name", defaults::CHART_REPO_NAME]);
    if let Some(helm) = &settings.helm {
        args.extend([OsString::from("--helm"), helm.clone().into_os_string()]);
    }
    if settings.cluster.microk8s {
        args.push("--microk8s".into());
    }
    args
}

pub fn helm_preflight(settings: &Settings, chart: &LocalChart) -> Vec<OsString> {
    let mut args = os(&["preflight"]);
    args.extend(chart_flags(chart));
    args.extend(helm_flags(settings));
    args
}

pub fn helm_template(settings: &Settings, chart: &LocalChart) -> Vec<OsString> {
    let mut args = os(&["template"]);
    args.extend(chart_flags(chart));
    args.extend(helm_flags(settings));
    args
}

pub fn helm_status(settings: &Settings) -> Vec<OsString> {
    let mut args = os(&["status"]);
    args.extend(helm_flags(settings));
    args
}

pub fn helm_get_values(settings: &crate::adopt::AdoptSettings) -> Vec<OsString> {
    let mut args = os(&["get-values"]);
    if let Some(helm) = &settings.helm {
        args.extend([OsString::from("--helm"), helm.clone().into_os_string()]);
    }
    args.extend(settings.cluster.to_args());
    args
}

pub fn helm_upgrade(settings: &Settings, chart: &LocalChart, allow_removals: &[String]) -> Vec<OsString> {
    let mut args = os(&["upgrade", "--timeout", &duration::format(settings.timeout)]);
    args.extend(chart_flags(chart));
    for path in allow_removals {
        args.extend(os(&["--allow-removal", path]));
    }
    args.extend(helm_flags(settings));
    args
}

/// The helm command a person could paste after a dry run: the cumulative file as `-f`, no
/// `-o json` (it would print every secret), nothing secret on the line.
pub fn printable_upgrade(settings: &Settings, chart: &LocalChart, values: &Path) -> String {
    let mut command =
        helm_command(settings).args(["upgrade", "--install", &settings.cluster.release, &chart.reference]);
    if let Some(version) = &chart.version {
        command = command.args(["--version", version]);
    }
    command = command.args(["--namespace", &settings.cluster.namespace, "--create-namespace", "-f"]).arg(values);
    command = command.args(["--timeout", &duration::format(settings.timeout)]);
    if let Some(kubeconfig) = &settings.cluster.kubeconfig {
        command = command.arg("--kubeconfig").arg(kubeconfig);
    }
    if let Some(context) = &settings.cluster.kube_context {
        command = command.args(["--kube-context", context]);
    }
    command.display()
}

/// helm itself (`--helm`, else `microk8s helm3` with --microk8s, else `helm`), for what
/// helm-run does not wrap (`helm pull`).
pub fn helm_command(settings: &Settings) -> Command {
    match (&settings.helm, settings.cluster.microk8s) {
        (Some(helm), _) => Command::new(helm),
        (None, true) => Command::new("microk8s").arg("helm3"),
        (None, false) => Command::new("helm"),
    }
}

/// kubectl (or `microk8s kubectl`) with the cluster flags.
pub fn kubectl(settings: &Settings) -> Result<Command, Error> {
    let program = process::find_kubectl(settings.cluster.microk8s, process::find_on_path)?;
    Ok(process::kubectl_command(
        &program,
        settings.cluster.kubeconfig.as_deref(),
        settings.cluster.kube_context.as_deref(),
        &settings.cluster.namespace,
    ))
}

/// The secret-gen filter on the cumulative document (stdin).
pub fn secret_gen(airflow_major: u8, credentials: bool) -> Vec<OsString> {
    SecretsArgs {
        input: Some("-".into()),
        airflow: Some(if airflow_major >= 3 { AirflowArg::Three } else { AirflowArg::Two }),
        credentials,
        rotate: Vec::new(),
        from_cluster: false,
        from_secrets: None,
        cluster: ClusterArgs::default(),
        fill: false,
    }
    .to_args()
}

/// `secret-gen --from-cluster`: pin the chart-generated secrets to the live ones.
pub fn secret_gen_from_cluster(cluster: &ClusterArgs) -> Vec<OsString> {
    SecretsArgs {
        input: Some("-".into()),
        airflow: None,
        credentials: false,
        rotate: Vec::new(),
        from_cluster: true,
        from_secrets: None,
        cluster: cluster.clone(),
        fill: false,
    }
    .to_args()
}

/// `secret-gen deploy-key` on the state directory's key pair.
#[derive(Debug, Clone, Default)]
pub struct DeployKey {
    pub keys: PathBuf,
    pub secret_name: String,
    pub repo: Option<String>,
    pub branch: Option<String>,
    pub sub_path: Option<String>,
    pub new_key_type: Option<KeyType>,
    pub as_manifest: Option<PathBuf>,
    pub namespace: Option<String>,
    pub key: Option<PathBuf>,
}

pub fn deploy_key(key: &DeployKey) -> Vec<OsString> {
    DeployKeyArgs {
        input: Some("-".into()),
        dir: key.keys.clone(),
        name: defaults::DEPLOY_KEY_NAME.into(),
        key_type: key.new_key_type.map(|kind| match kind {
            KeyType::Ed25519 => TypeArg::Ed25519,
            KeyType::Rsa => TypeArg::Rsa,
        }),
        bits: None,
        comment: secret_gen::cli::DEFAULT_COMMENT.into(),
        secret_name: key.secret_name.clone(),
        repo: key.repo.clone(),
        branch: key.branch.clone(),
        sub_path: key.sub_path.clone(),
        namespace: key.as_manifest.as_ref().and(key.namespace.clone()),
        as_manifest: key.as_manifest.clone(),
        key: key.key.clone(),
        rotate: false,
    }
    .to_args()
}

/// The install's own deploy-key call: the settings' repository, branch and folder.
pub fn install_deploy_key(
    settings: &Settings,
    new_key_type: Option<KeyType>,
    as_manifest: Option<&Path>,
) -> Vec<OsString> {
    deploy_key(&DeployKey {
        keys: settings.keys_dir(),
        secret_name: defaults::SSH_SECRET_NAME.into(),
        repo: Some(settings.repo.clone()),
        branch: Some(settings.branch.clone()),
        sub_path: Some(settings.sub_path.clone()),
        new_key_type,
        as_manifest: as_manifest.map(Path::to_path_buf),
        namespace: Some(settings.cluster.namespace.clone()),
        key: None,
    })
}

pub fn known_hosts(expect_fingerprints: &[String]) -> Vec<OsString> {
    let mut args = Vec::new();
    for fingerprint in expect_fingerprints {
        args.extend(os(&["--expect-fingerprint", fingerprint]));
    }
    args
}

pub fn known_hosts_verify(file: &Path, expect_fingerprints: &[String]) -> Vec<OsString> {
    let mut args = vec![OsString::from("verify"), file.as_os_str().to_owned()];
    args.extend(known_hosts(expect_fingerprints));
    args
}

/// The in-memory merge: the piped document, then the user's files, then the install's own
/// keys; checked against the chart's schema; printed, not written.
#[derive(Debug, Clone, Default)]
pub struct Merge {
    pub files: Vec<PathBuf>,
    pub set_json: Vec<(String, String)>,
    pub set_string: Vec<(String, String)>,
    pub unset: Vec<String>,
    pub schema: Option<PathBuf>,
}

pub fn merge(merge: &Merge) -> Vec<OsString> {
    let mut args = vec![OsString::from("-")];
    args.extend(merge.files.iter().map(|f| f.clone().into_os_string()));
    for (path, json) in &merge.set_json {
        args.extend(os(&["--set-json", &format!("{path}={json}")]));
    }
    for (path, text) in &merge.set_string {
        // --set-literal: the value is taken as it is (no commas or escapes to mind in a URL).
        args.extend(os(&["--set-literal", &format!("{path}={text}")]));
    }
    for path in &merge.unset {
        args.extend(os(&["--unset", path]));
    }
    if let Some(schema) = &merge.schema {
        args.extend([OsString::from("--schema"), schema.clone().into_os_string()]);
    }
    args
}

pub fn write_in_place(state_values: &Path) -> Vec<OsString> {
    vec![OsString::from("--in-place"), state_values.as_os_str().to_owned(), OsString::from("-")]
}

pub fn diff_against(state_values: &Path) -> Vec<OsString> {
    vec![OsString::from("-"), OsString::from("--diff"), state_values.as_os_str().to_owned()]
}

/// values-merge's `--diff` report.
#[derive(Debug, Deserialize)]
pub struct DiffReport {
    #[serde(default)]
    pub added: Vec<serde_json::Value>,
    #[serde(default)]
    pub changed: Vec<serde_json::Value>,
    #[serde(default)]
    pub removed: Vec<serde_json::Value>,
    #[serde(skip)]
    pub text: String,
}

impl DiffReport {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.changed.is_empty() && self.removed.is_empty()
    }
}

pub fn read_diff(text: &str) -> Result<DiffReport, Error> {
    let mut diff: DiffReport = report::from_yaml(text, "values-merge --diff")?;
    diff.text = text.to_string();
    Ok(diff)
}

pub fn pod_wait(settings: &Settings) -> Vec<OsString> {
    let mut args = os(&["wait", "--timeout", &duration::format(settings.timeout)]);
    args.extend(settings.cluster.to_args());
    args
}

pub fn pod_dags(settings: &Settings) -> Vec<OsString> {
    let mut args = os(&["dags", "--sub-path", &settings.sub_path]);
    args.extend(settings.cluster.to_args());
    args
}

/// pod-inspect's `dags` report: the commit git-sync links and the DAG files.
#[derive(Debug, Deserialize)]
pub struct DagsReport {
    #[serde(default)]
    pub commit: Option<String>,
    #[serde(default)]
    pub count: usize,
}

pub fn read_dags(text: &str) -> Result<DagsReport, Error> {
    report::from_yaml(text, "pod-inspect dags")
}

/// `kubectl get storageclass -o json`: is one marked as the default?
pub fn has_default_storage_class(json: &[u8]) -> Result<bool, Error> {
    #[derive(Deserialize, Default)]
    #[serde(default)]
    struct List {
        items: Vec<Class>,
    }
    #[derive(Deserialize, Default)]
    #[serde(default)]
    struct Class {
        metadata: Metadata,
    }
    #[derive(Deserialize, Default)]
    #[serde(default)]
    struct Metadata {
        annotations: std::collections::BTreeMap<String, String>,
    }
    let list: List = serde_json::from_slice(json).map_err(|error| {
        Error::external(format!("`kubectl get storageclass -o json` printed no StorageClass list: {error}"))
    })?;
    Ok(list.items.iter().any(|class| {
        ["storageclass.kubernetes.io/is-default-class", "storageclass.beta.kubernetes.io/is-default-class"]
            .iter()
            .any(|key| class.metadata.annotations.get(*key).map(String::as_str) == Some("true"))
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_storage_class() {
        let marked = br#"{"items":[{"metadata":{"name":"a"}},{"metadata":{"name":"b","annotations":{"storageclass.kubernetes.io/is-default-class":"true"}}}]}"#;
        assert!(has_default_storage_class(marked).expect("parses"));
        assert!(!has_default_storage_class(br#"{"items":[{"metadata":{"name":"a"}}]}"#).expect("parses"));
        assert!(has_default_storage_class(b"not json").is_err());
    }
}
