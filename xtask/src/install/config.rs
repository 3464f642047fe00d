//! The install settings: a config file (airflow-kit.example.yaml documents every key), then the
//! flags over it, then defaults; missing required ones are asked for by name on a terminal.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use airflow_kit_core::{Document, Input, Node};
use anyhow::{Context, bail};

use crate::cluster::Cluster;

/// `cargo xtask install` flags. Each one overrides the config file's key of the same meaning.
#[derive(clap::Args, Debug, Default)]
pub struct InstallArgs {
    /// The config file (YAML); see airflow-kit.example.yaml.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Where the cumulative values.yaml and the deploy key live [default: ./.airflow-kit].
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Do every step that does not touch the cluster, then print the helm command.
    #[arg(long)]
    pub dry_run: bool,
    /// Do not ask: answer yes to prompts (and fail instead of waiting where a person must act).
    #[arg(long)]
    pub yes: bool,
    /// Helm release name [default: airflow].
    #[arg(long)]
    pub release: Option<String>,
    /// Kubernetes namespace [default: airflow].
    #[arg(short = 'n', long)]
    pub namespace: Option<String>,
    /// The chart: `apache-airflow/airflow` (default), or a local chart directory or .tgz.
    #[arg(long)]
    pub chart: Option<String>,
    /// The chart version to pin (unpinned works, with a warning).
    #[arg(long, value_name = "VERSION")]
    pub chart_version: Option<String>,
    /// The chart repository URL [default: https://airflow.apache.org].
    #[arg(long, value_name = "URL")]
    pub chart_repo_url: Option<String>,
    /// The DAG repository's SSH URL (git@github.com:me/dags.git).
    #[arg(long, value_name = "URL")]
    pub repo: Option<String>,
    /// The branch git-sync follows.
    #[arg(long)]
    pub branch: Option<String>,
    /// The DAG folder inside the repository.
    #[arg(long, value_name = "PATH")]
    pub sub_path: Option<String>,
    /// Deploy key type: ed25519 (default) or rsa.
    #[arg(long, value_name = "TYPE", value_parser = ["ed25519", "rsa"])]
    pub key_type: Option<String>,
    /// Where the private deploy key goes: `values` (extraSecrets, as the manual procedure does)
    /// or `manifest` (a separate Secret applied with kubectl, kept out of the Helm release).
    #[arg(long, value_name = "HOW", value_parser = ["values", "manifest"])]
    pub key_as: Option<String>,
    /// Your own values files, merged on top of the cumulative file (repeatable).
    #[arg(short = 'f', long = "values", value_name = "FILE")]
    pub values: Vec<PathBuf>,
    /// A host key fingerprint to trust for a self-hosted Git server (repeatable).
    #[arg(long, value_name = "SHA256:...")]
    pub expect_fingerprint: Vec<String>,
    /// How to reach the UI: `port-forward` (default) or `nodeport`.
    #[arg(long, value_parser = ["port-forward", "nodeport"])]
    pub expose: Option<String>,
    /// The NodePort for `--expose nodeport`.
    #[arg(long)]
    pub node_port: Option<u16>,
    #[command(flatten)]
    pub cluster: Cluster,
    /// How long to wait for the pods [default: 15m].
    #[arg(long)]
    pub timeout: Option<String>,
    /// Use already built tools from this directory instead of building them (tests).
    #[arg(long, value_name = "DIR", hide = true)]
    pub bin_dir: Option<PathBuf>,
}

/// Everything the install needs, resolved once before any step runs.
#[derive(Debug, Clone)]
pub struct Settings {
    pub release: String,
    pub namespace: String,
    pub chart: String,
    pub chart_version: Option<String>,
    pub chart_repo_url: String,
    pub repo: String,
    pub branch: String,
    pub sub_path: String,
    pub key_type: String,
    pub key_as_manifest: bool,
    pub values: Vec<PathBuf>,
    pub expect_fingerprints: Vec<String>,
    pub node_port: Option<u16>,
    pub cluster: Cluster,
    pub timeout: String,
    pub state_dir: PathBuf,
    pub dry_run: bool,
    pub yes: bool,
}

impl Settings {
    /// True when the chart is a local directory or archive (tests, air-gapped installs).
    pub fn local_chart(&self) -> Option<PathBuf> {
        let path = PathBuf::from(&self.chart);
        path.exists().then_some(path)
    }
}

