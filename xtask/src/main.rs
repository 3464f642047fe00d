//! `cargo xtask`: the project's own commands. This file only parses flags and dispatches;
//! each task lives in its own module.

mod bench;
mod ci;
mod dist;
mod install;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "cargo xtask", about = "airflow-kit's project tasks")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Format check, clippy, install the real test tools, and run every test.
    Ci,
    /// Benchmarks against helm, ssh-keygen and ssh-keyscan with hyperfine (release builds).
    Bench(bench::BenchArgs),
    /// Install Airflow: preflight, secrets, deploy key, known hosts, cumulative values,
    /// repository access check, helm upgrade, wait, DAG check. Safe to run again.
    Install(Box<install::InstallCommand>),
    /// Take over an install made by hand: rebuild the cumulative values from the release, pin
    /// the secrets the chart generated to their live values, keep and check the deploy key.
    Adopt(install::AdoptCommand),
    /// Man pages and bash, zsh and fish completions for every tool, into target/dist.
    Dist(dist::DistArgs),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match cli.task {
        // Relative paths in flags are the user's: install and adopt run in the process's own
        // directory; only their `cargo build` runs in the project root.
        Task::Install(command) => install::install(&command),
        Task::Adopt(command) => install::adopt(&command),
        Task::Ci => report(xshell::Shell::new().map_err(Into::into).and_then(|shell| in_root(shell, ci::run))),
        Task::Bench(args) => {
            report(xshell::Shell::new().map_err(Into::into).and_then(|shell| in_root(shell, |s| bench::run(s, &args))))
        }
        Task::Dist(args) => report(dist::run(&args)),
    }
}

fn in_root(shell: xshell::Shell, task: impl FnOnce(&xshell::Shell) -> anyhow::Result<()>) -> anyhow::Result<()> {
    shell.change_dir(project_root());
    task(&shell)
}

/// The project's own tasks (ci, bench, dist) fail with the failing command's message.
fn report(result: anyhow::Result<()>) -> std::process::ExitCode {
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("xtask: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// The workspace root: xtask's manifest sits one level below it.
pub fn project_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask is inside the workspace").to_path_buf()
}

/// Runs scripts/install-test-tools.sh and exports the tool paths it prints
/// (`export AIRFLOW_KIT_HELM3=...`) into this process, for the tests and benchmarks.
pub fn install_test_tools(shell: &xshell::Shell) -> anyhow::Result<()> {
    let exports = xshell::cmd!(shell, "bash scripts/install-test-tools.sh").read()?;
    for line in exports.lines() {
        if let Some((name, value)) = line.strip_prefix("export ").and_then(|rest| rest.split_once('=')) {
            shell.set_var(name, value);
        }
    }
    Ok(())
}
