//! `cargo xtask dist` end to end: the real xtask writes man pages and shell completions for
//! every tool into a temp directory; the pages carry each tool's name, examples and exit codes,
//! the completions each tool's own flags, and real bash accepts the bash completions. Every page
//! points at the failure table's own page, and none at a path in the source tree.

use std::path::Path;
use std::process::Command;

use airflow_kit_tests::bins::{Run, run_command, workspace_root};

const TOOLS: &[&str] = &["values-merge", "secret-gen", "known-hosts", "helm-run", "pod-inspect"];

/// The subcommand pages clap_mangen writes beside each tool's own page.
const SUBCOMMAND_PAGES: &[&str] = &[
    "secret-gen-deploy-key",
    "known-hosts-verify",
    "helm-run-repo",
    "helm-run-preflight",
    "helm-run-upgrade",
    "helm-run-template",
    "helm-run-status",
    "helm-run-get-values",
    "pod-inspect-status",
    "pod-inspect-wait",
    "pod-inspect-dags",
    "pod-inspect-diagnose",
    "pod-inspect-fix",
    "pod-inspect-fernet-key",
    "pod-inspect-ui",
];

/// A flag only that tool has, so a completion file cannot pass with another tool's flags.
const OWN_FLAGS: &[(&str, &[&str])] = &[
    ("values-merge", &["--in-place", "--set-literal", "--schema"]),
    ("secret-gen", &["--from-cluster", "--credentials", "--as-manifest"]),
    ("known-hosts", &["--expect-fingerprint", "--repo", "--from"]),
    ("helm-run", &["--allow-removal", "--kube-context", "get-values"]),
    ("pod-inspect", &["--request-timeout", "fernet-key", "--sub-path"]),
];

/// Runs `cargo run -p xtask -- dist --out <out>` from the workspace root.
fn dist(out: &Path) -> Run {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = Command::new(cargo);
    command.args(["run", "--quiet", "-p", "xtask", "--", "dist", "--out"]).arg(out).current_dir(workspace_root());
    let run = run_command(command, None);
    run.expect_success();
    run
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|error| panic!("cannot read `{}`: {error}", path.display()))
}

/// A man page's roff source with the escapes undone that would hide plain text from a search
/// (`values\-merge`, `file\*(Aqs`).
fn man_text(path: &Path) -> String {
    read(path).replace("\\-", "-").replace("\\*(Aq", "'")
}

