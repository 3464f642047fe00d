//! `cargo xtask bench`: hyperfine runs of our release binaries side by side with the real
//! programs they replace (helm, ssh-keygen, ssh-keyscan), and peak memory with /usr/bin/time.
//! Figures are printed, never asserted: these machines are shared and noisy.

use std::path::{Path, PathBuf};

use anyhow::Context;
use xshell::{Shell, cmd};

mod helm_run;
mod known_hosts;
mod pod_inspect;
mod secret_gen;
mod startup;
mod values_merge;

#[derive(clap::Args)]
pub struct BenchArgs {
    /// Only the benchmark groups whose name contains this (values-merge, secret-gen, ...).
    pub only: Option<String>,
    /// Runs per command (hyperfine --runs); more gives steadier medians.
    #[arg(long, default_value_t = 30)]
    pub runs: u32,
}

/// What each group needs: the shell, a scratch directory, the release binaries and tools.
pub struct Bench<'a> {
    pub shell: &'a Shell,
    pub scratch: PathBuf,
    pub bin: PathBuf,
    pub runs: u32,
}

type Group = (&'static str, fn(&Bench) -> anyhow::Result<()>);

const GROUPS: &[Group] = &[
    ("startup", startup::run),
    ("values-merge", values_merge::run),
    ("secret-gen", secret_gen::run),
    ("known-hosts", known_hosts::run),
    ("helm-run", helm_run::run),
    ("pod-inspect", pod_inspect::run),
];

pub fn run(shell: &Shell, args: &BenchArgs) -> anyhow::Result<()> {
    crate::install_test_tools(shell)?;
    cmd!(shell, "cargo build --release --workspace --bins --quiet").run()?;
    for (name, group) in GROUPS {
        if args.only.as_deref().is_some_and(|only| !name.contains(only)) {
            continue;
        }
        // Each group gets its own scratch directory, so two bench runs never clear each other's.
        let scratch = crate::project_root().join("target/bench").join(name);
        shell.remove_path(&scratch)?;
        shell.create_dir(&scratch)?;
        let bench = Bench { shell, scratch, bin: crate::project_root().join("target/release"), runs: args.runs };
        eprintln!("\n==> bench {name}");
        group(&bench).with_context(|| format!("bench group {name}"))?;
    }
    Ok(())
}

impl Bench<'_> {
    /// A test tool's path as scripts/install-test-tools.sh reported it (AIRFLOW_KIT_HELM3, ...).
    pub fn tool(&self, variable: &str) -> Option<std::path::PathBuf> {
        self.shell.var(variable).ok().map(std::path::PathBuf::from)
    }
}

/// Median seconds of each command, from one hyperfine run (so ratios compare like with like).
pub fn hyperfine(bench: &Bench, name: &str, commands: &[(&str, String)]) -> anyhow::Result<Vec<f64>> {
    let json = bench.scratch.join(format!("{name}.json"));
    let mut args: Vec<String> =
        vec!["--warmup".into(), "3".into(), "--runs".into(), bench.runs.to_string(), "-N".into()];
    args.push("--export-json".into());
    args.push(json.display().to_string());
    for (label, command) in commands {
        args.push("--command-name".into());
        args.push((*label).to_string());
        args.push(command.clone());
    }
    // -N runs without a shell where possible; commands with pipes or redirects need one.
    if commands.iter().any(|(_, c)| c.contains('|') || c.contains('<') || c.contains('>')) {
        args.retain(|arg| arg != "-N");
    }
    cmd!(bench.shell, "hyperfine {args...}").run()?;
    let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json)?)?;
    let medians = report["results"]
        .as_array()
        .context("hyperfine's export has results")?
        .iter()
        .map(|result| result["median"].as_f64().unwrap_or(f64::NAN))
        .collect();
    Ok(medians)
}

/// Peak resident memory of one run of a shell command, in MiB (GNU time's `%M`).
pub fn peak_rss_mib(command: &str) -> anyhow::Result<f64> {
    let output = std::process::Command::new("/usr/bin/time")
        .args(["-f", "%M", "bash", "-c", &format!("{command} >/dev/null")])
        .output()
        .context("/usr/bin/time runs (scripts/install-test-tools.sh installs it)")?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    let kib: f64 = stderr.lines().last().unwrap_or("").trim().parse().context("read /usr/bin/time's output")?;
    Ok(kib / 1024.0)
}

pub fn print_ratio(what: &str, ours: f64, theirs: f64, target: &str) {
    eprintln!(
        "{what}: ours {:.2} ms, theirs {:.2} ms, ratio {:.1}x ({target})",
        ours * 1e3,
        theirs * 1e3,
        theirs / ours
    );
}

pub fn shared_dir() -> PathBuf {
    crate::project_root().parent().map(Path::to_path_buf).unwrap_or_default().join("shared")
}
