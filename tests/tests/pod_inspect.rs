//! pod-inspect end to end: the real binary against a stand-in `kubectl` (first on PATH) that
//! records its argv and replays kubectl's exact `-o json` output, exec output and logs from
//! tests/fixtures/pod-inspect (healthy Airflow 2 and 3 installs, and one set per failure).

use std::path::{Path, PathBuf};

use airflow_kit_core::Document;
use airflow_kit_tests::bins::{run_command, workspace_root};
use airflow_kit_tests::{Run, tool_command};
use serde_json::Value;

/// One run of pod-inspect against a fixture set: what it printed, what it asked kubectl.
struct Inspect {
    run: Run,
    argv: Vec<String>,
    _dir: tempfile::TempDir,
}

impl Inspect {
    fn report(&self) -> Value {
        Document::parse(&self.run.stdout, "stdout")
            .unwrap_or_else(|e| panic!("stdout is not YAML: {e}\n{}", self.run))
            .root
            .to_json()
    }

    fn deletes(&self) -> Vec<&str> {
        self.argv.iter().map(String::as_str).filter(|line| line.contains(" delete ")).collect()
    }
}

fn fixtures() -> PathBuf {
    workspace_root().join("tests/fixtures/pod-inspect")
}

/// Which programs the stand-in answers as, first on PATH.
#[derive(Clone, Copy, PartialEq)]
enum OnPath {
    Kubectl,
    /// Both `kubectl` and `microk8s` (a machine with MicroK8s and a kubectl of its own).
    KubectlAndMicrok8s,
}

/// A PATH whose first entry holds the stand-in as `kubectl` (and as `microk8s`).
fn stand_in_dir(dir: &Path, on_path: OnPath) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).expect("bin dir");
    std::fs::copy(fixtures().join("stand-in-kubectl.sh"), bin.join("kubectl")).expect("copy stand-in");
    if on_path == OnPath::KubectlAndMicrok8s {
        std::os::unix::fs::symlink(bin.join("kubectl"), bin.join("microk8s")).expect("microk8s symlink");
    }
    bin
}

fn inspect(set: &str, args: &[&str]) -> Inspect {
    inspect_on(set, args, OnPath::Kubectl)
}

fn inspect_on(set: &str, args: &[&str], on_path: OnPath) -> Inspect {
    let dir = tempfile::tempdir().expect("temp dir");
    let bin = stand_in_dir(dir.path(), on_path);
    let argv_log = dir.path().join("argv");
    std::fs::write(&argv_log, "").expect("argv log");
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let mut command = tool_command("pod-inspect");
    command
        .args(args)
        .current_dir(dir.path())
        .env("PATH", path)
        .env("POD_INSPECT_FIXTURES", fixtures().join(set))
        .env("KUBECTL_ARGV_LOG", &argv_log);
    let run = run_command(command, None);
    let argv = std::fs::read_to_string(&argv_log).expect("argv log").lines().map(str::to_string).collect();
    Inspect { run, argv, _dir: dir }
}

fn components(report: &Value) -> Vec<String> {
    let mut found: Vec<String> = report["pods"]
        .as_array()
        .expect("pods")
        .iter()
        .map(|pod| pod["component"].as_str().expect("component").to_string())
        .collect();
    found.sort();
    found.dedup();
    found
}

#[test]
fn status_of_a_healthy_airflow_2_install() {
    let result = inspect("healthy-af2", &["status"]);
    result.run.expect_code(0);
    let report = result.report();
    assert_eq!(report["healthy"], true, "{}", result.run);
    assert_eq!(
        components(&report),
        ["create-user", "migrations", "postgresql", "redis", "scheduler", "statsd", "triggerer", "webserver", "worker"]
    );
    let worker =
        report["pods"].as_array().expect("pods").iter().find(|p| p["name"] == "airflow-worker-0").expect("worker");
    assert_eq!(worker["ready"], "3/3");
    assert_eq!(worker["containers"][1]["name"], "git-sync-init");
    assert_eq!(worker["containers"][1]["reason"], "Completed");
    assert_eq!(report["jobs"][0]["state"], "complete");
    assert_eq!(
        result.argv,
        ["--namespace airflow get pods -o json", "--namespace airflow get jobs -l release=airflow -o json"]
    );
}

