//! The `helm-run` binary: flags to configs, the environment read once, Ctrl-C caught, the
//! report printed as YAML. Everything else is in the library.

use std::path::PathBuf;

use airflow_kit_core::{Document, Error, ExitCode, Input, cli, json_to_yaml};
use clap::Parser;
use helm_run::cli::{Cli, Commands, HelmArgs, RefArgs, ReleaseArgs, TOOL};
use helm_run::{
    ClusterFlags, Context, Environment, HelmConfig, Interrupts, ReleaseConfig, ReleaseRef, RepoConfig, UpgradeConfig,
};

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
        let _ = cli::finish(TOOL, Err(helm_run::interrupted_error(signal)));
        return std::process::ExitCode::from(airflow_kit_core::interrupt::exit_status(signal));
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
