//! The argv of every tool call the install makes, and the reports it reads back. Each is
//! built here from the tool's own argument types and read into the tool's own report types,
//! so a renamed flag or field breaks the build, not a user's run.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use airflow_kit_core::process::{self, Command};
use airflow_kit_core::{Error, defaults, duration, report};
use serde::Deserialize;

use airflow_kit_core::cluster::ClusterArgs;
use helm_run::cli::{
    GetValuesArgs, HelmArgs, HostKeyArgs, PreflightArgs, PreflightCommand, ReleaseArgs, RepoArgs, StatusArgs,
    TemplateArgs, TemplateCommand, UpgradeArgs, UpgradeCommand, WorkDirArgs,
};
use helm_run::report::StatusReport;
use known_hosts::cli::{PinArgs, VerifyArgs, VerifyCommand};
use pod_inspect::cli::{Cli as PodCli, Command as PodCommand, DagsArgs, WaitArgs};
use pod_inspect::dags::DagsReport;
use secret_gen::cli::{AirflowArg, DeployKeyArgs, SecretsArgs, TypeArg};
use values_merge::cli::Args as MergeArgs;
use values_merge::report::Diff;

use crate::chart::LocalChart;
use crate::config::{KeyType, Settings};

/// helm-run's `--helm` and cluster flags from the settings.
fn helm_args(helm: Option<&Path>, cluster: &ClusterArgs) -> HelmArgs {
    HelmArgs { cluster: cluster.clone(), helm: helm.map(Path::to_path_buf) }
}

/// The chart and the values (stdin) as helm-run takes them.
fn release_args(settings: &Settings, chart: &LocalChart, values: Option<&Path>) -> ReleaseArgs {
    ReleaseArgs {
        helm: helm_args(settings.helm.as_deref(), &settings.cluster),
        chart: chart.reference.clone(),
        version: None,
        values: values.map(Path::to_path_buf),
    }
}

pub fn helm_repo(settings: &Settings, repo_url: &str) -> Vec<OsString> {
    RepoArgs {
        helm: helm_args(settings.helm.as_deref(), &settings.cluster),
        repo_url: repo_url.to_string(),
        repo_name: defaults::CHART_REPO_NAME.to_string(),
    }
    .to_args()
}

/// helm-run's private values file goes into the run's directory inside the 0700 state
/// directory, never the system temp directory.
fn work_dir(work: &Path) -> WorkDirArgs {
    WorkDirArgs { work_dir: Some(work.to_path_buf()) }
}

pub fn helm_preflight(settings: &Settings, chart: &LocalChart, work: &Path) -> Vec<OsString> {
    PreflightCommand {
        args: PreflightArgs { release: release_args(settings, chart, None) },
        work: work_dir(work),
        host_keys: HostKeyArgs::default(),
    }
    .to_args()
}

pub fn helm_template(settings: &Settings, chart: &LocalChart, work: &Path) -> Vec<OsString> {
    TemplateCommand { args: TemplateArgs { release: release_args(settings, chart, None) }, work: work_dir(work) }
        .to_args()
}

/// `helm-run status --ignore-not-found`: a report that says whether the release exists.
pub fn helm_status(settings: &Settings) -> Vec<OsString> {
    StatusArgs { helm: helm_args(settings.helm.as_deref(), &settings.cluster), ignore_not_found: true }.to_args()
}

pub fn read_status(text: &str) -> Result<StatusReport, Error> {
    report::from_yaml(text, "helm-run status")
}

pub fn helm_get_values(settings: &crate::adopt::AdoptSettings) -> Vec<OsString> {
    GetValuesArgs { helm: helm_args(settings.helm.as_deref(), &settings.cluster) }.to_args()
}

/// `helm-run upgrade` of the cumulative file, allowed to drop exactly the paths the install
/// itself removes (the UI exposure switched back).
pub fn helm_upgrade(
    settings: &Settings,
    chart: &LocalChart,
    values: &Path,
    allow_removals: &[String],
    work: &Path,
) -> Vec<OsString> {
    UpgradeCommand {
        args: UpgradeArgs {
            release: release_args(settings, chart, Some(values)),
            timeout: settings.timeout,
            wait: false,
            dry_run: false,
            allow_removal: allow_removals.to_vec(),
            allow_removals: false,
        },
        work: work_dir(work),
        host_keys: HostKeyArgs::default(),
    }
    .to_args()
}

