//! values-merge as a user runs it: the cumulative file edited in place with its comments,
//! `--unset`, the real chart schema's three classic mistakes, explain and diff, and every
//! kind of bad input refused with exit 2, nothing on stdout, and the cumulative file untouched.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use airflow_kit_tests::bins::{run_tool, shared_dir};

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write");
    name.to_string()
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).expect("metadata").permissions().mode() & 0o777
}

const CUMULATIVE: &str = "\
# Airflow on MicroK8s: our cumulative values file.
executor: CeleryExecutor   # keep Celery

# Static key (see failures F9).
webserverSecretKey: 'abc123'

dags:
  gitSync:
    enabled: yes          # YAML 1.1 yes: Helm reads true
    repo: git@github.com:me/dags.git
    branch: main

    # comment before the last key
    subPath: dags
images:
  airflow:
    tag: \"2.10.5\"
";

#[test]
fn in_place_changes_only_the_lines_whose_values_change() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cumulative = dir.path().join("values.yaml");
    std::fs::write(&cumulative, CUMULATIVE).expect("write");
    std::fs::set_permissions(&cumulative, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let overlay = write(
        dir.path(),
        "overlay.yaml",
        "dags:\n  gitSync:\n    branch: release\n    ref: release\nworkers:\n  replicas: 2\n",
    );
    let run = run_tool(
        "values-merge",
        &["--in-place", cumulative.to_str().expect("utf-8"), &overlay, "--set", "images.airflow.tag=2.10.6"],
        None,
        dir.path(),
    );
    run.expect_success();
    assert_eq!(run.stdout, "", "in-place writes the file, not stdout");
    let after = std::fs::read_to_string(&cumulative).expect("read");
    let expected = CUMULATIVE
        .replace("    branch: main\n", "    branch: release\n")
        .replace("    subPath: dags\n", "    subPath: dags\n    ref: release\n")
        .replace("    tag: \"2.10.5\"\n", "    tag: \"2.10.6\"\n")
        + "workers:\n  replicas: 2\n";
    assert_eq!(after, expected);
    assert_eq!(mode(&cumulative), 0o600, "the cumulative file holds secrets: 0600");

    // Running the same merge again changes nothing, byte for byte.
    let again = run_tool(
        "values-merge",
        &["--in-place", cumulative.to_str().expect("utf-8"), &overlay, "--set", "images.airflow.tag=2.10.6"],
        None,
        dir.path(),
    );
    again.expect_success().expect_stderr_contains("unchanged");
    assert_eq!(std::fs::read_to_string(&cumulative).expect("read"), expected);
}

#[test]
fn stdin_is_the_default_input_and_output_is_idempotent() {
    let dir = tempfile::tempdir().expect("temp dir");
    let first = run_tool("values-merge", &["--set", "a.b=yes", "--set-string", "c=10"], Some(CUMULATIVE), dir.path());
    first.expect_success();
    assert!(!first.stdout.contains("# "), "stdout is the document without comments");
    assert!(first.stdout.contains("enabled: yes\n"), "a plain yes stays plain: Helm reads it as true\n{first}");
    assert!(first.stdout.contains("b: \"yes\"\n"), "a --set string yes must be quoted\n{first}");
    let second = run_tool("values-merge", &[], Some(&first.stdout), dir.path());
    second.expect_success();
    assert_eq!(second.stdout, first.stdout);
}

