//! The `helm-run` command line as clap sees it: subcommands, flags, help and examples.
//! `main.rs` parses with it; `cargo xtask dist` renders the man pages and shell completions;
//! `invoke` writes each subcommand back as argv for the install.

use std::path::PathBuf;
use std::time::Duration;

use airflow_kit_core::cluster::ClusterArgs;
use airflow_kit_core::error::EXIT_CODES_HELP;
use airflow_kit_core::{defaults, duration};
use clap::{Args, CommandFactory, Parser, Subcommand};

/// The name every stderr line starts with.
pub const TOOL: &str = "helm-run";

const AFTER_HELP: &str = "\
Examples:
  helm-run repo
  helm-run preflight < values.yaml
  helm-run upgrade -f values.yaml --dry-run
  helm-run upgrade --microk8s -f values.yaml
  helm-run upgrade < values.yaml && pod-inspect wait
  helm-run upgrade -f values.yaml --allow-removal dags.gitSync
  helm-run get-values | values-merge --in-place values.yaml -
  helm-run get-values > recovered-values.yaml

The report (YAML on stdout): release, namespace, revision, status, chart and app version, the
warnings of the chart NOTES, the commands run (secrets masked); `upgrade --dry-run` adds
`would_run`, a helm command to paste.";

#[derive(Parser, Clone, Debug, PartialEq)]
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

#[derive(Subcommand, Clone, Debug, PartialEq)]
pub enum Commands {
    /// Add the chart repository (only when missing or different), then update it.
    Repo(RepoArgs),
    /// Check helm, the kubeconfig, the cluster, the release state and the values, changing nothing.
    Preflight(PreflightCommand),
    /// Preflight, then `helm upgrade --install` with the values; prints a YAML report. A value
    /// the deployed release has and the new values lack stops it (exit 4) unless acknowledged.
    Upgrade(UpgradeCommand),
    /// Render the chart with the values (`helm template`); prints the manifests.
    Template(TemplateCommand),
    /// The release as helm stored it, as a YAML report.
    Status(StatusArgs),
    /// The release's user-supplied values (`helm get values -o yaml`), a values document.
    GetValues(GetValuesArgs),
}

/// Which helm, which cluster, which release: every subcommand takes these.
#[derive(Args, Clone, Debug, PartialEq)]
pub struct HelmArgs {
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// The helm binary [default: `helm` on PATH, else `microk8s helm3`; with `--microk8s`,
    /// `microk8s helm3`].
    #[arg(long, value_name = "PATH")]
    pub helm: Option<PathBuf>,
}

#[derive(Args, Clone, Debug, PartialEq)]
pub struct RepoArgs {
    #[command(flatten)]
    pub helm: HelmArgs,
    /// The repository's URL.
    #[arg(long, value_name = "URL", default_value = defaults::CHART_REPO_URL)]
    pub repo_url: String,
    /// The repository's local name.
    #[arg(long, value_name = "NAME", default_value = defaults::CHART_REPO_NAME)]
    pub repo_name: String,
}

/// A chart and a values document: what preflight, template and upgrade share.
#[derive(Args, Clone, Debug, PartialEq)]
pub struct ReleaseArgs {
    #[command(flatten)]
    pub helm: HelmArgs,
    /// The chart: a repository chart, a chart directory, or a .tgz.
    #[arg(long, default_value = defaults::CHART)]
    pub chart: String,
    /// The chart version (repository charts).
    #[arg(long, value_name = "VERSION")]
    pub version: Option<String>,
    /// The values document (`-` or none: stdin).
    #[arg(short = 'f', long = "values", value_name = "FILE")]
    pub values: Option<PathBuf>,
}

#[derive(Args, Clone, Debug, PartialEq)]
pub struct PreflightArgs {
    #[command(flatten)]
    pub release: ReleaseArgs,
}

#[derive(Args, Clone, Debug, PartialEq)]
pub struct TemplateArgs {
    #[command(flatten)]
    pub release: ReleaseArgs,
}

#[derive(Args, Clone, Debug, PartialEq)]
pub struct UpgradeArgs {
    #[command(flatten)]
    pub release: ReleaseArgs,
    /// Helm's `--timeout` for the upgrade (a Go duration: `10m`, `1h30m`).
    #[arg(long, value_name = "DURATION", default_value = defaults::UPGRADE_TIMEOUT, value_parser = duration::parse_arg)]
    pub timeout: Duration,
    /// Pass `--wait` to helm; refused while the migration job is a Helm hook (it would deadlock).
    #[arg(long)]
    pub wait: bool,
    /// Run the checks that do not touch the cluster and print the report with the command
    /// that would run (`would_run`, ready to paste: the values file given, no secret).
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

/// Where the private copy of the values is made (preflight, template, upgrade).
#[derive(Args, Clone, Debug, PartialEq, Default)]
pub struct WorkDirArgs {
    /// Make the private values directory (0700, removed when helm-run ends, also on Ctrl-C,
    /// SIGTERM or SIGHUP) inside DIR instead of the system temp directory. DIR must be yours
    /// and writable by no one else; a missing DIR is created with mode 0700.
    #[arg(long, value_name = "DIR")]
    pub work_dir: Option<PathBuf>,
}

/// Deploying with host key checking off, said out loud (preflight, upgrade).
#[derive(Args, Clone, Debug, PartialEq, Default)]
pub struct HostKeyArgs {
    /// Go on although `dags.gitSync.repo` is an SSH URL and `dags.gitSync.knownHosts` is empty
    /// or missing, which makes the chart turn git-sync's host key checking off (refused with
    /// exit 4 otherwise).
    #[arg(long)]
    pub allow_no_known_hosts: bool,
}

// The subcommands as parsed: the argument structs the install builds, and the flags added
// since, in structs of their own so that the install's builders keep compiling. `invoke`
// writes each back as argv.

/// `helm-run preflight`.
#[derive(Args, Clone, Debug, PartialEq)]
pub struct PreflightCommand {
    #[command(flatten)]
    pub args: PreflightArgs,
    #[command(flatten)]
    pub work: WorkDirArgs,
    #[command(flatten)]
    pub host_keys: HostKeyArgs,
}

/// `helm-run upgrade`.
#[derive(Args, Clone, Debug, PartialEq)]
pub struct UpgradeCommand {
    #[command(flatten)]
    pub args: UpgradeArgs,
    #[command(flatten)]
    pub work: WorkDirArgs,
    #[command(flatten)]
    pub host_keys: HostKeyArgs,
}

/// `helm-run template`.
#[derive(Args, Clone, Debug, PartialEq)]
pub struct TemplateCommand {
    #[command(flatten)]
    pub args: TemplateArgs,
    #[command(flatten)]
    pub work: WorkDirArgs,
}

#[derive(Args, Clone, Debug, PartialEq)]
pub struct StatusArgs {
    #[command(flatten)]
    pub helm: HelmArgs,
    /// A release that is not installed is a report (`installed: false`, `status:
    /// not-installed`) and exit 0, not an error.
    #[arg(long)]
    pub ignore_not_found: bool,
}

#[derive(Args, Clone, Debug, PartialEq)]
pub struct GetValuesArgs {
    #[command(flatten)]
    pub helm: HelmArgs,
}

/// The whole command line, for man pages and completions.
pub fn command() -> clap::Command {
    Cli::command()
}
