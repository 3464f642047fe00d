//! `cargo xtask ci`: what CI runs, and what a developer runs before pushing.

use std::path::{Path, PathBuf};

use anyhow::Context;
use xshell::{Shell, cmd};

/// Names the file the test harness logs each skipped test to (tests/src/skip.rs reads it).
const SKIP_LOG_VARIABLE: &str = "AIRFLOW_KIT_SKIP_LOG";

pub fn run(shell: &Shell) -> anyhow::Result<()> {
    // A linter this machine lacks must never keep the tests from running: it is said loudly
    // and the run goes on (rustup's components are the usual way to get both).
    step("cargo fmt --check");
    if available(shell, "fmt") {
        cmd!(shell, "cargo fmt --all -- --check").run().context("formatting differs; run `cargo fmt --all`")?;
    } else {
        missing("cargo fmt", "rustup component add rustfmt");
    }

    step("cargo clippy -D warnings");
    if available(shell, "clippy") {
        cmd!(shell, "cargo clippy --workspace --all-targets --quiet -- -D warnings").run()?;
    } else {
        missing("cargo clippy", "rustup component add clippy");
    }

    step("install the real test tools (helm 3 and 4, kubectl, OpenSSH, git, hyperfine)");
    crate::install_test_tools(shell)?;
    // Under CI a missing tool fails the test that needs it instead of skipping it.
    shell.set_var("CI", "true");

    step("build the binaries once");
    cmd!(shell, "cargo build --workspace --bins --quiet").run()?;

    // The real Kubernetes API the cluster tests run against (scripts/test-cluster.sh): built
    // once and cached under target/test-tools, started before the tests, stopped after them
    // unless it was already running before this run (a developer's own `up` stays up).
    step("test cluster: build (cached under target/test-tools/cluster; cold, tens of minutes)");
    timed("test cluster build", || cmd!(shell, "bash scripts/test-cluster.sh build").run())?;
    let was_up = cmd!(shell, "bash scripts/test-cluster.sh status").quiet().ignore_stderr().run().is_ok();
    step("test cluster: up");
    timed("test cluster up", || cmd!(shell, "bash scripts/test-cluster.sh up").run())?;

    step("tests");
    // A fresh skip log for this run: what is in it after the tests was skipped by this run.
    let skip_log = skip_log_path();
    remove_stale(&skip_log)?;
    shell.set_var(SKIP_LOG_VARIABLE, &skip_log);
    let tests = run_tests(shell);
    // The skips are printed whether the tests passed or not, after the runner's own summary,
    // where nextest (which hides a passing test's stderr) would otherwise leave no trace.
    let logged = match std::fs::read_to_string(&skip_log) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(error) => return Err(error).with_context(|| format!("cannot read the skip log `{}`", skip_log.display())),
    };
    eprint!("{}", skip_summary(&logged));
    let down = if was_up {
        eprintln!("\n==> test cluster: left running (it was up before this run)");
        Ok(())
    } else {
        step("test cluster: down");
        timed("test cluster down", || cmd!(shell, "bash scripts/test-cluster.sh down").run())
    };
    tests?;
    down?;
    step("ci passed");
    Ok(())
}

/// True when `cargo <subcommand> --version` answers.
fn available(shell: &Shell, subcommand: &str) -> bool {
    cmd!(shell, "cargo {subcommand} --version").quiet().ignore_stdout().ignore_stderr().run().is_ok()
}

fn missing(what: &str, fix: &str) {
    eprintln!("\n!!! WARNING: `{what}` is not installed here, so this check did NOT run (install it: `{fix}`)\n");
}

fn run_tests(shell: &Shell) -> anyhow::Result<()> {
    if available(shell, "nextest") {
        // nextest does not run doctests; they go first so nextest's summary closes the log.
        cmd!(shell, "cargo test --workspace --doc --quiet").run()?;
        cmd!(shell, "cargo nextest run --workspace --no-fail-fast --failure-output final").run()?;
    } else {
        eprintln!("ci: cargo-nextest is not installed; running the tests with plain `cargo test`");
        cmd!(shell, "cargo test --workspace --no-fail-fast").run()?;
    }
    Ok(())
}

/// `test-skips.txt` in the target directory the tests are built into.
fn skip_log_path() -> PathBuf {
    let root = crate::project_root();
    let target = match std::env::var_os("CARGO_TARGET_DIR").filter(|value| !value.is_empty()) {
        // Cargo reads a relative CARGO_TARGET_DIR from where it runs: the project root here.
        Some(dir) => root.join(dir),
        None => root.join("target"),
    };
    target.join("test-skips.txt")
}

fn remove_stale(path: &Path) -> anyhow::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).with_context(|| format!("cannot create `{}`", parent.display()))?;
    }
    match std::fs::remove_file(path) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
            Err(error).with_context(|| format!("cannot remove the old skip log `{}`", path.display()))
        }
        _ => Ok(()),
    }
}

/// What the run's end says about skips: each `SKIPPED <test>: <reason>` line of the log once,
/// in the order they were logged, under a header that counts them; or that none was skipped.
fn skip_summary(log: &str) -> String {
    let mut lines: Vec<&str> = Vec::new();
    for line in log.lines().map(str::trim_end).filter(|line| line.starts_with("SKIPPED")) {
        if !lines.contains(&line) {
            lines.push(line);
        }
    }
    if lines.is_empty() {
        return "\n==> skipped tests: none\n".to_string();
    }
    let mut summary = format!(
        "\n==> skipped tests: {} (each checked nothing; its reason says what to set or install)\n",
        lines.len()
    );
    for line in lines {
        summary.push_str(line);
        summary.push('\n');
    }
    summary
}

/// Runs `work`, then prints how long it took (the cluster's build and start-up times are what
/// CI's budget is spent on, so each run shows them).
fn timed(what: &str, work: impl FnOnce() -> Result<(), xshell::Error>) -> anyhow::Result<()> {
    let start = std::time::Instant::now();
    let result = work();
    eprintln!("==> {what}: {:.1} s", start.elapsed().as_secs_f64());
    result.with_context(|| format!("{what} failed"))
}

fn step(name: &str) {
    eprintln!("\n==> {name}");
}

#[cfg(test)]
mod tests {
    use super::skip_summary;

    #[test]
    fn the_summary_lists_each_skip_once_in_order() {
        let log = "SKIPPED b: needs a real cluster: set AIRFLOW_KIT_E2E_KUBECONFIG to its kubeconfig\n\
                   SKIPPED a: Helm3 not found\n\
                   SKIPPED b: needs a real cluster: set AIRFLOW_KIT_E2E_KUBECONFIG to its kubeconfig\n\
                   something else\n";
        assert_eq!(
            skip_summary(log),
            "\n==> skipped tests: 2 (each checked nothing; its reason says what to set or install)\n\
             SKIPPED b: needs a real cluster: set AIRFLOW_KIT_E2E_KUBECONFIG to its kubeconfig\n\
             SKIPPED a: Helm3 not found\n"
        );
    }

    #[test]
    fn no_skip_says_none() {
        assert_eq!(skip_summary(""), "\n==> skipped tests: none\n");
    }
}
