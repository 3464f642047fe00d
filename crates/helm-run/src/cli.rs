//! The `helm-run` command line as clap sees it: subcommands, flags, help and examples.
//! `main.rs` parses with it; `cargo xtask dist` renders the man pages and shell completions.

use std::path::PathBuf;

use airflow_kit_core::error::EXIT_CODES_HELP;
use clap::{Args, CommandFactory, Parser, Subcommand};

/// The name every stderr line starts with.
pub const TOOL: &str = "helm-run";

const AFTER_HELP: &str = "\
Examples:
  helm-run repo
  helm-run preflight < values.yaml
  helm-run upgrade -f values.yaml --dry-run
  helm-run upgrade < values.yaml && pod-inspect wait
  helm-run upgrade -f values.yaml --allow-removal dags.gitSync
  helm-run get-values | values-merge --in-place values.yaml -
  helm-run get-values > recovered-values.yaml

The report (YAML on stdout) is described in crates/helm-run/README.md.";

#[derive(Parser)]
#[command(
    name = "helm-run",
    version,
    about = "Run helm for the Airflow chart: checks before the cluster is touched, a 0600 values file, a YAML report",
    after_help = format!("{AFTER_HELP}\n\n{EXIT_CODES_HELP}")
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Commands,
}

#[derive(Subcommand)]
pub enum Commands {
    /// Add the chart repository (only when missing or different), then update it.
    Repo(RepoArgs),
    /// Check helm, the kubeconfig, the cluster, the release state and the values, changing nothing.
    Preflight(ReleaseArgs),
    /// Preflight, then `helm upgrade --install` with the values; prints a YAML report. A value
    /// the deployed release has and the new values lack stops it (exit 4) unless acknowledged.
    Upgrade(UpgradeArgs),
    /// Render the chart with the values (`helm template`); prints the manifests.
    Template(ReleaseArgs),
    /// The release as helm stored it, as a YAML report.
    Status(RefArgs),
    /// The release's user-supplied values (`helm get values -o yaml`), a values document.
    GetValues(RefArgs),
}

#[derive(Args)]
pub struct HelmArgs {
    /// The helm binary (default: `helm` on PATH, else `microk8s helm3`).
    #[arg(long, value_name = "PATH")]
    pub helm: Option<PathBuf>,
    /// The kubeconfig helm uses (default: helm's own: KUBECONFIG, ~/.kube/config).
    #[arg(long, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context helm uses.
    #[arg(long, value_name = "NAME")]
    pub kube_context: Option<String>,
}

#[derive(Args)]
pub struct RepoArgs {
    #[command(flatten)]
    pub helm: HelmArgs,
    /// The repository's URL.
    #[arg(long, default_value = crate::DEFAULT_REPO_URL)]
    pub repo_url: String,
    /// The repository's local name.
    #[arg(long, default_value = crate::DEFAULT_REPO_NAME)]
    pub repo_name: String,
}

#[derive(Args)]
pub struct RefArgs {
    #[command(flatten)]
    pub helm: HelmArgs,
    /// The release name.
    #[arg(long, default_value = crate::DEFAULT_RELEASE)]
    pub release: String,
    /// The release's namespace.
    #[arg(short = 'n', long, default_value = crate::DEFAULT_NAMESPACE)]
    pub namespace: String,
}

#[derive(Args)]
pub struct ReleaseArgs {
    #[command(flatten)]
    pub reference: RefArgs,
    /// The chart: a repository chart, a chart directory, or a .tgz.
    #[arg(long, default_value = crate::DEFAULT_CHART)]
    pub chart: String,
    /// The chart version (repository charts).
    #[arg(long, value_name = "VERSION")]
    pub version: Option<String>,
    /// The values document (`-` or none: stdin).
    #[arg(short = 'f', long = "values", value_name = "FILE")]
    pub values: Option<String>,
}

#[derive(Args)]
pub struct UpgradeArgs {
    #[command(flatten)]
    pub release: ReleaseArgs,
    /// Helm's `--timeout` for the upgrade (a Go duration).
    #[arg(long, default_value = crate::DEFAULT_TIMEOUT)]
    pub timeout: String,
    /// Pass `--wait` to helm; refused while the migration job is a Helm hook (it would deadlock).
    #[arg(long)]
    pub wait: bool,
    /// Run the checks that do not touch the cluster and print the report with the command
    /// that would run.
    #[arg(long)]
    pub dry_run: bool,
    /// Let the upgrade drop this deployed value, and everything under it (repeatable; a path
    /// as the report spells it, e.g. `dags.gitSync`; a dot inside a key is `\.`).
    #[arg(long, value_name = "PATH")]
    pub allow_removal: Vec<String>,
    /// Let the upgrade drop any deployed value the new values lack.
    #[arg(long)]
    pub allow_removals: bool,
}

/// The whole command line, for man pages and completions.
pub fn command() -> clap::Command {
    Cli::command()
}
