//! The `helm-run` binary: flags to configs, the environment read once, Ctrl-C caught, the
//! report printed as YAML. Everything else is in the library.

use std::path::PathBuf;

use airflow_kit_core::{Document, Error, ExitCode, Input, cli, interrupt, report};
use clap::Parser;
use helm_run::cli::{Cli, Commands, HostKeyArgs, ReleaseArgs, TOOL, WorkDirArgs};
use helm_run::{Context, Environment, Interrupts, ReleaseConfig, ReleaseRef, RepoConfig, StatusConfig, UpgradeConfig};

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
        return std::process::ExitCode::from(interrupt::exit_status(signal));
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
        Commands::Repo(args) => print_report(&helm_run::repo(&RepoConfig::from(&args), &ctx)?),
        Commands::Preflight(command) => {
            let config = release_config(&command.args.release, &command.work, &command.host_keys)?;
            print_report(&helm_run::preflight(&config, &ctx)?)
        }
        Commands::Upgrade(command) => {
            let args = command.args;
            let config =
                UpgradeConfig::from_args(&args, release_config(&args.release, &command.work, &command.host_keys)?);
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
        Commands::Template(command) => {
            let config = release_config(&command.args.release, &command.work, &HostKeyArgs::default())?;
            let manifests = helm_run::template(&config, &ctx)?;
            cli::write_stdout(&manifests)?;
            Ok(ExitCode::Success)
        }
        Commands::Status(args) => {
            let config =
                StatusConfig { reference: ReleaseRef::from(&args.helm), ignore_not_found: args.ignore_not_found };
            print_report(&helm_run::status(&config, &ctx)?)
        }
        Commands::GetValues(args) => {
            cli::write_stdout(&helm_run::get_values(&ReleaseRef::from(&args.helm), &ctx)?)?;
            Ok(ExitCode::Success)
        }
    }
}

fn print_report<T: serde::Serialize>(report: &T) -> Result<ExitCode, Error> {
    cli::write_stdout(&report::to_yaml(report)?)?;
    Ok(ExitCode::Success)
}

fn release_config(args: &ReleaseArgs, work: &WorkDirArgs, host_keys: &HostKeyArgs) -> Result<ReleaseConfig, Error> {
    let input = match &args.values {
        Some(path) if path.as_os_str() != "-" => Input::Path(path.clone()),
        _ => Input::Stdin,
    };
    let config = ReleaseConfig {
        work_dir: work.work_dir.clone(),
        allow_no_known_hosts: host_keys.allow_no_known_hosts,
        ..ReleaseConfig::from_args(args, Document::parse("", "<none>")?)
    };
    // Names and paths first: a typo in `--chart` should not wait for stdin.
    config.validate()?;
    Ok(ReleaseConfig { values: Document::read(&input)?, ..config })
}
