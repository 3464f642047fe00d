//! helm-run's no-silent-drop check: an upgrade whose values lack a value the deployed release
//! has is refused (exit 4) before any `helm upgrade`, unless acknowledged. The release is one
//! installed the manual way (webserverSecretKey, dags.gitSync with sshKeySecret and
//! knownHosts, extraSecrets); the stand-in helm of tests/fixtures/helm-run/bin replays
//! `helm get values -o json` and `helm status -o json` exactly as real helm 3 and 4 print them
//! (captured by tests/fixtures/helm-run/drop/capture.py), and records its argv.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use airflow_kit_tests::Run;
use airflow_kit_tests::bins::{run_command, shared_dir, tool_command, workspace_root};
use airflow_kit_tests::http::{HttpServer, Response, json};
use airflow_kit_tests::tools::{Tool, helms, require_tool};

/// The deployed release's secrets: in the captured `get values` and `status` output, never in
/// anything helm-run prints or passes on.
const DEPLOYED_SECRET: &str = "deployed-webserver-secret-4f1c9a";
const DEPLOY_KEY_BASE64: &str = "LS0tLS1CRUdJTiBPUEVOU1NIIFBSSVZBVEUgS0VZLS0tLS0K";
/// The new webserver key an upgrade brings (a rotation: shown only as changed, redacted).
const NEW_SECRET: &str = "rotated-webserver-secret-0b7d55";

const STATUS: &str = "drop/status-manual-install-helm3.json";
const GET_VALUES: &str = "drop/get-values-manual-install.json";

/// The paths the manual install set under `dags.gitSync`, as the report spells them.
const GITSYNC_PATHS: [&str; 6] = [
    "dags.gitSync.branch",
    "dags.gitSync.enabled",
    "dags.gitSync.knownHosts",
    "dags.gitSync.repo",
    "dags.gitSync.sshKeySecret",
    "dags.gitSync.subPath",
];

fn fixtures() -> PathBuf {
    workspace_root().join("tests/fixtures/helm-run")
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(fixtures().join("drop").join(name)).expect("fixture")
}

/// A temp directory with the stand-in helm alone on PATH, its argv log, and TMPDIR inside.
struct StandIn {
    dir: tempfile::TempDir,
    log: PathBuf,
}

impl StandIn {
    fn new() -> StandIn {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(dir.path().join("tmp")).expect("tmp");
        let log = dir.path().join("argv.log");
        std::fs::write(&log, "").expect("log");
        StandIn { dir, log }
    }

    /// `helm-run ARGS` with the values on stdin and STANDIN_* variables for the stand-in.
    fn run(&self, args: &[&str], values: &str, env: &[(&str, &str)]) -> Run {
        let mut command = tool_command("helm-run");
        command
            .args(args)
            .current_dir(self.dir.path())
            .env("PATH", format!("{}:/usr/bin:/bin", fixtures().join("bin").display()))
            .env("STANDIN_LOG", &self.log)
            .env("TMPDIR", self.dir.path().join("tmp"))
            .env("HOME", self.dir.path())
            .env_remove("KUBECONFIG");
        for (name, value) in env {
            command.env(name, value);
        }
        run_command(command, Some(values.as_bytes()))
    }

    /// The upgrade of the manual install (deployed, with its user values) with `values`.
    fn upgrade(&self, extra: &[&str], values: &str) -> Run {
        let mut args = vec!["upgrade"];
        args.extend(extra);
        self.run(&args, values, &[("STANDIN_STATUS", STATUS), ("STANDIN_GET_VALUES", GET_VALUES)])
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).expect("argv log")
    }

    fn upgraded(&self) -> bool {
        self.log().lines().any(|line| line.starts_with("argv: upgrade"))
    }

    /// No secret (deployed or new) in stdout (the report), stderr, or any argv; no
    /// `--reuse-values`; no values file left behind.
    #[track_caller]
    fn expect_safe(&self, run: &Run) {
        let log = self.log();
        let argv: String = log.lines().filter(|line| line.starts_with("argv:")).collect::<Vec<_>>().join("\n");
        for secret in [DEPLOYED_SECRET, DEPLOY_KEY_BASE64, NEW_SECRET] {
            assert!(!argv.contains(secret), "a secret reached helm's argv:\n{argv}");
            assert!(!run.stdout.contains(secret), "a secret is in the report:\n{run}");
            assert!(!run.stderr.contains(secret), "a secret is on stderr:\n{run}");
        }
        assert!(!argv.contains("--reuse-values"), "{argv}");
        let left: Vec<_> =
            std::fs::read_dir(self.dir.path().join("tmp")).expect("tmp").map(|e| e.expect("entry").path()).collect();
        assert!(left.is_empty(), "helm-run left files behind: {left:?}");
    }
}