#[test]
fn every_tool_has_a_man_page_with_its_name_examples_and_exit_codes() {
    let out = tempfile::tempdir().expect("temp dir");
    let run = dist(out.path());
    for tool in TOOLS {
        let page = man_text(&out.path().join("man").join(format!("{tool}.1")));
        let context = format!("man page of {tool}\n{run}\n--- page\n{page}");
        assert!(page.contains(&format!(".TH {tool} 1")), "no title line in the {context}");
        assert!(page.contains(&format!(".SH NAME\n{tool} - ")), "no NAME section in the {context}");
        assert!(page.contains("Example"), "no examples in the {context}");
        assert!(page.contains("Exit codes:"), "no exit codes in the {context}");
        assert!(
            page.contains("4  refused for safety (an unverified host key, a secret that would be overwritten)"),
            "the exit code table is incomplete in the {context}"
        );
    }
    for page in SUBCOMMAND_PAGES {
        let path = out.path().join("man").join(format!("{page}.1"));
        let text = man_text(&path);
        assert!(text.contains(&format!(".TH {page} 1")), "{} has no title line\n{text}", path.display());
    }
    // The subcommand pages carry their own examples and exit codes where the help has them.
    for page in ["secret-gen-deploy-key", "known-hosts-verify"] {
        let text = man_text(&out.path().join("man").join(format!("{page}.1")));
        assert!(text.contains("Exit codes:"), "{page}.1 lacks the exit codes\n{text}");
    }
    // clap's built-in `help` subcommand is not a page of its own.
    let mut pages: Vec<String> = std::fs::read_dir(out.path().join("man"))
        .expect("man dir")
        .map(|entry| entry.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    pages.sort();
    // Plus the failure table's page, airflow-kit-failures.7.
    assert_eq!(pages.len(), TOOLS.len() + SUBCOMMAND_PAGES.len() + 1, "unexpected pages: {pages:?}");
}

/// Every page, a tool's or a subcommand's, points at the failure table's page, which defines
/// every code F1-F21 the tools' messages name.
#[test]
fn every_page_points_at_the_failure_table_page_that_defines_every_code() {
    let out = tempfile::tempdir().expect("temp dir");
    let run = dist(out.path());
    let man = out.path().join("man");
    for page in TOOLS.iter().chain(SUBCOMMAND_PAGES) {
        let text = man_text(&man.join(format!("{page}.1")));
        assert!(
            text.contains(".SH \"SEE ALSO\"\n.BR airflow-kit-failures (7):"),
            "{page}.1 does not point at airflow-kit-failures(7)\n{run}\n--- page\n{text}"
        );
    }
    let failures = man_text(&man.join("airflow-kit-failures.7"));
    assert!(failures.starts_with(".TH airflow-kit-failures 7 "), "{failures}");
    assert!(failures.contains(".SH NAME\nairflow-kit-failures - "), "{failures}");
    for code in 1..=21 {
        assert!(failures.contains(&format!(".SS \"F{code}: ")), "F{code} has no section\n{failures}");
    }
    assert!(!failures.contains("<a id="), "web anchors leaked into the page\n{failures}");
}

/// An installed man page cannot send its reader into the source tree: no page names a path
/// under crates/, src/, docs/ or the shared test-data folder.
#[test]
fn no_man_page_points_at_a_source_tree_path() {
    let out = tempfile::tempdir().expect("temp dir");
    dist(out.path());
    let mut offenders = Vec::new();
    for entry in std::fs::read_dir(out.path().join("man")).expect("man dir") {
        let path = entry.expect("entry").path();
        let text = man_text(&path);
        for (number, line) in text.lines().enumerate() {
            if ["crates/", "src/", "docs/", "shared/"].iter().any(|needle| line.contains(needle)) {
                let name = path.file_name().unwrap_or_default().to_string_lossy().into_owned();
                offenders.push(format!("{name}:{}: {line}", number + 1));
            }
        }
    }
    assert!(offenders.is_empty(), "man pages point at source-tree paths:\n{}", offenders.join("\n"));
}

#[test]
fn completions_for_bash_zsh_and_fish_carry_each_tools_own_flags() {
    let out = tempfile::tempdir().expect("temp dir");
    let run = dist(out.path());
    let completions = out.path().join("completions");
    for (tool, flags) in OWN_FLAGS {
        for file in [format!("bash/{tool}.bash"), format!("zsh/_{tool}"), format!("fish/{tool}.fish")] {
            let text = read(&completions.join(&file));
            for flag in *flags {
                // fish spells long flags without their dashes (`-l in-place`).
                let needle = if file.starts_with("fish/") { flag.trim_start_matches('-') } else { flag };
                assert!(text.contains(needle), "{file} lacks {flag}\n{run}\n--- {file}\n{text}");
            }
        }
    }
    // None of them offers another tool's flag: each file is built from its own command line.
    let values_merge = read(&completions.join("bash/values-merge.bash"));
    assert!(!values_merge.contains("--expect-fingerprint"), "values-merge offers a known-hosts flag");
}

#[test]
fn real_bash_loads_every_bash_completion_and_registers_the_tool() {
    let out = tempfile::tempdir().expect("temp dir");
    dist(out.path());
    for tool in TOOLS {
        let file = out.path().join("completions/bash").join(format!("{tool}.bash"));
        let mut command = Command::new("bash");
        command.arg("-c").arg(r#"set -e; source "$1"; complete -p "$2""#).arg("bash").arg(&file).arg(tool);
        let run = run_command(command, None);
        run.expect_success();
        assert!(run.stdout.trim_end().ends_with(&format!(" {tool}")), "`complete -p {tool}` shows\n{run}");
    }
}

#[test]
fn a_second_run_writes_the_same_bytes() {
    // Packagers diff generated files between releases: no dates, no paths, no ordering noise.
    let first = tempfile::tempdir().expect("temp dir");
    let second = tempfile::tempdir().expect("temp dir");
    dist(first.path());
    dist(second.path());
    let mut files = Vec::new();
    collect_files(first.path(), first.path(), &mut files);
    assert!(files.len() > 30, "only {} files were written", files.len());
    for relative in files {
        let (a, b) = (read(&first.path().join(&relative)), read(&second.path().join(&relative)));
        assert_eq!(a, b, "{} differs between two runs", relative.display());
        assert!(!a.contains(&first.path().display().to_string()), "{} names its output dir", relative.display());
    }
}

fn collect_files(root: &Path, dir: &Path, files: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            collect_files(root, &path, files);
        } else {
            files.push(path.strip_prefix(root).expect("under root").to_path_buf());
        }
    }
}
