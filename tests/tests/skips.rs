//! The skip mechanism itself, judged by a real libtest run: this test runs its own test
//! executable again as a child with a tool missing, so the child's output is exactly what
//! `cargo test` shows of a passing test (captured), and its skip log what `cargo xtask ci`
//! prints after the summary (what survives nextest, which hides a passing test's stderr).

use std::path::Path;
use std::process::Command;

use airflow_kit_tests::Run;
use airflow_kit_tests::bins::run_command;
use airflow_kit_tests::skip::{LOG_VARIABLE, e2e_kubeconfig};
use airflow_kit_tests::tools::{Tool, require_tool};

/// Set in the child: what it does instead of checking the parent's way.
const PROBE: &str = "AIRFLOW_KIT_SKIP_PROBE";

/// The test name libtest (and nextest) run this test under.
const NAME: &str = "a_missing_tool_skips_visibly_outside_ci_and_fails_under_ci";

#[test]
fn a_missing_tool_skips_visibly_outside_ci_and_fails_under_ci() {
    // The child: a missing helm and no cluster, as on a developer machine without the tools.
    if let Some(probe) = std::env::var_os(PROBE) {
        assert_eq!(probe, "1");
        assert_eq!(require_tool(Tool::Helm3, "skips::probe"), None);
        assert_eq!(e2e_kubeconfig("skips::probe_cluster"), None);
        return;
    }

    let dir = tempfile::tempdir().expect("temp dir");
    let missing = dir.path().join("no-such-helm3");

    // Outside CI: the child passes, and each skip shows in the captured output and the log.
    let log = dir.path().join("skips.txt");
    let run = probe(&missing, &log, None);
    run.expect_success().expect_stdout_contains("test result: ok. 1 passed");
    let helm_line = format!(
        "SKIPPED skips::probe: Helm3 not found: AIRFLOW_KIT_HELM3 names `{}`, which does not exist",
        missing.display()
    );
    let cluster_line =
        "SKIPPED skips::probe_cluster: needs a real cluster: set AIRFLOW_KIT_E2E_KUBECONFIG to its kubeconfig";
    // The lines are on the child's stderr although libtest captured the test's output: a
    // skip printed with `eprintln!` would not be there.
    run.expect_stderr_contains(&helm_line).expect_stderr_contains(cluster_line);
    let logged = std::fs::read_to_string(&log).unwrap_or_else(|error| panic!("no skip log: {error}\n{run}"));
    let lines: Vec<&str> = logged.lines().collect();
    assert_eq!(lines.len(), 2, "{logged}");
    assert!(lines[0].starts_with(&helm_line), "{logged}");
    assert_eq!(lines[1], cluster_line, "{logged}");

    // Under CI: the same missing tool fails the test, says why and what to run, logs no skip.
    let ci_log = dir.path().join("ci-skips.txt");
    let run = probe(&missing, &ci_log, Some("true"));
    run.expect_code(101)
        .expect_stdout_contains("test result: FAILED. 0 passed; 1 failed")
        .expect_stdout_contains("skips::probe: Helm3 not found: AIRFLOW_KIT_HELM3 names")
        .expect_stdout_contains("hint: under CI every test tool must be installed; run scripts/install-test-tools.sh");
    assert!(!ci_log.exists(), "a CI failure was logged as a skip");

    // `CI=false` is a person saying "not CI": a skip again.
    let run = probe(&missing, &dir.path().join("false-skips.txt"), Some("false"));
    run.expect_success().expect_stderr_contains(&helm_line);
}

/// Runs this very test in a child test process, as the probe, with helm named missing.
fn probe(missing_helm: &Path, log: &Path, ci: Option<&str>) -> Run {
    let exe = std::env::current_exe().expect("own test executable");
    let mut command = Command::new(exe);
    command
        .args([NAME, "--exact", "--test-threads", "1"])
        .env(PROBE, "1")
        .env("AIRFLOW_KIT_HELM3", missing_helm)
        .env(LOG_VARIABLE, log)
        .env_remove("AIRFLOW_KIT_E2E_KUBECONFIG")
        .env_remove("CI")
        // The child's own output must be libtest's default (captured), whatever ours is.
        .env_remove("RUST_TEST_NOCAPTURE");
    if let Some(value) = ci {
        command.env("CI", value);
    }
    run_command(command, None)
}

/// `cargo xtask ci` prints the log the harness writes: the same variable, file and prefix
/// (xtask is a binary, so the names are checked in its source rather than imported).
#[test]
fn cargo_xtask_ci_reads_the_log_the_harness_writes() {
    use airflow_kit_tests::skip::{DEFAULT_LOG_NAME, PREFIX};
    let path = airflow_kit_tests::bins::workspace_root().join("xtask/src/ci.rs");
    let source = std::fs::read_to_string(&path).expect("xtask/src/ci.rs");
    for needle in [format!("\"{LOG_VARIABLE}\""), format!("\"{DEFAULT_LOG_NAME}\""), format!("\"{PREFIX}\"")] {
        assert!(source.contains(&needle), "{} does not use {needle}", path.display());
    }
}