fn without_gitsync() -> String {
    fixture("values-without-gitsync.yaml")
}

/// The values the release was installed with, the webserver key rotated.
fn with_rotated_secret() -> String {
    let values = fixture("values-manual-install.yaml");
    assert!(values.contains(DEPLOYED_SECRET));
    values.replace(DEPLOYED_SECRET, NEW_SECRET)
}

#[test]
fn values_lacking_gitsync_are_refused_listing_each_path_and_helm_upgrade_never_runs() {
    let standin = StandIn::new();
    let run = standin.upgrade(&[], &without_gitsync());
    run.expect_code(4)
        .expect_stderr_contains("drop 6 values that revision 1 of release `airflow` has")
        .expect_stderr_contains("--allow-removal PATH")
        .expect_stderr_contains("e.g. `--allow-removal dags.gitSync`")
        .expect_stderr_contains("--allow-removals")
        .expect_stderr_contains(
            "helm-run get-values --release airflow -n airflow | values-merge --in-place values.yaml -",
        );
    for path in GITSYNC_PATHS {
        run.expect_stderr_contains(&format!("helm-run:   - {path}\n"));
        run.expect_stdout_contains(&format!("    - path: {path}\n"));
    }
    assert!(!standin.upgraded(), "helm upgrade ran although values were dropped:\n{}", standin.log());
    let log = standin.log();
    assert!(log.contains("argv: get values airflow --namespace airflow -o json"), "{log}");
    // The report says what happened: checked against revision 1, nothing acknowledged.
    run.expect_stdout_contains("values_diff:\n  checked: true\n  skipped: null\n  against_revision: 1\n")
        .expect_stdout_contains("  acknowledged: []\n  unacknowledged:\n    - dags.gitSync.branch\n");
    standin.expect_safe(&run);
}

#[test]
fn acknowledged_removals_proceed() {
    for flags in [&["--allow-removal", "dags.gitSync"][..], &["--allow-removals"][..]] {
        let standin = StandIn::new();
        let run = standin.upgrade(flags, &without_gitsync());
        run.expect_success()
            .expect_stdout_contains("action: upgrade")
            .expect_stdout_contains("  unacknowledged: []\n")
            .expect_stdout_contains("  acknowledged:\n    - dags.gitSync.branch\n")
            .expect_stderr_contains("removed (acknowledged): dags.gitSync.sshKeySecret");
        assert!(standin.upgraded(), "{flags:?}: the upgrade did not run:\n{}", standin.log());
        // The check ran before the upgrade, never after.
        let log = standin.log();
        let get = log.find("argv: get values").expect("get values ran");
        assert!(get < log.find("argv: upgrade").expect("upgrade ran"), "{log}");
        standin.expect_safe(&run);
    }
}

