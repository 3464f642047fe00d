//! Skips that show. A test that cannot run here (a tool is missing outside CI, no real cluster
//! is named) must not read as a plain `ok`: each skip is written, with its reason, where a
//! person sees it under both `cargo test` and `cargo nextest run`, and kept in a log that
//! `cargo xtask ci` prints after the test runner's own summary.
//!
//! Why two places: libtest captures what a passing test prints with `eprintln!` and throws it
//! away, so the line goes to the process's stderr handle directly (libtest's capture only
//! covers the `print!` family), which `cargo test` shows inline. nextest captures each test
//! process's stderr as a whole and hides it for a passing test, so the log file is what
//! survives there; `cargo xtask ci` empties it before the run and prints it after.

use std::io::Write;
use std::path::PathBuf;

/// Names the skip log. `cargo xtask ci` sets it to a file it empties before the tests run.
pub const LOG_VARIABLE: &str = "AIRFLOW_KIT_SKIP_LOG";

/// The log's file name in the target directory when [`LOG_VARIABLE`] is not set.
pub const DEFAULT_LOG_NAME: &str = "test-skips.txt";

/// Every skip line starts with this word, in the log and on stderr.
pub const PREFIX: &str = "SKIPPED";

/// Whether this run is CI's: `CI` set to anything but empty, `0` or `false` (the value CI
/// services set is `true`; `CI=false` is how a person says "not CI").
pub fn under_ci() -> bool {
    ci_value_means_ci(std::env::var("CI").ok().as_deref())
}

/// Where skips are logged: [`LOG_VARIABLE`], else `test-skips.txt` in the target directory
/// this test executable was built into (so `CARGO_TARGET_DIR` is followed).
pub fn log_path() -> PathBuf {
    if let Some(path) = std::env::var_os(LOG_VARIABLE).filter(|value| !value.is_empty()) {
        return PathBuf::from(path);
    }
    match crate::bins::target_dir() {
        Some(dir) => dir.join(DEFAULT_LOG_NAME),
        // Not reachable for a test built by cargo; a file in the working directory still
        // keeps the skip visible rather than losing it.
        None => PathBuf::from(DEFAULT_LOG_NAME),
    }
}

/// Records that `test` did not run, and why: one `SKIPPED <test>: <reason>` line on stderr
/// (uncaptured) and in the skip log. Call it and return from the test; never call it for a
/// tool CI must have (use [`crate::tools::require_tool`], which fails under CI instead).
pub fn skip(test: &str, reason: &str) {
    let line = skip_line(test, reason);
    // `write_all` on the handle, not `eprintln!`: libtest would capture and drop the latter.
    let _ = std::io::stderr().write_all(line.as_bytes());
    let path = log_path();
    let appended = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        // One write per line: appends of a short line from parallel test processes (nextest)
        // do not interleave within the line.
        .and_then(|mut file| file.write_all(line.as_bytes()));
    if let Err(error) = appended {
        let warning = format!("{PREFIX} (not logged: cannot append to `{}`: {error})\n", path.display());
        let _ = std::io::stderr().write_all(warning.as_bytes());
    }
}

/// Names the kubeconfig of a real cluster for the tests that need one.
pub const E2E_KUBECONFIG_VARIABLE: &str = "AIRFLOW_KIT_E2E_KUBECONFIG";

/// The kubeconfig of the real cluster [`E2E_KUBECONFIG_VARIABLE`] names, or None after a
/// visible skip. Not a failure under CI: CI has no real cluster, by design.
pub fn e2e_kubeconfig(test: &str) -> Option<std::ffi::OsString> {
    let kubeconfig = std::env::var_os(E2E_KUBECONFIG_VARIABLE).filter(|value| !value.is_empty());
    if kubeconfig.is_none() {
        skip(test, &format!("needs a real cluster: set {E2E_KUBECONFIG_VARIABLE} to its kubeconfig"));
    }
    kubeconfig
}

/// The running test's name, as libtest and nextest name the thread that runs it
/// (`module::test_name`), for harness functions that skip on a test's behalf.
pub fn current_test() -> String {
    std::thread::current().name().unwrap_or("<a test>").to_string()
}

/// The line a skip writes, newline included. Reasons are one line: a newline in one would
/// split the skip into two log lines, of which the second would not say which test it was.
pub fn skip_line(test: &str, reason: &str) -> String {
    format!("{PREFIX} {test}: {}\n", reason.replace(['\r', '\n'], " "))
}

fn ci_value_means_ci(value: Option<&str>) -> bool {
    match value {
        None => false,
        Some(value) => !matches!(value.trim().to_ascii_lowercase().as_str(), "" | "0" | "false" | "no"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ci_is_any_value_but_the_ones_that_say_no() {
        for (value, expected) in [
            (None, false),
            (Some(""), false),
            (Some("0"), false),
            (Some("false"), false),
            (Some("FALSE"), false),
            (Some("no"), false),
            (Some("true"), true),
            (Some("1"), true),
            (Some("yes"), true),
        ] {
            assert_eq!(ci_value_means_ci(value), expected, "CI={value:?}");
        }
    }

    #[test]
    fn a_skip_line_names_the_test_and_stays_one_line() {
        assert_eq!(skip_line("t", "helm is missing"), "SKIPPED t: helm is missing\n");
        assert_eq!(skip_line("t", "a\nb\r\nc"), "SKIPPED t: a b  c\n");
    }
}
