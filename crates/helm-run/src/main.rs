//! The `helm-run` binary: flags to configs, the environment read once, Ctrl-C caught, the
//! report printed as YAML. Everything else is in the library.

use std::path::PathBuf;

use airflow_kit_core::error::EXIT_CODES_HELP;
use airflow_kit_core::{Document, Error, ExitCode, Input, cli, json_to_yaml};
use clap::{Args, Parser, Subcommand};
use helm_run::{
    ClusterFlags, Context, Environment, HelmConfig, Interrupts, ReleaseConfig, ReleaseRef, RepoConfig, UpgradeConfig,
};

const TOOL: &str = "helm-run";

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
struct Cli {
    #[command(subcommand)]
    command: Commands,
}

#[derive(Subcommand)]
enum Commands {
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
struct HelmArgs {
    /// The helm binary (default: `helm` on PATH, else `microk8s helm3`).
    #[arg(long, value_name = "PATH")]
    helm: Option<PathBuf>,
    /// The kubeconfig helm uses (default: helm's own: KUBECONFIG, ~/.kube/config).
    #[arg(long, value_name = "PATH")]
    kubeconfig: Option<PathBuf>,
    /// The kubeconfig context helm uses.
    #[arg(long, value_name = "NAME")]
    kube_context: Option<String>,
}

#[derive(Args)]
struct RepoArgs {
    #[command(flatten)]
    helm: HelmArgs,
    /// The repository's URL.
    #[arg(long, default_value = helm_run::DEFAULT_REPO_URL)]
    repo_url: String,
    /// The repository's local name.
    #[arg(long, default_value = helm_run::DEFAULT_REPO_NAME)]
    repo_name: String,
}

#[derive(Args)]
struct RefArgs {
    #[command(flatten)]
    helm: HelmArgs,
    /// The release name.
    #[arg(long, default_value = helm_run::DEFAULT_RELEASE)]
    release: String,
    /// The release's namespace.
    #[arg(short = 'n', long, default_value = helm_run::DEFAULT_NAMESPACE)]
    namespace: String,
}

#[derive(Args)]
struct ReleaseArgs {
    #[command(flatten)]
    reference: RefArgs,
    /// The chart: a repository chart, a chart directory, or a .tgz.
    #[arg(long, default_value = helm_run::DEFAULT_CHART)]
    chart: String,
    /// The chart version (repository charts).
    #[arg(long, value_name = "VERSION")]
    version: Option<String>,
    /// The values document (`-` or none: stdin).
    #[arg(short = 'f', long = "values", value_name = "FILE")]
    values: Option<String>,
}

#[derive(Args)]
struct UpgradeArgs {
    #[command(flatten)]
    release: ReleaseArgs,
    /// Helm's `--timeout` for the upgrade (a Go duration).
    #[arg(long, default_value = helm_run::DEFAULT_TIMEOUT)]
    timeout: String,
    /// Pass `--wait` to helm; refused while the migration job is a Helm hook (it would deadlock).
    #[arg(long)]
    wait: bool,
    /// Run the checks that do not touch the cluster and print the report with the command
    /// that would run.
    #[arg(long)]
    dry_run: bool,
    /// Let the upgrade drop this deployed value, and everything under it (repeatable; a path
    /// as the report spells it, e.g. `dags.gitSync`; a dot inside a key is `\.`).
    #[arg(long, value_name = "PATH")]
    allow_removal: Vec<String>,
    /// Let the upgrade drop any deployed value the new values lack.
    #[arg(long)]
    allow_removals: bool,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let interrupts = match Interrupts::install() {
        Ok(interrupts) => interrupts,
        Err(error) => return cli::finish(TOOL, Err(error)),
    };
    let result = run(cli, &interrupts);
    if let Some(signal) = interrupts.received() {
        // helm has been told and waited for, and the values file is gone; the shell's
        // convention for "stopped by signal N" is 128 + N.
        let error = helm_run::interrupt::interrupted_error(signal);
        let _ = cli::finish(TOOL, Err(error));
        return std::process::ExitCode::from(128 + signal as u8);
    }
    cli::finish(TOOL, result)
}

fn run(cli: Cli, interrupts: &Interrupts) -> Result<ExitCode, Error> {
    let env = Environment {
        path: std::env::var_os("PATH"),
        kubeconfig: std::env::var_os("KUBECONFIG"),
        home: std::env::var_os("HOME").map(PathBuf::from),
        temp_dir: std::env::temp_dir(),
    };
    let say = |line: &str| cli::say(TOOL, line);
    let ctx = Context { env: &env, interrupts, say: &say };
    match cli.command {
        Commands::Repo(args) => {
            let config = RepoConfig { helm: helm_config(args.helm), name: args.repo_name, url: args.repo_url };
            print_report(&helm_run::repo(&config, &ctx)?)
        }
        Commands::Preflight(args) => {
            let config = release_config(args)?;
            print_report(&helm_run::preflight(&config, &ctx)?)
        }
        Commands::Upgrade(args) => {
            let timeout_duration = helm_run::parse_timeout(&args.timeout)?;
            let config = UpgradeConfig {
                release: release_config(args.release)?,
                timeout: args.timeout,
                timeout_duration,
                wait: args.wait,
                dry_run: args.dry_run,
                allow_removal: args.allow_removal,
                allow_removals: args.allow_removals,
            };
            config.validate()?;
            match helm_run::upgrade(&config, &ctx) {
                Ok(report) => print_report(&report),
                Err(stopped) => {
                    // A refused drop still prints its report: the lists are what to act on.
                    if let Some(report) = stopped.report {
                        print_report(&report)?;
                    }
                    Err(*stopped.error)
                }
            }
        }
        Commands::Template(args) => {
            let config = release_config(args)?;
            let manifests = helm_run::template(&config, &ctx)?;
            cli::write_stdout(&manifests)?;
            Ok(ExitCode::Success)
        }
        Commands::Status(args) => print_report(&helm_run::status(&release_ref(args), &ctx)?),
        Commands::GetValues(args) => {
            cli::write_stdout(&helm_run::get_values(&release_ref(args), &ctx)?)?;
            Ok(ExitCode::Success)
        }
    }
}

fn print_report(report: &serde_json::Value) -> Result<ExitCode, Error> {
    cli::write_stdout(&json_to_yaml(report))?;
    Ok(ExitCode::Success)
}

fn helm_config(args: HelmArgs) -> HelmConfig {
    HelmConfig {
        helm: args.helm,
        cluster: ClusterFlags { kubeconfig: args.kubeconfig, kube_context: args.kube_context },
    }
}

fn release_ref(args: RefArgs) -> ReleaseRef {
    ReleaseRef { helm: helm_config(args.helm), release: args.release, namespace: args.namespace }
}

fn release_config(args: ReleaseArgs) -> Result<ReleaseConfig, Error> {
    let input = Input::from_arg(args.values.as_deref().unwrap_or("-"));
    let config = ReleaseConfig {
        helm: helm_config(args.reference.helm),
        release: args.reference.release,
        namespace: args.reference.namespace,
        chart: args.chart,
        chart_version: args.version,
        values: Document::parse("", "<none>")?,
    };
    // Names and paths first: a typo in `--chart` should not wait for stdin.
    config.validate()?;
    Ok(ReleaseConfig { values: Document::read(&input)?, ..config })
}