#[test]
fn a_path_acknowledges_itself_and_what_is_under_it_only() {
    let standin = StandIn::new();
    let run = standin.upgrade(
        &["--allow-removal", "dags.gitSync.knownHosts", "--allow-removal", "dags.gitSync.repo"],
        &without_gitsync(),
    );
    run.expect_code(4).expect_stderr_contains("drop 4 values");
    assert!(!run.stderr.contains("   - dags.gitSync.knownHosts\n"), "{run}");
    run.expect_stderr_contains("helm-run:   - dags.gitSync.sshKeySecret\n")
        .expect_stdout_contains("  acknowledged:\n    - dags.gitSync.knownHosts\n    - dags.gitSync.repo\n");
    assert!(!standin.upgraded());

    // A typo acknowledges nothing, and says so.
    let run = standin.upgrade(&["--allow-removal", "dags.gitsync"], &without_gitsync());
    run.expect_code(4).expect_stderr_contains("`--allow-removal dags.gitsync` matches no value");
    assert!(!standin.upgraded());
    standin.expect_safe(&run);

    // A path that cannot be one is bad usage, before anything runs.
    let run = standin.upgrade(&["--allow-removal", "dags..gitSync"], &without_gitsync());
    run.expect_code(2).expect_stderr_contains("hint:");
}

#[test]
fn a_rotated_secret_is_a_redacted_change_and_equal_numbers_are_no_change() {
    let standin = StandIn::new();
    // `3.0` where helm printed `3`: the same number to Helm.
    let values = with_rotated_secret().replace("replicas: 3", "replicas: 3.0");
    let run = standin.upgrade(&[], &values);
    run.expect_success()
        .expect_stdout_contains(
            "  removed: []\n  changed:\n    - path: webserverSecretKey\n      from: <redacted>\n      to: <redacted>\n  added: []\n",
        )
        .expect_stderr_contains("0 removed, 1 changed, 0 added");
    assert!(standin.upgraded());
    standin.expect_safe(&run);
    // What helm was given is the new key, in the 0600 file only (never argv).
    let seen = std::fs::read_to_string(standin.log.with_extension("log.values")).expect("copy of the values");
    assert!(seen.contains(NEW_SECRET));
}

#[test]
fn unchanged_values_and_added_ones_pass() {
    let standin = StandIn::new();
    let values = format!("{}images:\n  airflow:\n    tag: 3.1.8\n", fixture("values-manual-install.yaml"));
    let run = standin.upgrade(&[], &values);
    run.expect_success()
        .expect_stdout_contains(
            "  removed: []\n  changed: []\n  added:\n    - path: images.airflow.tag\n      value: \"3.1.8\"\n",
        )
        .expect_stderr_contains("0 removed, 0 changed, 1 added");
    assert!(standin.upgraded());
    standin.expect_safe(&run);

    // A release installed without user values (`null`): everything is added, nothing dropped.
    let standin = StandIn::new();
    let run = standin.run(&["upgrade"], &without_gitsync(), &[("STANDIN_STATUS", STATUS)]);
    run.expect_success().expect_stdout_contains("  removed: []\n").expect_stdout_contains("    - path: executor\n");
    assert!(standin.upgraded());
    standin.expect_safe(&run);
}

#[test]
fn a_release_that_does_not_exist_yet_skips_the_check() {
    let standin = StandIn::new();
    // The stand-in's default status is "release: not found".
    let run = standin.run(&["upgrade"], &without_gitsync(), &[("STANDIN_GET_VALUES", GET_VALUES)]);
    run.expect_success()
        .expect_stdout_contains("values_diff:\n  checked: false\n  skipped: \"release `airflow` is not installed");
    let log = standin.log();
    assert!(!log.contains("argv: get values"), "{log}");
    assert!(standin.upgraded());
    standin.expect_safe(&run);

    // Gone between `status` and `get values`: the same.
    let standin = StandIn::new();
    let run = standin.run(
        &["upgrade"],
        &without_gitsync(),
        &[("STANDIN_STATUS", STATUS), ("STANDIN_GET_VALUES", "notfound")],
    );
    run.expect_success().expect_stdout_contains("  checked: false\n");
    assert!(standin.upgraded());
}

#[test]
fn dry_run_never_asks_the_cluster_and_says_the_check_was_skipped() {
    let standin = StandIn::new();
    let run = standin.upgrade(&["--dry-run"], &without_gitsync());
    run.expect_success()
        .expect_stdout_contains("dry_run: true")
        .expect_stdout_contains("  checked: false\n  skipped: \"the values were not compared with the deployed release: `--dry-run` does not ask the cluster\"")
        .expect_stderr_contains("`--dry-run` does not ask the cluster");
    let log = standin.log();
    assert!(!log.contains("argv: status") && !log.contains("argv: get") && !standin.upgraded(), "{log}");
    standin.expect_safe(&run);
}

