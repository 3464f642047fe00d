//! `cargo xtask`: the project's own commands. This file only parses flags and dispatches;
//! each task lives in its own module.

mod adopt;
mod bench;
mod ci;
mod cluster;
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
    Install(Box<install::InstallArgs>),
    /// Take over an install made by hand: rebuild the cumulative values from the release, pin
    /// the secrets the chart generated to their live values, keep and check the deploy key.
    Adopt(adopt::AdoptArgs),
    /// Man pages and bash, zsh and fish completions for every tool, into target/dist.
    Dist(dist::DistArgs),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let shell = xshell::Shell::new()?;
    shell.change_dir(project_root());
    match cli.task {
        Task::Ci => ci::run(&shell),
        Task::Bench(args) => bench::run(&shell, &args),
        Task::Install(args) => {
            // Relative paths in flags are the user's: the steps run in the process's own
            // directory; only `cargo build` runs in the project root (the shell's directory).
            let code = install::run(&shell, &args)?;
            std::process::exit(code);
        }
        Task::Adopt(args) => {
            let code = adopt::run(&shell, &args)?;
            std::process::exit(code);
        }
        Task::Dist(args) => dist::run(&args),
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
