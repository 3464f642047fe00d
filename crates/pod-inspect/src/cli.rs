//! The `pod-inspect` command line as clap sees it: subcommands, flags, help and examples.
//! `main.rs` parses with it; `cargo xtask dist` renders the man pages and shell completions.

use std::path::PathBuf;
use std::time::Duration;

use airflow_kit_core::error::EXIT_CODES_HELP;
use clap::{CommandFactory, Parser, Subcommand};

use crate::parse_duration;

/// The name every stderr line starts with.
pub const TOOL: &str = "pod-inspect";

const AFTER_HELP: &str = "\
Examples:
  pod-inspect status                      # every pod and job of release `airflow` in namespace `airflow`
  pod-inspect wait --timeout 15m && pod-inspect dags
  pod-inspect diagnose -n data --release airflow-prod
  pod-inspect fix                         # shows the deletes, asks before running them
  pod-inspect ui --port 8080              # http://127.0.0.1:8080";

#[derive(Parser)]
#[command(name = TOOL, version, about = "Read an Airflow release on Kubernetes: status, wait, DAG sync check, diagnosis with fixes, cleanup, UI access",
    after_help = format!("{AFTER_HELP}\n\n{EXIT_CODES_HELP}"))]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// The kubeconfig file kubectl uses (kubectl's default when not given).
    #[arg(long, global = true)]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use.
    #[arg(long, global = true)]
    pub context: Option<String>,
    /// The release's namespace.
    #[arg(short = 'n', long, global = true, default_value = "airflow")]
    pub namespace: String,
    /// The Helm release name.
    #[arg(long, global = true, default_value = "airflow")]
    pub release: String,
    /// How long one kubectl call may take.
    #[arg(long, global = true, default_value = "60s", value_parser = parse_duration)]
    pub request_timeout: Duration,
}

#[derive(Subcommand)]
pub enum Command {
    /// Every pod of the release (component, phase, ready, restarts, container states) and its
    /// jobs; exit 0 when healthy, 1 when not.
    Status,
    /// Poll until the release is healthy; stop early (exit 1, with the diagnosis) on a failure
    /// that waiting cannot heal.
    Wait {
        /// Give up after this long (`15m`, `900s`, `1h`).
        #[arg(long, default_value = "15m", value_parser = parse_duration)]
        timeout: Duration,
        /// Time between polls.
        #[arg(long, default_value = "5s", value_parser = parse_duration)]
        interval: Duration,
    },
    /// Look inside a pod running git-sync: the commit `/opt/airflow/dags/repo` points at and
    /// the DAG files under the sub-path; exit 1 when either is missing.
    Dags {
        /// The pod to look into (default: a running worker, dag-processor or scheduler).
        #[arg(long)]
        pod: Option<String>,
        /// The DAG folder inside the repository (default: from the release's airflow.cfg).
        #[arg(long)]
        sub_path: Option<String>,
    },
    /// Match events, container states and logs against the known failures; each finding has
    /// its evidence, cause and fix. Exit 1 when there is any finding.
    Diagnose,
    /// Delete the release's failed migration jobs and failed or crash-looping pods (by the
    /// release's label selector). Shows the commands and asks first, unless `--yes`.
    Fix {
        /// Delete without asking.
        #[arg(long)]
        yes: bool,
    },
    /// Print the release's Fernet key (decoded from `<release>-fernet-key`).
    FernetKey,
    /// Port-forward to the UI (api-server on Airflow 3, webserver on Airflow 2), or print the
    /// NodePort URL. Ctrl-C ends the forward.
    Ui {
        /// The local port.
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// The local address to bind; anything but loopback exposes the UI to the network.
        #[arg(long, default_value = "127.0.0.1")]
        address: String,
    },
}

/// The whole command line, for man pages and completions.
pub fn command() -> clap::Command {
    Cli::command()
}