#[test]
fn help_names_the_flags() {
    let standin = StandIn::new();
    let run = standin.run(&["upgrade", "--help"], "", &[]);
    run.expect_success().expect_stdout_contains("--allow-removal <PATH>").expect_stdout_contains("--allow-removals");
}

// ---------------------------------------------------------------------------------------
// real helm 3, against a fake Kubernetes API that holds the manual install's release Secret

/// Serves the release Secret (helm's storage format, made by drop/capture.py) for every
/// secrets list or get, and `/version`; records each request's method and path. Anything
/// that is not a GET is answered 405, so a write would fail loudly and show in the record.
fn fake_api_with_release() -> HttpServer {
    let secret: serde_json::Value =
        serde_json::from_str(&fixture("release-secret-manual-install.json")).expect("secret");
    let list = serde_json::json!({"kind": "SecretList", "apiVersion": "v1", "metadata": {"resourceVersion": "1"}, "items": [secret]});
    HttpServer::start(Box::new(move |method, path| {
        if method != "GET" {
            Response::MethodNotAllowed
        } else if path == "/version" {
            json(&serde_json::json!({"major": "1", "minor": "31", "gitVersion": "v1.31.0", "platform": "linux/amd64"}))
        } else if path.ends_with("/secrets") {
            json(&list)
        } else if path.ends_with("/secrets/sh.helm.release.v1.airflow.v1") {
            json(&secret)
        } else {
            Response::NotFound
        }
    }))
}

#[test]
fn real_helm3_reads_the_deployed_values_and_the_drop_is_refused_before_any_write() {
    let Some(helm) =
        require_tool(Tool::Helm3, "real_helm3_reads_the_deployed_values_and_the_drop_is_refused_before_any_write")
    else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    for sub in ["config", "cache", "data", "tmp"] {
        std::fs::create_dir_all(dir.path().join(sub)).expect("mkdir");
    }
    let chart = chart(dir.path());
    let api = fake_api_with_release();
    let port = api.port;
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    server: http://127.0.0.1:{port}\n  name: t\ncontexts:\n- context:\n    cluster: t\n    user: t\n  name: t\ncurrent-context: t\nusers:\n- name: t\n  user:\n    token: not-a-real-token\n"
        ),
    )
    .expect("kubeconfig");
    std::fs::set_permissions(&kubeconfig, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let run = |extra: &[&str], values: &str| {
        let mut command = tool_command("helm-run");
        command
            .arg("upgrade")
            .arg("--helm")
            .arg(&helm)
            .arg("--chart")
            .arg(&chart)
            .arg("--kubeconfig")
            .arg(&kubeconfig)
            .args(extra)
            .current_dir(dir.path())
            .env("HELM_CONFIG_HOME", dir.path().join("config"))
            .env("HELM_CACHE_HOME", dir.path().join("cache"))
            .env("HELM_DATA_HOME", dir.path().join("data"))
            .env("TMPDIR", dir.path().join("tmp"))
            .env("HOME", dir.path());
        run_command(command, Some(values.as_bytes()))
    };
    let refused = run(&[], &without_gitsync());
    refused
        .expect_code(4)
        .expect_stderr_contains("drop 6 values that revision 1 of release `airflow` has")
        .expect_stdout_contains("  against_revision: 1\n");
    for path in GITSYNC_PATHS {
        refused.expect_stderr_contains(&format!("helm-run:   - {path}\n"));
    }
    // Refused before the upgrade: helm only read (the release Secrets), never wrote.
    let before = api.requests();
    assert!(before.iter().any(|r| r.starts_with("GET ") && r.contains("/secrets")), "{before:?}");
    assert!(before.iter().all(|r| r.starts_with("GET ")), "a write before the refusal: {before:?}");

    // The rotated key is the one change: the annotation helm printed as `\u003cok\u003e` is
    // the `<ok>` of our file, and its `3` our `3`. Past the check, the upgrade itself is
    // tried, and this API refuses writes, so helm fails (exit 3).
    let rotated = run(&[], &with_rotated_secret());
    rotated.expect_code(3).expect_stderr_contains("0 removed, 1 changed, 0 added");
    let acknowledged = run(&["--allow-removal", "dags.gitSync"], &without_gitsync());
    acknowledged.expect_code(3).expect_stderr_contains("removed (acknowledged): dags.gitSync.repo");
    for run in [&refused, &rotated, &acknowledged] {
        for secret in [DEPLOYED_SECRET, DEPLOY_KEY_BASE64, NEW_SECRET] {
            assert!(!run.stdout.contains(secret) && !run.stderr.contains(secret), "{run}");
        }
    }
}