/// The three mistakes users make, against both real charts' schemas.
#[test]
fn schema_lists_every_error_with_its_path_and_place() {
    let dir = tempfile::tempdir().expect("temp dir");
    let values = write(
        dir.path(),
        "values.yaml",
        "dags:\n  gitsync:\n    enabled: true\n  persistence:\n    enabled: \"yes\"\nextraSecrets:\n  airflow-ssh-secret:\n    data:\n      gitSshKey: abc\n",
    );
    for chart in ["1.15.0", "1.20.0"] {
        let schema = shared_dir().join(format!("airflow-chart/{chart}/values.schema.json"));
        let run = run_tool("values-merge", &[&values, "--schema", schema.to_str().expect("utf-8")], None, dir.path());
        run.expect_code(2)
            .expect_stderr_contains("3 schema errors")
            .expect_stderr_contains("/dags/gitsync (values.yaml:2:3)")
            .expect_stderr_contains("did you mean `gitSync`?")
            .expect_stderr_contains("/dags/persistence/enabled (values.yaml:5:5)")
            .expect_stderr_contains("write `true` or `false` without quotes")
            .expect_stderr_contains("/extraSecrets/airflow-ssh-secret/data (values.yaml:8:5)")
            .expect_stderr_contains("string block");
        assert_eq!(run.stdout, "", "nothing on stdout when the schema refuses\n{run}");
    }
    let good =
        write(dir.path(), "good.yaml", "dags:\n  gitSync:\n    enabled: true\n    repo: git@github.com:me/dags.git\n");
    let schema = shared_dir().join("airflow-chart/1.20.0/values.schema.json");
    run_tool("values-merge", &[&good, "--schema", schema.to_str().expect("utf-8")], None, dir.path())
        .expect_success()
        .expect_stdout_contains("repo: git@github.com:me/dags.git");
}

#[test]
fn explain_and_diff_report_sources_and_mask_secrets() {
    let dir = tempfile::tempdir().expect("temp dir");
    let base = write(dir.path(), "base.yaml", "fernetKey: old-secret\nexecutor: CeleryExecutor\ngone: 1\n");
    let next = write(dir.path(), "next.yaml", "fernetKey: new-secret\n");
    let explain =
        run_tool("values-merge", &[&base, &next, "--set", "workers.replicas=3", "--explain"], None, dir.path());
    explain.expect_success();
    assert!(explain.stdout.contains("- path: fernetKey\n  from: next.yaml:1:12\n"), "{explain}");
    assert!(explain.stdout.contains("- path: workers.replicas\n  from: \"--set workers.replicas\"\n"), "{explain}");

    let diff =
        run_tool("values-merge", &[&next, "--set", "executor=KubernetesExecutor", "--diff", &base], None, dir.path());
    diff.expect_success().expect_stderr_contains("0 added, 2 changed, 1 removed");
    assert!(diff.stdout.contains("from: <redacted>\n"), "{diff}");
    assert!(!diff.stdout.contains("secret") && !diff.stderr.contains("new-secret"), "a secret leaked\n{diff}");
}

/// Warnings about numbers name the path, never the value: a numeric password is a password.
#[test]
fn number_warnings_never_show_the_value() {
    let dir = tempfile::tempdir().expect("temp dir");
    let values = write(dir.path(), "values.yaml", "redis:\n  password: 73911842065\n");
    let run = run_tool(
        "values-merge",
        &[&values, "--set", "postgresql.auth.postgresPassword=9007199254740993"],
        None,
        dir.path(),
    );
    run.expect_success().expect_stderr_contains("`redis.password` is a number of 1000000 or more");
    run.expect_stderr_contains("`postgresql.auth.postgresPassword` is an integer beyond 2^53");
    assert!(!run.stderr.contains("73911842065") && !run.stderr.contains("9007199254740993"), "{run}");
}

#[test]
fn defaults_show_what_the_chart_sees() {
    let dir = tempfile::tempdir().expect("temp dir");
    let values = write(dir.path(), "values.yaml", "dags:\n  gitSync:\n    enabled: true\nworkers: {replicas: 3}\n");
    let chart = shared_dir().join("airflow-chart/1.20.0/values.yaml");
    let run = run_tool("values-merge", &[&values, "--defaults", chart.to_str().expect("utf-8")], None, dir.path());
    run.expect_success();
    let effective = airflow_kit_core::yaml::parse_document(&run.stdout, "out").expect("parses").to_json();
    assert_eq!(effective["dags"]["gitSync"]["enabled"], true);
    assert_eq!(effective["dags"]["gitSync"]["ref"], "v2-2-stable", "chart default kept");
    assert_eq!(effective["workers"]["replicas"], 3);
    assert_eq!(effective["executor"], "CeleryExecutor");
}