pub fn resolve(args: &InstallArgs) -> anyhow::Result<Settings> {
    let file = match &args.config {
        Some(path) => Some(
            Document::read(&Input::Path(path.clone()))
                .map_err(|e| anyhow::anyhow!(e.render("xtask install")))
                .with_context(|| format!("reading the config `{}`", path.display()))?,
        ),
        None => None,
    };
    let root = file.as_ref().map(|d| d.root.clone()).unwrap_or_else(Node::mapping);
    let text = |path: &[&str]| root.get_path(path).and_then(|n| n.as_scalar()).map(|s| s.text.clone());
    let list = |path: &[&str]| -> Vec<String> {
        root.get_path(path)
            .and_then(Node::as_sequence)
            .map(|items| items.iter().filter_map(|n| n.as_scalar().map(|s| s.text.clone())).collect())
            .unwrap_or_default()
    };
    let base_dir = args
        .config
        .as_ref()
        .and_then(|p| p.parent().map(PathBuf::from))
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| PathBuf::from("."));
    let relative = |p: String| if PathBuf::from(&p).is_absolute() { PathBuf::from(p) } else { base_dir.join(p) };

    let repo = args.repo.clone().or_else(|| text(&["dags", "repo"]));
    let branch = args.branch.clone().or_else(|| text(&["dags", "branch"]));
    let sub_path = args.sub_path.clone().or_else(|| text(&["dags", "subPath"]));
    let interactive = std::io::stdin().is_terminal() && !args.yes;
    let repo = required(repo, "the DAG repository's SSH URL", "--repo", "dags.repo", interactive)?;
    let branch = required(branch, "the branch to sync", "--branch", "dags.branch", interactive)?;
    let sub_path =
        required(sub_path, "the DAG folder inside the repository", "--sub-path", "dags.subPath", interactive)?;

    let key_as = args.key_as.clone().or_else(|| text(&["deployKey", "as"])).unwrap_or_else(|| "values".into());
    if key_as != "values" && key_as != "manifest" {
        bail!("deployKey.as must be `values` or `manifest`, not `{key_as}`");
    }
    let mut values: Vec<PathBuf> = list(&["values"]).into_iter().map(relative).collect();
    values.extend(args.values.iter().cloned());
    let mut expect_fingerprints = list(&["knownHosts", "expectFingerprints"]);
    expect_fingerprints.extend(args.expect_fingerprint.iter().cloned());
    let expose = args.expose.clone().or_else(|| text(&["expose", "kind"])).unwrap_or_else(|| "port-forward".into());
    let node_port = args.node_port.or_else(|| text(&["expose", "nodePort"]).and_then(|p| p.parse().ok()));
    if expose == "nodeport" && node_port.is_none() {
        bail!("`--expose nodeport` needs `--node-port` (30000-32767)");
    }
    let chart =
        args.chart.clone().or_else(|| text(&["chart", "name"])).unwrap_or_else(|| "apache-airflow/airflow".into());
    // A chart path in the config file is relative to the config file.
    let chart = if chart.contains("://") || chart.starts_with("apache-airflow/") || PathBuf::from(&chart).is_absolute()
    {
        chart
    } else if args.chart.is_none() && args.config.is_some() {
        relative(chart).display().to_string()
    } else {
        chart
    };
    Ok(Settings {
        release: args.release.clone().or_else(|| text(&["release"])).unwrap_or_else(|| "airflow".into()),
        namespace: args.namespace.clone().or_else(|| text(&["namespace"])).unwrap_or_else(|| "airflow".into()),
        chart,
        chart_version: args.chart_version.clone().or_else(|| text(&["chart", "version"])),
        chart_repo_url: args
            .chart_repo_url
            .clone()
            .or_else(|| text(&["chart", "repoUrl"]))
            .unwrap_or_else(|| "https://airflow.apache.org".into()),
        repo,
        branch,
        sub_path,
        key_type: args.key_type.clone().or_else(|| text(&["deployKey", "type"])).unwrap_or_else(|| "ed25519".into()),
        key_as_manifest: key_as == "manifest",
        values,
        expect_fingerprints,
        node_port: if expose == "nodeport" { node_port } else { None },
        cluster: Cluster {
            microk8s: args.cluster.microk8s || text(&["cluster", "microk8s"]).is_some_and(|v| v == "true"),
            kubeconfig: args.cluster.kubeconfig.clone().or_else(|| text(&["cluster", "kubeconfig"]).map(PathBuf::from)),
            kube_context: args.cluster.kube_context.clone().or_else(|| text(&["cluster", "context"])),
            helm: args.cluster.helm.clone().or_else(|| text(&["cluster", "helm"]).map(PathBuf::from)),
        },
        timeout: args.timeout.clone().or_else(|| text(&["timeout"])).unwrap_or_else(|| "15m".into()),
        state_dir: args
            .state_dir
            .clone()
            .or_else(|| text(&["stateDir"]).map(relative))
            .unwrap_or_else(|| PathBuf::from(".airflow-kit")),
        dry_run: args.dry_run,
        yes: args.yes,
    })
}

/// A required setting: given, or asked for by name on a terminal, or an error naming the flag.
fn required(value: Option<String>, what: &str, flag: &str, key: &str, interactive: bool) -> anyhow::Result<String> {
    if let Some(value) = value.filter(|v| !v.trim().is_empty()) {
        return Ok(value);
    }
    if !interactive {
        bail!("missing {what}: pass `{flag}` or set `{key}` in the config file");
    }
    eprint!("{what} ({flag}): ");
    std::io::stderr().flush().ok();
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    let line = line.trim().to_string();
    if line.is_empty() {
        bail!("missing {what}: pass `{flag}`");
    }
    Ok(line)
}