/// The helm command a person could paste after a dry run: the cumulative file as `-f`, no
/// `-o json` (it would print every secret), nothing secret on the line.
pub fn printable_upgrade(settings: &Settings, chart: &LocalChart, values: &Path) -> String {
    let mut command =
        helm_command(settings).args(["upgrade", "--install", &settings.cluster.release, &chart.reference]);
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

/// The known-hosts filter on the document (stdin).
pub fn known_hosts(expect_fingerprints: &[String]) -> Vec<OsString> {
    PinArgs {
        host: None,
        repo: None,
        values: Some("-".into()),
        from: None,
        types: Vec::new(),
        expect_fingerprint: expect_fingerprints.to_vec(),
        timeout: std::time::Duration::from_secs(10),
        ssh_keyscan: "ssh-keyscan".into(),
    }
    .to_args()
}

/// `known-hosts verify - --repo URL`: the document on stdin, every knownHosts line checked
/// and for the configured repository's host, whatever a values layer set as the repo.
pub fn known_hosts_verify_stdin(repo: &str, expect_fingerprints: &[String]) -> Vec<OsString> {
    VerifyCommand {
        args: VerifyArgs { file: Some("-".into()), expect_fingerprint: expect_fingerprints.to_vec() },
        repo: Some(repo.to_string()),
    }
    .to_args()
}

pub fn known_hosts_verify(file: &Path, repo: &str, expect_fingerprints: &[String]) -> Vec<OsString> {
    VerifyCommand {
        args: VerifyArgs { file: Some(file.display().to_string()), expect_fingerprint: expect_fingerprints.to_vec() },
        repo: Some(repo.to_string()),
    }
    .to_args()
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
    let mut files = vec!["-".to_string()];
    files.extend(merge.files.iter().map(|f| f.display().to_string()));
    MergeArgs {
        files,
        set_json: merge.set_json.iter().map(|(path, json)| format!("{path}={json}")).collect(),
        // --set-literal: the value is taken as it is (no commas or escapes to mind in a URL).
        set_literal: merge.set_string.iter().map(|(path, text)| format!("{path}={text}")).collect(),
        unset: merge.unset.clone(),
        schema: merge.schema.clone(),
        ..MergeArgs::default()
    }
    .to_args()
}

/// The proven document into the cumulative file. In-place merges onto what the file holds,
/// so the paths the install removes are removed here too.
pub fn write_in_place(state_values: &Path, unset: &[String]) -> Vec<OsString> {
    MergeArgs {
        files: vec!["-".into()],
        in_place: Some(state_values.to_path_buf()),
        unset: unset.to_vec(),
        ..MergeArgs::default()
    }
    .to_args()
}

pub fn diff_against(state_values: &Path) -> Vec<OsString> {
    MergeArgs { files: vec!["-".into()], diff: Some(state_values.to_path_buf()), ..MergeArgs::default() }.to_args()
}

pub fn read_diff(text: &str) -> Result<Diff, Error> {
    report::from_yaml(text, "values-merge --diff")
}

/// pod-inspect with the cluster flags of the settings.
fn pod_inspect(settings: &Settings, command: PodCommand) -> Vec<OsString> {
    PodCli { command, cluster: settings.cluster.clone(), request_timeout: std::time::Duration::from_secs(60) }.to_args()
}

pub fn pod_wait(settings: &Settings) -> Vec<OsString> {
    pod_inspect(
        settings,
        PodCommand::Wait(WaitArgs { timeout: settings.timeout, interval: std::time::Duration::from_secs(5) }),
    )
}

pub fn pod_dags(settings: &Settings) -> Vec<OsString> {
    pod_inspect(settings, PodCommand::Dags(DagsArgs { pod: None, sub_path: Some(settings.sub_path.clone()) }))
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
    fn the_upgrade_may_drop_exactly_what_the_install_removes() {
        use clap::Parser;
        #[derive(clap::Parser)]
        struct Cli {
            #[command(flatten)]
            args: crate::config::InstallArgs,
        }
        let flags =
            ["install", "--repo", "git@github.com:me/d.git", "--branch", "main", "--sub-path", "d", "--microk8s"];
        let settings =
            crate::config::resolve(&Cli::try_parse_from(flags).expect("flags").args, None).expect("resolves");
        let chart = LocalChart {
            dir: PathBuf::from("/c"),
            reference: "apache-airflow/airflow".into(),
            chart_version: "1.20.0".into(),
            app_version: "3.1.8".into(),
        };
        let removed = ["apiServer.service.type".to_string(), "apiServer.service.ports".to_string()];
        let args: Vec<String> =
            helm_upgrade(&settings, &chart, Path::new("state/values.yaml"), &removed, Path::new("w"))
                .iter()
                .map(|a| a.to_string_lossy().into_owned())
                .collect();
        let line = args.join(" ");
        assert!(line.starts_with("upgrade "), "{line}");
        for expected in [
            "--allow-removal=apiServer.service.type",
            "--allow-removal=apiServer.service.ports",
            "--values state/values.yaml",
            "--microk8s",
        ] {
            assert!(line.contains(expected), "`{expected}` missing: {line}");
        }
        assert!(!line.contains("--allow-removals"), "never everything: {line}");
        // What helm-run itself parses back.
        let parsed = helm_run::cli::Cli::try_parse_from(std::iter::once("helm-run".to_string()).chain(args));
        assert!(parsed.is_ok(), "helm-run does not parse it: {line}");
    }

    #[test]
    fn default_storage_class() {
        let marked = br#"{"items":[{"metadata":{"name":"a"}},{"metadata":{"name":"b","annotations":{"storageclass.kubernetes.io/is-default-class":"true"}}}]}"#;
        assert!(has_default_storage_class(marked).expect("parses"));
        assert!(!has_default_storage_class(br#"{"items":[{"metadata":{"name":"a"}}]}"#).expect("parses"));
        assert!(has_default_storage_class(b"not json").is_err());
    }
}