/// Each bad input: exit 2, a message naming what and where, a hint, nothing on stdout, and
/// the cumulative file byte-identical with its mode unchanged.
#[test]
fn bad_input_is_refused_and_the_cumulative_file_is_untouched() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cumulative = dir.path().join("values.yaml");
    std::fs::write(&cumulative, CUMULATIVE).expect("write");
    std::fs::set_permissions(&cumulative, std::fs::Permissions::from_mode(0o640)).expect("chmod");
    let in_place = cumulative.to_str().expect("utf-8").to_string();
    let garbage = dir.path().join("garbage.bin");
    std::fs::write(&garbage, [0xff, 0xfe, 0x00, 0x80]).expect("write");
    let cases: Vec<(Vec<String>, Option<&str>, &str)> = vec![
        (vec!["-".into()], Some("a:\n  b: 1\n c: 2\n"), "`<stdin>`: line 3, column 2"),
        (vec!["-".into()], Some("- a\n- b\n"), "the document is a list, not a mapping"),
        (vec!["-".into()], Some("just text\n"), "the document is a single value"),
        (vec!["-".into()], Some("a: 1\n---\nb: 2\n"), "more than one YAML document"),
        (vec!["-".into()], Some("a: 1\na: 2\n"), "duplicate key `a`"),
        (vec!["missing.yaml".into()], None, "cannot read `missing.yaml`: no such file or directory"),
        (vec![dir.path().display().to_string()], None, "it is a directory"),
        (vec![garbage.display().to_string()], None, "not UTF-8 text"),
        (vec!["--set".into(), "a".into()], None, "key \"a\" has no value"),
        (vec!["--set".into(), "a,b=1".into()], None, "key \"a\" has no value (cannot end with ,)"),
        (vec!["--set".into(), "a.=1".into()], None, "key map \"a\" has no value"),
        (vec!["--set".into(), "l={a,b".into()], None, "list must terminate with '}'"),
        (vec!["--set".into(), "l[0]x=1".into()], None, "unexpected data at end of array index"),
        (vec!["--set".into(), "l[-1]=1".into()], None, "negative -1 index not allowed"),
        (vec!["--set".into(), "executor.kind=x".into()], None, "is not a map"),
        (vec!["--set-json".into(), "a={bad".into()], None, "failed parsing --set-json data"),
        (vec!["--set".into(), "a.b[=1".into()], None, "failed parsing --set data: error parsing index: EOF"),
        (vec!["--unset".into(), "a..b".into()], None, "`--unset a..b`: it has an empty key"),
        (vec!["--unset".into(), "a\\".into()], None, "it ends with a lone `\\`"),
        (vec!["--helm-major".into(), "5".into()], None, "invalid value '5' for '--helm-major <3|4>'"),
    ];
    for (mut args, stdin, expected) in cases {
        args.splice(0..0, ["--in-place".to_string(), in_place.clone()]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = run_tool("values-merge", &args, stdin, dir.path());
        run.expect_code(2).expect_stderr_contains(expected);
        // clap's own usage errors carry its `tip:`; ours a `hint:`.
        if !expected.starts_with("invalid value") {
            run.expect_stderr_contains("hint: ");
        }
        assert_eq!(run.stdout, "", "nothing on stdout\n{run}");
        assert_eq!(std::fs::read_to_string(&cumulative).expect("read"), CUMULATIVE, "file changed by {args:?}");
        assert_eq!(mode(&cumulative), 0o640, "mode changed by {args:?}");
    }
    // A broken cumulative file itself is refused with its own line and column.
    let broken = write(dir.path(), "broken.yaml", "a: [1, 2\n");
    run_tool("values-merge", &["--in-place", &broken, "-"], Some("b: 1\n"), dir.path())
        .expect_code(2)
        .expect_stderr_contains("broken.yaml");
    assert_eq!(std::fs::read_to_string(dir.path().join("broken.yaml")).expect("read"), "a: [1, 2\n");
}

