//! `cargo xtask ci`: what CI runs, and what a developer runs before pushing.

use anyhow::Context;
use xshell::{Shell, cmd};

pub fn run(shell: &Shell) -> anyhow::Result<()> {
    step("cargo fmt --check");
    cmd!(shell, "cargo fmt --all -- --check").run().context("formatting differs; run `cargo fmt --all`")?;

    step("cargo clippy -D warnings");
    cmd!(shell, "cargo clippy --workspace --all-targets --quiet -- -D warnings").run()?;

    step("install the real test tools (helm 3 and 4, kubectl, OpenSSH, git, hyperfine)");
    crate::install_test_tools(shell)?;
    // Under CI a missing tool fails the test that needs it instead of skipping it.
    shell.set_var("CI", "true");

    step("build the binaries once");
    cmd!(shell, "cargo build --workspace --bins --quiet").run()?;

    step("tests");
    if cmd!(shell, "cargo nextest --version").quiet().ignore_stdout().ignore_stderr().run().is_ok() {
        // nextest does not run doctests; they go first so nextest's summary closes the log.
        cmd!(shell, "cargo test --workspace --doc --quiet").run()?;
        cmd!(shell, "cargo nextest run --workspace --no-fail-fast --failure-output final").run()?;
    } else {
        cmd!(shell, "cargo test --workspace --no-fail-fast").run()?;
    }
    step("ci passed");
    Ok(())
}

fn step(name: &str) {
    eprintln!("\n==> {name}");
}