#[test]
fn status_of_a_healthy_airflow_3_install() {
    let result = inspect("healthy-af3", &["status", "-n", "airflow", "--release", "airflow"]);
    result.run.expect_code(0);
    assert_eq!(
        components(&result.report()),
        ["api-server", "dag-processor", "postgresql", "redis", "scheduler", "statsd", "triggerer", "worker"]
    );
}

#[test]
fn status_of_a_broken_install_names_each_waiting_reason() {
    let result = inspect("f4-publickey", &["status"]);
    result.run.expect_code(1);
    let report = result.report();
    assert_eq!(report["healthy"], false);
    let problems = report["problems"].as_array().expect("problems");
    assert_eq!(problems.len(), 3, "{}", result.run);
    for problem in problems {
        assert_eq!(problem["container"], "git-sync-init");
        assert_eq!(problem["reason"], "CrashLoopBackOff");
    }
    let worker =
        report["pods"].as_array().expect("pods").iter().find(|p| p["name"] == "airflow-worker-0").expect("worker");
    assert_eq!(worker["status"], "Init:CrashLoopBackOff");
    assert_eq!(worker["restarts"], 6);
}

#[test]
fn diagnose_names_each_known_failure_with_evidence_cause_and_fix() {
    let cases: &[(&str, &[&str], &str)] = &[
        ("f1-host-key", &["F1"], "Host key verification failed."),
        ("f4-publickey", &["F4"], "git@github.com: Permission denied (publickey)."),
        ("f6-invalid-key", &["F6"], r#"Load key "/etc/git-secret/ssh": invalid format"#),
        ("f7-deprecated-branch", &["F7"], "setting --ref from deprecated --branch"),
        ("f10-hook-wait", &["F10"], "no migration job exists"),
        ("f11-f12-migration-failed", &["F11", "F12"], "There are still unapplied migrations after 60 seconds"),
        ("f14-pvc", &["F14"], "pod has unbound immediate PersistentVolumeClaims"),
        ("f15-dns", &["F15"], "ssh: Could not resolve hostname github.com"),
        ("f16-image", &["F16"], "manifest for bitnami/postgresql:16.1.0-debian-11-r15 not found"),
        ("unknown-failure", &["unknown"], r#"secret "airflow-ssh-secret" not found"#),
    ];
    for (set, ids, evidence) in cases {
        let result = inspect(set, &["diagnose"]);
        result.run.expect_code(1);
        let report = result.report();
        let findings = report["findings"].as_array().expect("findings");
        let found: Vec<&str> = findings.iter().map(|f| f["id"].as_str().expect("id")).collect();
        assert_eq!(&found, ids, "{set}\n{}", result.run);
        assert!(findings[0]["evidence"].as_str().expect("evidence").contains(evidence), "{set}\n{}", result.run);
        for finding in findings {
            for field in ["title", "cause", "fix"] {
                assert!(!finding[field].as_str().unwrap_or_default().is_empty(), "{set}: {field}\n{}", result.run);
            }
        }
        result.run.expect_stderr_contains(&format!("pod-inspect: {}: ", ids[0]));
    }
}

#[test]
fn diagnose_shows_the_migration_job_s_own_error_line() {
    let result = inspect("f11-f12-migration-failed", &["diagnose"]);
    let report = result.report();
    let f12 = &report["findings"][1];
    assert_eq!(f12["seen_in"][0], "job/airflow-run-airflow-migrations");
    assert!(f12["evidence"].as_str().expect("evidence").contains("password authentication failed"), "{}", result.run);
    assert!(f12["fix"].as_str().expect("fix").contains("pod-inspect fix --yes"));
    assert!(
        result.argv.contains(
            &"--namespace airflow logs airflow-run-airflow-migrations-x7p4d -c run-airflow-migrations --tail=20"
                .to_string()
        )
    );
}

/// Defect 14: a failure no rule knows (a migration pod failed while its job still retries)
/// showed only `Failed` as evidence. The failed container's last log lines are the evidence:
/// its error line, the pod and container named, and what to look at; passwords masked.
#[test]
fn diagnose_of_an_unknown_failure_shows_the_failed_container_s_log_lines() {
    let result = inspect("unknown-migration-failed", &["diagnose"]);
    result.run.expect_code(1);
    let report = result.report();
    let findings = report["findings"].as_array().expect("findings");
    assert_eq!(findings.len(), 1, "{}", result.run);
    let finding = &findings[0];
    assert_eq!(finding["id"], "unknown", "{}", result.run);
    assert_eq!(
        finding["seen_in"],
        serde_json::json!(["pod/airflow-run-airflow-migrations-r5t8n (run-airflow-migrations)"]),
        "{}",
        result.run
    );
    let error_line = r#"password authentication failed for user "postgres""#;
    assert!(finding["evidence"].as_str().expect("evidence").contains(error_line), "{}", result.run);
    let log: Vec<&str> = finding["log"].as_array().expect("log lines").iter().filter_map(Value::as_str).collect();
    assert!(log.iter().any(|line| line.contains(error_line)), "{}", result.run);
    assert!(
        log.contains(
            &"Connecting to postgresql://postgres:***@airflow-postgresql.airflow:5432/postgres?sslmode=disable"
        ),
        "{log:?}"
    );
    let fix = finding["fix"].as_str().expect("fix");
    assert!(
        fix.contains("kubectl logs airflow-run-airflow-migrations-r5t8n -c run-airflow-migrations --namespace airflow"),
        "{fix}"
    );
    // The line reaches the user on stderr too, and the password never appears anywhere.
    result.run.expect_stderr_contains(error_line);
    assert!(!result.run.stdout.contains("Xk9vQ2mPz7") && !result.run.stderr.contains("Xk9vQ2mPz7"), "{}", result.run);
    assert!(
        result.argv.contains(
            &"--namespace airflow logs airflow-run-airflow-migrations-r5t8n -c run-airflow-migrations --tail=20"
                .to_string()
        ),
        "{:?}",
        result.argv
    );
}

/// A crash-looping container's log is read from its last run (`--previous`) and shown with a
/// known finding too.
#[test]
fn diagnose_reads_a_restarted_container_s_previous_log_and_shows_it() {
    let result = inspect("f4-publickey", &["diagnose"]);
    result.run.expect_code(1);
    assert!(
        result
            .argv
            .contains(&"--namespace airflow logs airflow-worker-0 -c git-sync-init --tail=20 --previous".to_string()),
        "{:?}",
        result.argv
    );
    let report = result.report();
    let f4 = &report["findings"][0];
    assert_eq!(f4["id"], "F4");
    let log = f4["log"].as_array().expect("log lines");
    assert!(log.iter().any(|l| l.as_str().unwrap_or_default().contains("Permission denied (publickey)")), "{report}");
}

#[test]
fn diagnose_of_healthy_installs_finds_nothing() {
    for set in ["healthy-af2", "healthy-af3"] {
        let result = inspect(set, &["diagnose"]);
        result.run.expect_code(0);
        assert_eq!(result.report()["findings"], serde_json::json!([]), "{set}");
    }
}

#[test]
fn fix_deletes_only_by_the_release_selector_and_exact_name() {
    let result = inspect("f11-f12-migration-failed", &["fix", "--yes"]);
    result.run.expect_code(0);
    assert_eq!(
        result.deletes(),
        [
            "--namespace airflow delete job --selector release=airflow,component=run-airflow-migrations --field-selector metadata.name=airflow-run-airflow-migrations",
            "--namespace airflow delete pod --selector release=airflow,component=api-server --field-selector metadata.name=airflow-api-server-84d6c5f7b9-h4s2c",
            "--namespace airflow delete pod --selector release=airflow,component=dag-processor --field-selector metadata.name=airflow-dag-processor-6d9b7c5f48-t7wqj",
            "--namespace airflow delete pod --selector release=airflow,component=scheduler --field-selector metadata.name=airflow-scheduler-7c4f8b9d65-vx9rn",
            "--namespace airflow delete pod --selector release=airflow,component=triggerer --field-selector metadata.name=airflow-triggerer-0",
            "--namespace airflow delete pod --selector release=airflow,component=worker --field-selector metadata.name=airflow-worker-0",
        ]
    );
    // Nothing but reads and those deletes: no other verb, no other namespace, no other release.
    for line in &result.argv {
        assert!(
            line.starts_with("--namespace airflow get ") || line.starts_with("--namespace airflow delete "),
            "{line}"
        );
    }
    let report = result.report();
    assert_eq!(report["deleted"], true);
    assert_eq!(report["actions"][0]["result"], "deleted");
}

#[test]
fn fix_restarts_crash_looping_git_sync_pods_and_leaves_healthy_ones() {
    let result = inspect("f1-host-key", &["fix", "--yes"]);
    result.run.expect_code(0);
    let deletes = result.deletes();
    assert_eq!(deletes.len(), 3, "{}", result.run);
    assert!(deletes.iter().all(|d| d.contains("--selector release=airflow,component=")), "{deletes:?}");
    assert!(!deletes.iter().any(|d| d.contains("webserver") || d.contains("postgresql")), "{deletes:?}");
}

#[test]
fn fix_without_yes_off_a_terminal_only_prints() {
    let result = inspect("f4-publickey", &["fix"]);
    result.run.expect_code(0);
    assert!(result.deletes().is_empty(), "{:?}", result.argv);
    result.run.expect_stderr_contains(
        "would run: kubectl --namespace airflow delete pod --selector release=airflow,component=worker --field-selector metadata.name=airflow-worker-0",
    );
    assert_eq!(result.report()["deleted"], false);
}

#[test]
fn fix_does_not_delete_what_deleting_cannot_fix() {
    let result = inspect("f16-image", &["fix", "--yes"]);
    result.run.expect_code(0);
    assert!(result.deletes().is_empty(), "{:?}", result.argv);
    assert_eq!(result.report()["skipped"][0]["object"], "pod/airflow-postgresql-0");
}

#[test]
fn wait_returns_at_once_when_healthy_and_polls_until_healthy() {
    inspect("healthy-af3", &["wait"]).run.expect_code(0);
    let result = inspect("wait-progress", &["wait", "--interval", "10ms", "--timeout", "30s"]);
    result.run.expect_code(0);
    assert_eq!(result.argv.iter().filter(|l| l.contains("get pods")).count(), 2, "{:?}", result.argv);
    result.run.expect_stderr_contains("pod-inspect: 3/").expect_stderr_contains("is healthy");
    assert_eq!(result.report()["healthy"], true);
}

#[test]
fn wait_stops_early_on_failures_that_cannot_heal() {
    for (set, id) in [("f16-image", "F16"), ("f4-publickey", "F4"), ("f11-f12-migration-failed", "F12")] {
        let result = inspect(set, &["wait", "--interval", "10ms", "--timeout", "10m"]);
        result.run.expect_code(1).expect_stderr_contains("will not heal by waiting");
        let report = result.report();
        assert_eq!(report["outcome"], "failed", "{set}");
        let ids: Vec<&str> =
            report["findings"].as_array().expect("findings").iter().filter_map(|f| f["id"].as_str()).collect();
        assert!(ids.contains(&id), "{set}: {ids:?}");
        assert_eq!(
            result.argv.iter().filter(|l| l.contains("get pods")).count(),
            1,
            "{set}: stopped at the first poll"
        );
    }
}

#[test]
fn wait_times_out_with_the_diagnosis() {
    let result = inspect("f10-hook-wait", &["wait", "--interval", "10ms", "--timeout", "100ms"]);
    result.run.expect_code(1).expect_stderr_contains("timed out");
    let report = result.report();
    assert_eq!(report["outcome"], "timed_out");
    assert_eq!(report["findings"][0]["id"], "F10");
}

#[test]
fn dags_reports_the_commit_and_files_for_git_sync_v4() {
    let result = inspect("healthy-af2", &["dags"]);
    result.run.expect_code(0);
    let report = result.report();
    assert_eq!(report["pod"], "airflow-worker-0");
    assert_eq!(report["container"], "worker");
    assert_eq!(report["commit"], "3f786850e387550fdab836ed7e6dc881de23001b");
    assert_eq!(report["layout"], "git-sync v4");
    assert_eq!(report["sub_path"], "dags");
    assert_eq!(report["files"], serde_json::json!(["etl_daily.py", "packaged.zip", "reports/weekly_report.py"]));
    assert!(result.argv.contains(
        &"--namespace airflow exec airflow-worker-0 -c worker -- readlink /opt/airflow/dags/repo".to_string()
    ));
    assert!(
        result.argv.contains(
            &"--namespace airflow exec airflow-worker-0 -c worker -- find -L /opt/airflow/dags/repo/dags -type f"
                .to_string()
        )
    );
}

#[test]
fn dags_understands_git_sync_v3_and_an_explicit_sub_path() {
    let result = inspect("dags-v3", &["dags", "--sub-path", "/dags/"]);
    result.run.expect_code(0);
    let report = result.report();
    assert_eq!(report["layout"], "git-sync v3");
    assert_eq!(report["link"], "rev-3f786850e387550fdab836ed7e6dc881de23001b");
    assert!(!result.argv.iter().any(|l| l.contains("configmap")), "--sub-path given, config not read");
}

#[test]
fn dags_without_a_link_fails_with_git_sync_s_last_lines() {
    let result = inspect("dags-missing", &["dags"]);
    result.run.expect_code(1);
    let report = result.report();
    assert!(report["problem"].as_str().expect("problem").contains("/opt/airflow/dags/repo"));
    let log = report["git_sync_log"].as_array().expect("log lines");
    assert!(
        log.iter().any(|l| l.as_str().unwrap_or_default().contains("Permission denied (publickey)")),
        "{}",
        result.run
    );
}

#[test]
fn fernet_key_is_decoded_only_on_request() {
    let result = inspect("healthy-af2", &["fernet-key"]);
    result.run.expect_code(0);
    assert_eq!(result.report()["fernet_key"], "UKMzEm3yIuFYEq1y3-2FxPNWSVwRASpahmQ9kQfEr8E=");
    assert_eq!(result.argv, ["--namespace airflow get secret airflow-fernet-key -o json"]);
    for command in [&["status"][..], &["diagnose"], &["dags"], &["fix", "--yes"]] {
        let other = inspect("healthy-af2", command);
        assert!(!other.run.stdout.contains("UKMzEm3y") && !other.run.stderr.contains("UKMzEm3y"), "{}", other.run);
        assert!(!other.argv.iter().any(|l| l.contains("secret")), "{:?}", other.argv);
    }
    inspect("healthy-af3", &["fernet-key"]).run.expect_code(1).expect_stderr_contains("`airflow-fernet-key` not found");
}

#[test]
fn ui_forwards_on_loopback_by_default() {
    let result = inspect("healthy-af2", &["ui"]);
    result.run.expect_code(0);
    assert_eq!(
        result.argv.last().expect("argv"),
        "--namespace airflow port-forward svc/airflow-webserver 8080:8080 --address 127.0.0.1"
    );
    assert_eq!(result.report()["url"], "http://127.0.0.1:8080");
    assert!(!result.run.stderr.contains("WARNING"), "{}", result.run);

    let result = inspect("healthy-af3", &["ui", "--port", "9090"]);
    result.run.expect_code(0);
    assert_eq!(
        result.argv.last().expect("argv"),
        "--namespace airflow port-forward svc/airflow-api-server 9090:8080 --address 127.0.0.1"
    );
    assert_eq!(result.report()["airflow"], "3");
}

#[test]
fn ui_warns_loudly_when_exposed_and_more_with_default_admin() {
    let result = inspect("healthy-af2", &["ui", "--address", "0.0.0.0"]);
    result.run.expect_code(0);
    assert!(result.argv.last().expect("argv").ends_with("--address 0.0.0.0"));
    result.run.expect_stderr_contains("WARNING: `--address 0.0.0.0` exposes the Airflow UI");
    result.run.expect_stderr_contains("WARNING: the default admin/admin login is still active");
}

#[test]
fn ui_prints_the_node_port_url_without_forwarding() {
    let result = inspect("nodeport", &["ui"]);
    result.run.expect_code(0);
    assert_eq!(result.report()["url"], "http://127.0.0.1:31151");
    assert!(!result.argv.iter().any(|l| l.contains("port-forward")), "{:?}", result.argv);
}

/// Defect 2: `--microk8s` must reach kubectl's choice: with both `kubectl` and `microk8s` on
/// PATH, every call goes through `microk8s kubectl`, and without the flag through `kubectl`.
#[test]
fn microk8s_flag_uses_microk8s_kubectl_even_when_kubectl_is_on_path() {
    let plain = inspect_on("healthy-af2", &["status"], OnPath::KubectlAndMicrok8s);
    plain.run.expect_code(0);
    assert!(!plain.argv.is_empty() && plain.argv.iter().all(|l| !l.starts_with("microk8s")), "{:?}", plain.argv);

    let result = inspect_on("healthy-af2", &["status", "--microk8s"], OnPath::KubectlAndMicrok8s);
    result.run.expect_code(0);
    assert_eq!(
        result.argv,
        [
            "microk8s kubectl --namespace airflow get pods -o json",
            "microk8s kubectl --namespace airflow get jobs -l release=airflow -o json"
        ]
    );
    for args in [&["--microk8s", "diagnose"][..], &["dags", "--microk8s"], &["fix", "--yes", "--microk8s"]] {
        let result = inspect_on("f4-publickey", args, OnPath::KubectlAndMicrok8s);
        assert!(result.run.code == 0 || result.run.code == 1, "{args:?}\n{}", result.run);
        assert!(!result.argv.is_empty(), "{args:?}");
        for line in &result.argv {
            assert!(line.starts_with("microk8s kubectl --namespace airflow "), "{args:?}: {line}");
        }
    }
}

/// The cluster flags are core's: `--kube-context` with kubectl's `--context` as an alias.
#[test]
fn cluster_flags_reach_kubectl() {
    for context_flag in ["--kube-context", "--context"] {
        let result = inspect(
            "healthy-af2",
            &["status", "--kubeconfig", "/k/config", context_flag, "prod", "-n", "airflow", "--release", "airflow"],
        );
        result.run.expect_code(0);
        assert_eq!(
            result.argv[0], "--kubeconfig /k/config --context prod --namespace airflow get pods -o json",
            "{context_flag}"
        );
    }
}

#[test]
fn bad_input_and_missing_programs() {
    let result = inspect("no-release", &["status"]);
    result.run.expect_code(1).expect_stderr_contains("no pods of release `airflow` in namespace `airflow`");
    let result = inspect("garbage", &["status"]);
    result.run.expect_code(3).expect_stderr_contains(
        "`kubectl --namespace airflow get pods -o json` printed output that is not the JSON expected",
    );
    assert!(result.run.stderr.contains("/bin/kubectl") || result.run.stderr.contains("kubectl"), "{}", result.run);

    let empty = tempfile::tempdir().expect("temp dir");
    let mut command = tool_command("pod-inspect");
    command.arg("status").env("PATH", empty.path());
    let run = run_command(command, None);
    run.expect_code(3).expect_stderr_contains("`kubectl` was not found").expect_stderr_contains("microk8s kubectl");

    let mut command = tool_command("pod-inspect");
    command.args(["wait", "--timeout", "soon"]);
    run_command(command, None).expect_code(2);
    // Core's Go-duration parser: a number without a unit is refused, as helm refuses it.
    let mut command = tool_command("pod-inspect");
    command.args(["wait", "--timeout", "90"]);
    run_command(command, None).expect_code(2).expect_stderr_contains("`90` is not a duration: `90` has no unit");
}

#[test]
fn help_ends_with_exit_codes_and_an_example() {
    let mut command = tool_command("pod-inspect");
    command.arg("--help");
    let run = run_command(command, None);
    run.expect_code(0).expect_stdout_contains("pod-inspect wait --timeout 15m").expect_stdout_contains("Exit codes:");
}

/// Against a real cluster, only when AIRFLOW_KIT_E2E_KUBECONFIG names one.
#[test]
fn status_against_a_real_cluster() {
    let Some(kubeconfig) = airflow_kit_tests::skip::e2e_kubeconfig("status_against_a_real_cluster") else { return };
    let mut command = tool_command("pod-inspect");
    command.arg("status").arg("--kubeconfig").arg(kubeconfig);
    let run = run_command(command, None);
    assert!(run.code == 0 || run.code == 1, "status must answer yes or no\n{run}");
    let report = Document::parse(&run.stdout, "stdout").expect("YAML report").root.to_json();
    assert!(report["pods"].as_array().is_some_and(|pods| !pods.is_empty()), "{run}");
}

/// `kubectl exec` itself failing (no exec for the container, refused) is reported as that, on
/// stdout and stderr, not as a missing git-sync link: the install keeps stdout, and the person
/// must still see why (found against the real API server, where kwok had no exec mapping).
#[test]
fn dags_says_why_kubectl_exec_failed() {
    let result = inspect("dags-exec-refused", &["dags"]);
    result.run.expect_code(1).expect_stderr_contains("no exec found for container");
    let problem = result.report()["problem"].as_str().expect("problem").to_string();
    assert!(problem.contains("`kubectl exec` failed") && problem.contains("no exec found"), "{problem}");
    assert!(!problem.contains("not a git-sync link"), "{problem}");
}
