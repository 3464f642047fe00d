//! The `pod-inspect` command line as clap sees it: subcommands, flags, help and examples.
//! `main.rs` parses with it; `cargo xtask dist` renders the man pages and shell completions;
//! `invoke` writes it back as argv for the install.

use std::time::Duration;

use airflow_kit_core::cluster::ClusterArgs;
use airflow_kit_core::duration::parse_arg;
use airflow_kit_core::error::EXIT_CODES_HELP;
use clap::{Args, CommandFactory, Parser, Subcommand};

/// The name every stderr line starts with.
pub const TOOL: &str = "pod-inspect";

/// How long one kubectl call may take when `--request-timeout` is not given.
pub const REQUEST_TIMEOUT: &str = "60s";
/// `wait --interval` when not given.
pub const WAIT_INTERVAL: &str = "5s";

const AFTER_HELP: &str = "\
Examples:
  pod-inspect status                      # every pod and job of release `airflow` in namespace `airflow`
  pod-inspect wait --timeout 15m && pod-inspect dags
  pod-inspect diagnose -n data --release airflow-prod
  pod-inspect status --microk8s           # through `microk8s kubectl`, even when `kubectl` is on PATH
  pod-inspect fix                         # shows the deletes, asks before running them
  pod-inspect ui --port 8080              # http://127.0.0.1:8080";

#[derive(Parser, Clone, Debug, PartialEq)]
#[command(name = TOOL, version, about = "Read an Airflow release on Kubernetes: status, wait, DAG sync check, diagnosis with fixes, cleanup, UI access",
    after_help = format!("{AFTER_HELP}\n\n{EXIT_CODES_HELP}"))]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Which cluster and release: core's flags, the same in every tool.
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// How long one kubectl call may take (a Go duration: `30s`, `2m`).
    #[arg(long, global = true, value_name = "DURATION", default_value = REQUEST_TIMEOUT, value_parser = parse_arg)]
    pub request_timeout: Duration,
}

#[derive(Subcommand, Clone, Debug, PartialEq)]
pub enum Command {
    /// Every pod of the release (component, phase, ready, restarts, container states) and its
    /// jobs; exit 0 when healthy, 1 when not.
    Status(StatusArgs),
    /// Poll until the release is healthy; stop early (exit 1, with the diagnosis) on a failure
    /// that waiting cannot heal.
    Wait(WaitArgs),
    /// Look inside a pod running git-sync: the commit `/opt/airflow/dags/repo` points at and
    /// the DAG files under the sub-path; exit 1 when either is missing.
    Dags(DagsArgs),
    /// Match events, container states and logs against the known failures; each finding has
    /// its evidence, cause and fix, and every failed or crash-looping container's last log
    /// lines. Exit 1 when there is any finding.
    Diagnose(DiagnoseArgs),
    /// Delete the release's failed migration jobs and failed or crash-looping pods (by the
    /// release's label selector). Shows the commands and asks first, unless `--yes`.
    Fix(FixArgs),
    /// Print the release's Fernet key (decoded from `<release>-fernet-key`).
    FernetKey(FernetKeyArgs),
    /// Port-forward to the UI (api-server on Airflow 3, webserver on Airflow 2), or print the
    /// NodePort URL. Ctrl-C ends the forward.
    Ui(UiArgs),
}

/// `status` takes only the global flags.
#[derive(Args, Clone, Debug, PartialEq, Default)]
pub struct StatusArgs {}

#[derive(Args, Clone, Debug, PartialEq)]
pub struct WaitArgs {
    /// Give up after this long (a Go duration: `15m`, `900s`, `1h`).
    #[arg(long, value_name = "DURATION", default_value = airflow_kit_core::defaults::WAIT_TIMEOUT, value_parser = parse_arg)]
    pub timeout: Duration,
    /// Time between polls.
    #[arg(long, value_name = "DURATION", default_value = WAIT_INTERVAL, value_parser = parse_arg)]
    pub interval: Duration,
}

#[derive(Args, Clone, Debug, PartialEq, Default)]
pub struct DagsArgs {
    /// The pod to look into (default: a running worker, dag-processor or scheduler).
    #[arg(long, value_name = "NAME")]
    pub pod: Option<String>,
    /// The DAG folder inside the repository (default: from the release's airflow.cfg).
    #[arg(long, value_name = "PATH")]
    pub sub_path: Option<String>,
}

/// `diagnose` takes only the global flags.
#[derive(Args, Clone, Debug, PartialEq, Default)]
pub struct DiagnoseArgs {}

#[derive(Args, Clone, Debug, PartialEq, Default)]
pub struct FixArgs {
    /// Delete without asking.
    #[arg(long)]
    pub yes: bool,
}

/// `fernet-key` takes only the global flags.
#[derive(Args, Clone, Debug, PartialEq, Default)]
pub struct FernetKeyArgs {}

#[derive(Args, Clone, Debug, PartialEq)]
pub struct UiArgs {
    /// The local port.
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// The local address to bind; anything but loopback exposes the UI to the network.
    #[arg(long, default_value = "127.0.0.1")]
    pub address: String,
}

/// The whole command line, for man pages and completions.
pub fn command() -> clap::Command {
    Cli::command()
}