/// `--unset` (defect 5): after every input and `--set`; a mapping it empties goes too; a
/// dot inside a key is `\.`; a path that is not set is a warning, not an error.
#[test]
fn unset_removes_keys_and_warns_about_those_not_set() {
    let dir = tempfile::tempdir().expect("temp dir");
    let values = write(
        dir.path(),
        "values.yaml",
        "podAnnotations:\n  prometheus.io/scrape: \"true\"\n  team: data\nworkers:\n  replicas: 2\n",
    );
    let run = run_tool(
        "values-merge",
        &[
            &values,
            "--set",
            "workers.replicas=3,extra.key=1",
            "--unset",
            r"podAnnotations.prometheus\.io/scrape",
            "--unset",
            "extra.key",
            "--unset",
            "workers.missing",
            "--unset",
            "workers.replicas.deeper",
        ],
        None,
        dir.path(),
    );
    run.expect_success()
        .expect_stderr_contains("values-merge: --unset workers.missing: not set\n")
        .expect_stderr_contains("values-merge: --unset workers.replicas.deeper: not set\n");
    assert_eq!(run.stdout, "podAnnotations:\n  team: data\nworkers:\n  replicas: 3\n", "{run}");

    // In place, a path not set changes nothing, byte for byte.
    let cumulative = dir.path().join("cumulative.yaml");
    std::fs::write(&cumulative, CUMULATIVE).expect("write");
    let path = cumulative.to_str().expect("utf-8");
    run_tool("values-merge", &["--in-place", path, "--unset", "dags.gitSync.ref"], None, dir.path())
        .expect_success()
        .expect_stderr_contains("--unset dags.gitSync.ref: not set")
        .expect_stderr_contains("unchanged:");
    assert_eq!(std::fs::read_to_string(&cumulative).expect("read"), CUMULATIVE);

    // A key that is set goes with its comment line; the file's header and the rest stay.
    run_tool("values-merge", &["--in-place", path, "--unset", "dags.gitSync.subPath"], None, dir.path())
        .expect_success();
    let expected = CUMULATIVE.replace("    # comment before the last key\n    subPath: dags\n", "");
    assert_eq!(std::fs::read_to_string(&cumulative).expect("read"), expected);
    run_tool("values-merge", &["--in-place", path, "--unset", "executor"], None, dir.path()).expect_success();
    let expected = expected.replace("executor: CeleryExecutor   # keep Celery\n", "");
    assert!(expected.starts_with("# Airflow on MicroK8s: our cumulative values file.\n\n# Static key"));
    assert_eq!(std::fs::read_to_string(&cumulative).expect("read"), expected);
}

#[test]
fn help_shows_an_example_and_the_exit_codes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let help = run_tool("values-merge", &["--help"], None, dir.path());
    help.expect_success().expect_stdout_contains("Examples:").expect_stdout_contains("4  refused for safety");
    help.expect_stdout_contains("--helm-major <3|4>").expect_stdout_contains("--unset <PATH>");
    assert!(!help.stdout.contains("--helm <"), "the old spelling is a hidden alias\n{help}");
    let values = write(dir.path(), "values.yaml", "a: {b: null}\n");
    let defaults = write(dir.path(), "defaults.yaml", "a: {b: null}\n");
    for (flag, expected) in [("--helm-major", "a:\n  b: null\n"), ("--helm", "a:\n  b: null\n")] {
        let run = run_tool("values-merge", &[&values, "--defaults", &defaults, flag, "4"], None, dir.path());
        run.expect_success();
        assert_eq!(run.stdout, expected, "{flag} 4 follows Helm 4\n{run}");
    }
    let three = run_tool("values-merge", &[&values, "--defaults", &defaults, "--helm-major", "3"], None, dir.path());
    assert_eq!(three.expect_success().stdout, "a: {}\n", "Helm 3 deletes the nested null");
    run_tool("values-merge", &["--version"], None, dir.path())
        .expect_success()
        .expect_stdout_contains("values-merge 0.1.0");
    run_tool("values-merge", &["--no-such-flag"], None, dir.path()).expect_code(2);
}