// ---------------------------------------------------------------------------------------
// a real cluster, when one is named

/// The test chart (small templates + the real Airflow 1.20.0 values.yaml and schema).
fn chart(dir: &Path) -> PathBuf {
    let chart = dir.join("airflow");
    for sub in ["", "templates"] {
        std::fs::create_dir_all(chart.join(sub)).expect("mkdir");
        for entry in std::fs::read_dir(fixtures().join("chart").join(sub)).expect("chart fixture") {
            let entry = entry.expect("entry");
            if entry.file_type().expect("type").is_file() {
                std::fs::copy(entry.path(), chart.join(sub).join(entry.file_name())).expect("copy");
            }
        }
    }
    let real = shared_dir().join("airflow-chart/1.20.0");
    for file in ["values.yaml", "values.schema.json"] {
        std::fs::copy(real.join(file), chart.join(file)).expect("copy the real chart file");
    }
    chart
}

#[test]
fn end_to_end_against_a_real_cluster() {
    let Some(kubeconfig) = airflow_kit_tests::skip::e2e_kubeconfig("helm_run_drop::end_to_end_against_a_real_cluster")
    else {
        return;
    };
    let kubeconfig = PathBuf::from(kubeconfig);
    for (name, helm) in helms("helm_run_drop::end_to_end_against_a_real_cluster") {
        let dir = tempfile::tempdir().expect("temp dir");
        let chart = chart(dir.path());
        let namespace = format!("helm-run-drop-e2e-{name}");
        let run = |extra: &[&str], values: &str| {
            let mut command = tool_command("helm-run");
            command.arg("upgrade").args([
                "--helm".as_ref(),
                helm.as_os_str(),
                "--chart".as_ref(),
                chart.as_os_str(),
                "--kubeconfig".as_ref(),
                kubeconfig.as_os_str(),
                "-n".as_ref(),
                namespace.as_ref(),
            ]);
            command.args(extra).current_dir(dir.path());
            run_command(command, Some(values.as_bytes()))
        };
        run(&["--allow-removals"], &fixture("values-manual-install.yaml")).expect_success();
        let refused = run(&[], &without_gitsync());
        refused.expect_code(4);
        for path in GITSYNC_PATHS {
            refused.expect_stderr_contains(&format!("- {path}\n"));
        }
        let acknowledged = run(&["--allow-removal", "dags.gitSync"], &without_gitsync());
        acknowledged.expect_success().expect_stdout_contains("  unacknowledged: []\n");
        let rotated = run(&[], &with_rotated_secret());
        rotated.expect_success().expect_stdout_contains("from: <redacted>");
        for run in [&refused, &acknowledged, &rotated] {
            for secret in [DEPLOYED_SECRET, DEPLOY_KEY_BASE64, NEW_SECRET] {
                assert!(!run.stdout.contains(secret) && !run.stderr.contains(secret), "{run}");
            }
        }
        let _ = Command::new(&helm)
            .args(["uninstall", "airflow", "-n", &namespace, "--kubeconfig"])
            .arg(&kubeconfig)
            .status();
    }
}
