//! helm-run against real Helm 3 and Helm 4: a chart repository served on 127.0.0.1, the real
//! Airflow values.yaml + values.schema.json, a kubeconfig at a closed port, and a small fake
//! Kubernetes API (enough for `helm status` to say "not found"). What needs a live cluster
//! (the upgrade itself, pending releases, NOTES, Ctrl-C) uses the stand-in scripts under
//! tests/fixtures/helm-run/, which replay output captured from real helm.

use std::io::Write;
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use airflow_kit_tests::Run;
use airflow_kit_tests::bins::{run_command, shared_dir, tool_command, workspace_root};
use airflow_kit_tests::http::{HttpServer, Response, json};
use airflow_kit_tests::tools::helms;

/// GitHub's published ed25519 host key line, as `known-hosts` pins it.
const GITHUB_KNOWN_HOSTS: &str =
    "github.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";
const GOOD_VALUES: &str = "executor: KubernetesExecutor\ndags:\n  gitSync:\n    enabled: true\n    repo: git@github.com:me/dags.git\n    branch: main\n    knownHosts: |\n      github.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n";
/// The same values with knownHosts gone: the chart would turn host key checking off.
const SSH_WITHOUT_KNOWN_HOSTS: &str = "executor: KubernetesExecutor\ndags:\n  gitSync:\n    enabled: true\n    repo: git@github.com:me/dags.git\n    branch: main\n    sshKeySecret: airflow-ssh-secret\n";
const MISSPELLED_VALUES: &str = "dags:\n  gitsync:\n    enabled: true\n";
/// A value that must never reach argv, a log or the report.
const SECRET: &str = "Zq81-very-secret-webserver-key";

// ---------------------------------------------------------------------------------------
// the harness of this file

/// A temp directory with isolated helm homes and a scratch TMPDIR for helm-run.
struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Sandbox {
        let sandbox = Sandbox { dir: tempfile::tempdir().expect("temp dir") };
        for sub in ["config", "cache", "data", "tmp"] {
            std::fs::create_dir_all(sandbox.path().join(sub)).expect("mkdir");
        }
        sandbox
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn tmp(&self) -> PathBuf {
        self.path().join("tmp")
    }

    /// helm-run with the helm homes and TMPDIR inside the sandbox.
    fn helm_run(&self, args: &[&str], stdin: Option<&str>) -> Run {
        self.helm_run_with(args, stdin, &[])
    }

    fn helm_run_with(&self, args: &[&str], stdin: Option<&str>, env: &[(&str, String)]) -> Run {
        let mut command = tool_command("helm-run");
        command.args(args).current_dir(self.path());
        self.isolate(&mut command);
        for (name, value) in env {
            command.env(name, value);
        }
        run_command(command, stdin.map(str::as_bytes))
    }

    fn isolate(&self, command: &mut Command) {
        command
            .env("HELM_CONFIG_HOME", self.path().join("config"))
            .env("HELM_CACHE_HOME", self.path().join("cache"))
            .env("HELM_DATA_HOME", self.path().join("data"))
            .env("TMPDIR", self.tmp())
            .env("HOME", self.path())
            .env_remove("KUBECONFIG");
    }

    /// Runs a real helm with the sandbox's homes.
    fn helm(&self, helm: &Path, args: &[&str]) -> String {
        let mut command = Command::new(helm);
        command.args(args).current_dir(self.path());
        self.isolate(&mut command);
        let output = command.output().expect("helm runs");
        assert!(output.status.success(), "helm {args:?}: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Nothing may be left in helm-run's TMPDIR: the values file and its directory are gone.
    #[track_caller]
    fn expect_no_leftovers(&self) {
        let left: Vec<_> = std::fs::read_dir(self.tmp()).expect("list tmp").map(|e| e.expect("entry").path()).collect();
        assert!(left.is_empty(), "helm-run left files behind: {left:?}");
    }

    /// The test chart: our small templates + the real Airflow 1.20.0 values.yaml and schema.
    fn chart(&self) -> PathBuf {
        let chart = self.path().join("airflow");
        copy_dir(&fixtures().join("chart"), &chart);
        let real = shared_dir().join("airflow-chart/1.20.0");
        for file in ["values.yaml", "values.schema.json"] {
            std::fs::copy(real.join(file), chart.join(file)).expect("copy the real chart file");
        }
        chart
    }

    fn kubeconfig(&self, server: &str, mode: u32) -> PathBuf {
        let path = self.path().join("kubeconfig");
        let text = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    server: {server}\n  name: test\ncontexts:\n- context:\n    cluster: test\n    user: test\n  name: test\ncurrent-context: test\nusers:\n- name: test\n  user:\n    token: not-a-real-token\n"
        );
        std::fs::write(&path, text).expect("kubeconfig");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod");
        path
    }
}

fn fixtures() -> PathBuf {
    workspace_root().join("tests/fixtures/helm-run")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// Serves the files of a directory (the chart repository).
fn static_dir(dir: PathBuf) -> HttpServer {
    HttpServer::start(Box::new(move |_, path| {
        let name = path.trim_start_matches('/');
        if name.contains("..") {
            return Response::NotFound;
        }
        match std::fs::read(dir.join(name)) {
            Ok(body) => Response::Ok { content_type: "application/octet-stream", body },
            Err(_) => Response::NotFound,
        }
    }))
}

/// Just enough of a Kubernetes API for `helm status`: a version and no release secrets.
fn fake_kubernetes() -> HttpServer {
    HttpServer::start(Box::new(|_, path| {
        if path == "/version" {
            return json(
                &serde_json::json!({"major": "1", "minor": "31", "gitVersion": "v1.31.0", "platform": "linux/amd64"}),
            );
        }
        if path.starts_with("/api/v1/namespaces/") && path.ends_with("/secrets") {
            return json(
                &serde_json::json!({"kind": "SecretList", "apiVersion": "v1", "metadata": {"resourceVersion": "1"}, "items": []}),
            );
        }
        Response::NotFound
    }))
}

fn url(server: &HttpServer) -> String {
    format!("http://127.0.0.1:{}", server.port)
}

// ---------------------------------------------------------------------------------------
// real helm

#[test]
fn repo_adds_once_then_changes_nothing_and_search_finds_the_chart() {
    for (name, helm) in helms("repo_adds_once_then_changes_nothing_and_search_finds_the_chart") {
        let sandbox = Sandbox::new();
        let chart = sandbox.chart();
        let served = sandbox.path().join("served");
        std::fs::create_dir_all(&served).expect("mkdir");
        let server = static_dir(served.clone());
        let helm_arg = helm.display().to_string();
        sandbox.helm(
            &helm,
            &["package", chart.to_str().expect("utf-8"), "--destination", served.to_str().expect("utf-8")],
        );
        sandbox.helm(&helm, &["repo", "index", served.to_str().expect("utf-8"), "--url", &url(&server)]);

        let first = sandbox.helm_run(&["repo", "--helm", &helm_arg, "--repo-url", &url(&server)], None);
        first.expect_success().expect_stdout_contains("change: added").expect_stdout_contains("name: apache-airflow");
        let second = sandbox.helm_run(&["repo", "--helm", &helm_arg, "--repo-url", &url(&server)], None);
        second.expect_success().expect_stdout_contains("change: unchanged");
        assert!(!second.stdout.contains("repo add"), "{name}: a second run must not add again\n{second}");

        let list = sandbox.helm(&helm, &["repo", "list", "-o", "json"]);
        assert_eq!(list.matches("apache-airflow").count(), 1, "{name}: {list}");
        let search = sandbox.helm(&helm, &["search", "repo", "apache-airflow/airflow"]);
        assert!(search.contains("apache-airflow/airflow") && search.contains("1.20.0"), "{name}: {search}");
        // Through the repository, the chart renders like the local one.
        sandbox
            .helm_run(&["template", "--helm", &helm_arg], Some(GOOD_VALUES))
            .expect_success()
            .expect_stdout_contains("gitSyncRepo: \"git@github.com:me/dags.git\"");

        // A different URL replaces the entry, once.
        let other = static_dir(served.clone());
        sandbox
            .helm_run(&["repo", "--helm", &helm_arg, "--repo-url", &url(&other)], None)
            .expect_success()
            .expect_stdout_contains("change: replaced");
        assert!(server.requests().iter().any(|path| path.ends_with("index.yaml")), "{name}: the index was fetched");
    }
}

#[test]
fn misspelled_gitsync_stops_preflight_template_and_upgrade_before_the_cluster() {
    for (name, helm) in helms("misspelled_gitsync_stops_preflight_template_and_upgrade_before_the_cluster") {
        let sandbox = Sandbox::new();
        let chart = sandbox.chart();
        let api = fake_kubernetes();
        let kubeconfig = sandbox.kubeconfig(&url(&api), 0o600);
        let chart_arg = chart.display().to_string();
        let helm_arg = helm.display().to_string();
        let kube_arg = kubeconfig.display().to_string();
        for subcommand in ["preflight", "template", "upgrade"] {
            let run = sandbox.helm_run(
                &[subcommand, "--helm", &helm_arg, "--chart", &chart_arg, "--kubeconfig", &kube_arg],
                Some(MISSPELLED_VALUES),
            );
            run.expect_code(2).expect_stderr_contains("`dags.gitsync`").expect_stderr_contains("hint:");
            assert!(run.stdout.is_empty(), "{name} {subcommand}: nothing on stdout\n{run}");
            assert!(api.requests().is_empty(), "{name} {subcommand}: the cluster was contacted: {:?}", api.requests());
            sandbox.expect_no_leftovers();
        }
        // A wrong type is named by its path too, in either helm's wording.
        let run = sandbox.helm_run(
            &["preflight", "--helm", &helm_arg, "--chart", &chart_arg, "--kubeconfig", &kube_arg],
            Some("dags:\n  gitSync:\n    enabled: \"yes\"\n"),
        );
        run.expect_code(2).expect_stderr_contains("`dags.gitSync.enabled`");
        assert!(api.requests().is_empty(), "{name}: {:?}", api.requests());
    }
}

#[test]
fn good_values_pass_preflight_and_template() {
    for (name, helm) in helms("good_values_pass_preflight_and_template") {
        let sandbox = Sandbox::new();
        let chart = sandbox.chart();
        let api = fake_kubernetes();
        let kubeconfig = sandbox.kubeconfig(&url(&api), 0o600);
        let (chart_arg, helm_arg, kube_arg) =
            (chart.display().to_string(), helm.display().to_string(), kubeconfig.display().to_string());
        let run = sandbox.helm_run(
            &["preflight", "--helm", &helm_arg, "--chart", &chart_arg, "--kubeconfig", &kube_arg],
            Some(GOOD_VALUES),
        );
        run.expect_success()
            .expect_stdout_contains("action: preflight")
            .expect_stdout_contains("status: not-installed")
            .expect_stdout_contains("chart_version: \"1.20.0\"")
            .expect_stdout_contains("app_version: \"3.1.8\"");
        assert!(!run.stderr.contains("warning"), "{name}: a 0600 kubeconfig gives no warning\n{run}");
        assert!(
            api.requests().iter().any(|path| path.contains("/secrets")),
            "{name}: preflight asked the API for the release: {:?}",
            api.requests()
        );
        sandbox.expect_no_leftovers();

        let values_file = sandbox.path().join("values.yaml");
        std::fs::write(&values_file, GOOD_VALUES).expect("values");
        let run = sandbox.helm_run(
            &["template", "--helm", &helm_arg, "--chart", &chart_arg, "-f", values_file.to_str().expect("utf-8")],
            None,
        );
        run.expect_success()
            .expect_stdout_contains("kind: ConfigMap")
            .expect_stdout_contains("executor: \"KubernetesExecutor\"");

        // --dry-run: the report with the command, and no cluster call beyond the ones above.
        let before = api.requests().len();
        let run = sandbox.helm_run(
            &["upgrade", "--dry-run", "--helm", &helm_arg, "--chart", &chart_arg, "--kubeconfig", &kube_arg],
            Some(GOOD_VALUES),
        );
        run.expect_success()
            .expect_stdout_contains("dry_run: true")
            .expect_stdout_contains("would_run:")
            .expect_stdout_contains("upgrade --install airflow")
            .expect_stdout_contains("--create-namespace -f ");
        assert_eq!(api.requests().len(), before, "{name}: --dry-run touched the cluster");
        sandbox.expect_no_leftovers();
    }
}

/// The words of a command line as `sh` splits them.
fn shell_words(line: &str) -> Vec<String> {
    let output =
        Command::new("sh").arg("-c").arg(format!("set -- {line}; printf '%s\\0' \"$@\"")).output().expect("sh runs");
    assert!(output.status.success(), "`{line}` does not parse: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).split_terminator('\0').map(str::to_string).collect()
}

/// The report's `would_run`, read through core's report reader.
fn would_run(run: &Run) -> String {
    let report: serde_json::Value =
        airflow_kit_core::report::from_yaml(&run.stdout, "helm-run upgrade --dry-run").expect("a report");
    report["would_run"].as_str().unwrap_or_else(|| panic!("no would_run in\n{run}")).to_string()
}

/// Defect 11: the `would_run` of `--dry-run` is a command a person can paste. Run exactly as
/// printed (from the same directory, the values on its stdin when it says `-f -`), real helm
/// reads the values file it names, which still exists, and goes on to the cluster: the fake
/// API sees the discovery request (`GET /api`) helm makes only after the values were read
/// and parsed (a missing `-f` file stops helm before it, with `no such file or directory`).
/// It carries no `-o json`, which would print the release with every secret, and no secret.
#[test]
fn dry_run_would_run_works_as_printed_and_shows_no_secret() {
    for (name, helm) in helms("dry_run_would_run_works_as_printed_and_shows_no_secret") {
        let sandbox = Sandbox::new();
        let chart = sandbox.chart();
        let api = fake_kubernetes();
        let kubeconfig = sandbox.kubeconfig(&url(&api), 0o600);
        let values = values_with_secret();
        std::fs::write(sandbox.path().join("my values.yaml"), &values).expect("values");
        let (chart_arg, helm_arg, kube_arg) =
            (chart.display().to_string(), helm.display().to_string(), kubeconfig.display().to_string());
        let base = ["upgrade", "--dry-run", "--helm", &helm_arg, "--chart", &chart_arg, "--kubeconfig", &kube_arg];

        for from_stdin in [false, true] {
            let before = api.requests().len();
            let mut args = base.to_vec();
            if !from_stdin {
                args.extend(["-f", "my values.yaml"]);
            }
            let run = sandbox.helm_run(&args, from_stdin.then_some(values.as_str()));
            run.expect_success().expect_stdout_contains("dry_run: true");
            assert!(
                !run.stdout.contains(SECRET) && !run.stderr.contains(SECRET),
                "{name}: a secret was printed\n{run}"
            );
            assert_eq!(api.requests().len(), before, "{name}: --dry-run touched the cluster: {:?}", api.requests());
            sandbox.expect_no_leftovers();

            let printed = would_run(&run);
            let line = if from_stdin { format!("{printed} < 'my values.yaml'") } else { printed.clone() };
            let mut pasted = Command::new("sh");
            pasted.arg("-c").arg(&line).current_dir(sandbox.path());
            sandbox.isolate(&mut pasted);
            let output = pasted.output().expect("sh runs");
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(!stderr.contains("no such file"), "{name}: `{line}`: helm could not read the values:\n{stderr}");
            assert!(!stderr.contains("unknown flag") && !stderr.contains("unknown shorthand"), "{name}: {stderr}");
            let requests = api.requests().split_off(before);
            assert!(
                requests.iter().any(|request| request == "GET /api" || request.starts_with("GET /api?")),
                "{name}: `{line}` never got past reading the values: {requests:?}\n{stderr}"
            );
            assert!(
                !String::from_utf8_lossy(&output.stdout).contains(SECRET),
                "{name}: the pasted command printed a secret"
            );

            let words = shell_words(&printed);
            let expected_file = if from_stdin { "-" } else { "my values.yaml" };
            let expected: Vec<String> = [
                &helm_arg,
                "upgrade",
                "--install",
                "airflow",
                &chart_arg,
                "--namespace",
                "airflow",
                "--create-namespace",
                "-f",
                expected_file,
                "--timeout",
                "10m0s",
                "--kubeconfig",
                &kube_arg,
            ]
            .iter()
            .map(|word| word.to_string())
            .collect();
            assert_eq!(words, expected, "{name}: {printed}");
            assert!(!printed.contains("-o json") && !printed.contains(SECRET), "{name}: {printed}");
            if from_stdin {
                run.expect_stderr_contains("`-f -`");
            } else {
                assert!(sandbox.path().join("my values.yaml").is_file(), "{name}: the -f file is gone");
            }
        }
    }
}

#[test]
fn unreachable_cluster_exits_3_with_the_hint_and_a_0644_kubeconfig_warns() {
    for (name, helm) in helms("unreachable_cluster_exits_3_with_the_hint_and_a_0644_kubeconfig_warns") {
        let sandbox = Sandbox::new();
        let chart = sandbox.chart();
        let closed_port = {
            let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
            listener.local_addr().expect("addr").port()
        };
        let kubeconfig = sandbox.kubeconfig(&format!("https://127.0.0.1:{closed_port}"), 0o644);
        let started = Instant::now();
        let run = sandbox.helm_run(
            &[
                "upgrade",
                "--helm",
                helm.to_str().expect("utf-8"),
                "--chart",
                chart.to_str().expect("utf-8"),
                "--kubeconfig",
                kubeconfig.to_str().expect("utf-8"),
                "--timeout",
                "2m",
            ],
            Some(GOOD_VALUES),
        );
        run.expect_code(3)
            .expect_stderr_contains("not reachable")
            .expect_stderr_contains("microk8s config > ~/.kube/config")
            .expect_stderr_contains("group- or world-readable (mode 0644)")
            .expect_stderr_contains(&format!("chmod 600 {}", kubeconfig.display()));
        assert!(started.elapsed() < Duration::from_secs(60), "{name}: took {:?}", started.elapsed());
        assert!(!run.stderr.contains("running: "), "{name}: the upgrade itself must not run\n{run}");
        sandbox.expect_no_leftovers();
    }
}

#[test]
fn bad_input_exits_2_with_a_hint() {
    let sandbox = Sandbox::new();
    let run = sandbox.helm_run(&["preflight"], Some("dags: [unclosed\n"));
    run.expect_code(2).expect_stderr_contains("hint:");
    let run = sandbox.helm_run(&["template", "--chart", "./no-such-chart"], Some(GOOD_VALUES));
    run.expect_code(2).expect_stderr_contains("`./no-such-chart` does not exist").expect_stderr_contains("hint:");
    let run = sandbox.helm_run(&["upgrade", "--timeout", "ten"], Some(GOOD_VALUES));
    run.expect_code(2).expect_stderr_contains("not a duration");
    // A number without a unit is refused, as helm refuses it, in core's one wording.
    let run = sandbox.helm_run(&["upgrade", "--timeout", "90"], Some(GOOD_VALUES));
    run.expect_code(2).expect_stderr_contains("`90` has no unit").expect_stderr_contains("hint:");
    let run = sandbox.helm_run(&["upgrade", "--wait", "--dry-run"], Some(GOOD_VALUES));
    run.expect_code(2).expect_stderr_contains("deadlock").expect_stderr_contains("useHelmHooks: false");
    let run = sandbox.helm_run(&["preflight", "--kubeconfig", "/no/such/kubeconfig"], Some(GOOD_VALUES));
    run.expect_code(2).expect_stderr_contains("microk8s config");
    sandbox.expect_no_leftovers();
}

#[test]
fn help_lists_exit_codes_and_an_example() {
    let sandbox = Sandbox::new();
    let run = sandbox.helm_run(&["--help"], None);
    run.expect_success().expect_stdout_contains("Exit codes:").expect_stdout_contains("helm-run upgrade < values.yaml");
}

// ---------------------------------------------------------------------------------------
// stand-in helm (a live cluster cannot run here)

/// A sandbox whose PATH holds only the stand-in (and the system tools it uses).
struct StandIn {
    sandbox: Sandbox,
    log: PathBuf,
    path: String,
}

impl StandIn {
    fn helm() -> StandIn {
        StandIn::with_path_dir(&fixtures().join("bin"))
    }

    fn microk8s_only() -> StandIn {
        StandIn::with_path_dirs(&[&fixtures().join("microk8s-bin")])
    }

    /// `helm` and `microk8s` both on PATH, helm first.
    fn helm_and_microk8s() -> StandIn {
        StandIn::with_path_dirs(&[&fixtures().join("bin"), &fixtures().join("microk8s-bin")])
    }

    fn with_path_dir(dir: &Path) -> StandIn {
        StandIn::with_path_dirs(&[dir])
    }

    fn with_path_dirs(dirs: &[&Path]) -> StandIn {
        let sandbox = Sandbox::new();
        let log = sandbox.path().join("argv.log");
        std::fs::write(&log, "").expect("log");
        let dirs: Vec<String> = dirs.iter().map(|dir| dir.display().to_string()).collect();
        StandIn { sandbox, log, path: format!("{}:/usr/bin:/bin", dirs.join(":")) }
    }

    fn run(&self, args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> Run {
        let mut all: Vec<(&str, String)> =
            vec![("PATH", self.path.clone()), ("STANDIN_LOG", self.log.display().to_string())];
        all.extend(env.iter().map(|(name, value)| (*name, value.to_string())));
        self.sandbox.helm_run_with(args, stdin, &all)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).expect("argv log")
    }

    /// The values files the stand-in was given, with their mode at the time.
    fn values_files(&self) -> Vec<(PathBuf, String)> {
        self.log()
            .lines()
            .filter_map(|line| line.strip_prefix("values: "))
            .filter_map(|rest| rest.split_once(" mode "))
            .map(|(path, mode)| (PathBuf::from(path), mode.to_string()))
            .collect()
    }

    /// Everything a secret must never appear in: argv, the values file name, our output.
    #[track_caller]
    fn expect_safe(&self, run: &Run) {
        let log = self.log();
        assert!(!log.contains(SECRET), "a secret reached helm's argv:\n{log}");
        assert!(!log.contains("--reuse-values"), "--reuse-values must never be used:\n{log}");
        assert!(!run.stdout.contains(SECRET) && !run.stderr.contains(SECRET), "a secret was printed\n{run}");
        assert!(!run.stdout.contains("fixture-secret-in-release-config"), "the release config was copied\n{run}");
        let files = self.values_files();
        assert!(!files.is_empty(), "helm was never given a values file:\n{log}");
        for (path, mode) in files {
            assert_eq!(mode, "600", "the values file `{}` had mode {mode} during the call", path.display());
            assert!(!path.exists(), "the values file `{}` is still there", path.display());
        }
        self.sandbox.expect_no_leftovers();
    }
}

fn values_with_secret() -> String {
    format!("{GOOD_VALUES}webserverSecretKey: {SECRET}\n")
}

#[test]
fn upgrade_runs_install_with_a_private_values_file_and_reports_the_notes() {
    for fixture in ["release-deployed-helm3.json", "release-deployed-helm4.json"] {
        let standin = StandIn::helm();
        let values = values_with_secret();
        let run = standin.run(&["upgrade"], Some(&values), &[("STANDIN_UPGRADE", fixture)]);
        run.expect_success()
            .expect_stdout_contains("action: upgrade")
            .expect_stdout_contains("revision: 2")
            .expect_stdout_contains("status: deployed")
            .expect_stdout_contains("chart_version: \"1.20.0\"")
            .expect_stdout_contains("app_version: \"3.1.8\"")
            .expect_stdout_contains("kind: static-secret-key")
            .expect_stdout_contains("failure: F9")
            .expect_stdout_contains("kind: known-hosts-missing")
            .expect_stdout_contains("failure: F1")
            .expect_stdout_contains("kind: default-credentials")
            .expect_stdout_contains("failure: F17")
            .expect_stdout_contains("kind: other")
            .expect_stderr_contains("helm: W1127");
        standin.expect_safe(&run);
        let log = standin.log();
        let upgrade = log.lines().find(|line| line.starts_with("argv: upgrade")).expect("upgrade was called");
        assert!(
            upgrade.starts_with(
                "argv: upgrade --install airflow apache-airflow/airflow --namespace airflow --create-namespace -f "
            ),
            "{upgrade}"
        );
        // The timeout reaches helm in Go's own spelling (core's `duration::format`).
        assert!(upgrade.contains(" --timeout 10m0s "), "{upgrade}");
        assert!(!upgrade.contains("--wait"), "no --wait with hook migrations: {upgrade}");
        // The file helm read held exactly the document we were given.
        let seen = std::fs::read_to_string(standin.log.with_extension("log.values")).expect("copy of the values");
        assert_eq!(seen, values);
        // The order: local checks first, the cluster after.
        let calls: Vec<&str> = log
            .lines()
            .filter_map(|line| line.strip_prefix("argv: "))
            .map(|l| l.split(' ').next().unwrap_or(""))
            .collect();
        assert_eq!(calls, ["version", "template", "show", "status", "upgrade"], "{fixture}");
    }
}

#[test]
fn pending_upgrade_is_refused_before_upgrading() {
    let standin = StandIn::helm();
    let run = standin.run(
        &["upgrade"],
        Some(&values_with_secret()),
        &[("STANDIN_STATUS", "release-pending-upgrade-helm3.json")],
    );
    run.expect_code(4).expect_stderr_contains("`pending-upgrade`").expect_stderr_contains("helm rollback airflow");
    assert!(!standin.log().contains("argv: upgrade"), "{}", standin.log());
    standin.expect_safe(&run);
    // preflight says the same; status reports it with the explanation on stderr.
    standin
        .run(&["preflight"], Some(GOOD_VALUES), &[("STANDIN_STATUS", "release-pending-upgrade-helm3.json")])
        .expect_code(4);
    let run = standin.run(&["status"], None, &[("STANDIN_STATUS", "release-pending-upgrade-helm3.json")]);
    run.expect_success().expect_stdout_contains("status: pending-upgrade").expect_stderr_contains("helm history");
}

#[test]
fn microk8s_helm3_is_used_when_only_microk8s_is_there() {
    let standin = StandIn::microk8s_only();
    let run = standin.run(&["upgrade"], Some(&values_with_secret()), &[]);
    run.expect_success()
        .expect_stdout_contains("microk8s-bin/microk8s helm3\n")
        .expect_stdout_contains("found_by: microk8s");
    let log = standin.log();
    assert!(log.contains("microk8s-argv: helm3 upgrade --install airflow"), "{log}");
    assert!(!log.contains("microk8s-argv: helm upgrade"), "{log}");
    standin.expect_safe(&run);
}

/// Defect 2: `--microk8s` makes every helm call `microk8s helm3`, even with a `helm` on PATH
/// (which helm-run would otherwise prefer); `--helm PATH` still wins over it.
#[test]
fn microk8s_flag_calls_only_microk8s_even_with_helm_on_path() {
    for args in [&["upgrade", "--microk8s"][..], &["preflight", "--microk8s"], &["status", "--microk8s"]] {
        let standin = StandIn::helm_and_microk8s();
        let stdin = (args[0] != "status").then(values_with_secret);
        let env: &[(&str, &str)] =
            if args[0] == "status" { &[("STANDIN_STATUS", "release-deployed-helm3.json")] } else { &[] };
        let run = standin.run(args, stdin.as_deref(), env);
        run.expect_success().expect_stdout_contains("found_by: \"--microk8s\"");
        let log = standin.log();
        assert!(!log.contains("direct:"), "{args:?}: helm on PATH was called although --microk8s was given:\n{log}");
        let calls = log.lines().filter(|line| line.starts_with("argv:")).count();
        let via_microk8s = log.lines().filter(|line| line.starts_with("microk8s-argv: helm3 ")).count();
        assert!(calls > 0 && calls == via_microk8s, "{args:?}: every helm call goes through `microk8s helm3`:\n{log}");
        if args[0] == "upgrade" {
            assert!(log.contains("microk8s-argv: helm3 upgrade --install airflow"), "{log}");
            standin.expect_safe(&run);
        }
    }
    // Without the flag, the same PATH gives the helm on it.
    let standin = StandIn::helm_and_microk8s();
    standin
        .run(&["upgrade"], Some(&values_with_secret()), &[])
        .expect_success()
        .expect_stdout_contains("found_by: PATH");
    assert!(!standin.log().contains("microk8s-argv:"), "{}", standin.log());

    // `--helm PATH` wins over `--microk8s`.
    let standin = StandIn::helm_and_microk8s();
    let helm = fixtures().join("bin/helm");
    let run = standin.run(
        &["upgrade", "--microk8s", "--helm", helm.to_str().expect("utf-8")],
        Some(&values_with_secret()),
        &[],
    );
    run.expect_success().expect_stdout_contains("found_by: \"--helm\"");
    assert!(!standin.log().contains("microk8s-argv:"), "{}", standin.log());

    // `--microk8s` where there is no MicroK8s: bad usage, said so, nothing run.
    let standin = StandIn::helm();
    let run = standin.run(&["upgrade", "--microk8s"], Some(GOOD_VALUES), &[]);
    run.expect_code(2).expect_stderr_contains("no `microk8s` on PATH").expect_stderr_contains("hint:");
    assert!(standin.log().is_empty(), "{}", standin.log());
}

/// Starts `helm-run upgrade ARGS` against the stand-in, whose upgrade sleeps until a signal
/// comes; returns it once helm runs, with the values file helm was given.
fn start_sleeping_upgrade(standin: &StandIn, args: &[&str]) -> (std::process::Child, PathBuf) {
    let mut command = tool_command("helm-run");
    command.arg("upgrade").args(args).current_dir(standin.sandbox.path());
    standin.sandbox.isolate(&mut command);
    command
        .env("PATH", &standin.path)
        .env("STANDIN_LOG", &standin.log)
        .env("STANDIN_UPGRADE_SLEEP", "30")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("helm-run starts");
    child.stdin.take().expect("stdin").write_all(values_with_secret().as_bytes()).expect("write values");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !standin.log().contains("upgrade: started") {
        assert!(Instant::now() < deadline, "the upgrade never started:\n{}", standin.log());
        std::thread::sleep(Duration::from_millis(20));
    }
    let (path, mode) = standin.values_files().pop().expect("a values file");
    assert!(path.exists(), "the values file exists while helm runs");
    assert_eq!(mode, "600");
    (child, path)
}

/// Sends `signal` (`INT`, `TERM`, `HUP`) to helm-run alone, as a terminal (Ctrl-C, a dropped
/// SSH session) or `kill` reaches it: helm runs in its own process group, so only
/// forwarding can reach helm. Returns the run once helm-run has exited.
fn signal_and_wait(child: std::process::Child, signal: &str) -> Run {
    let started = Instant::now();
    let status = Command::new("kill").args([&format!("-{signal}"), &child.id().to_string()]).status().expect("kill");
    assert!(status.success());
    let output = child.wait_with_output().expect("wait");
    assert!(started.elapsed() < Duration::from_secs(10), "helm-run waited for the sleep instead of forwarding");
    Run {
        command: format!("helm-run upgrade (SIG{signal})"),
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

#[test]
fn ctrl_c_is_forwarded_to_helm_and_the_values_file_removed() {
    let standin = StandIn::helm();
    let (child, path) = start_sleeping_upgrade(&standin, &[]);
    let run = signal_and_wait(child, "INT");
    run.expect_code(130).expect_stderr_contains("interrupted by Ctrl-C");
    assert!(standin.log().contains("signal: INT"), "helm never got the Ctrl-C:\n{}", standin.log());
    assert!(!path.exists(), "the values file survived Ctrl-C");
    standin.expect_safe(&run);
}

/// Issue 11, item 7: an SSH session that drops sends SIGHUP. helm-run used to die of it on
/// the spot, leaving helm running without it and the full values file (every secret) in the
/// temp directory. Now SIGHUP is handled as SIGINT and SIGTERM are: forwarded to helm's
/// group, the values file removed, exit 128 + 1.
#[test]
fn sighup_is_forwarded_to_helm_the_values_file_removed_and_exit_129() {
    let standin = StandIn::helm();
    let (child, path) = start_sleeping_upgrade(&standin, &[]);
    let run = signal_and_wait(child, "HUP");
    run.expect_code(129).expect_stderr_contains("interrupted by SIGHUP");
    assert!(standin.log().contains("signal: HUP"), "helm never got the SIGHUP:\n{}", standin.log());
    assert!(!path.exists(), "the values file survived SIGHUP");
    standin.expect_safe(&run);
}

/// Issue 11, item 7: the private values file lives where the caller says (`--work-dir`, the
/// install's 0700 state directory), not in the shared temp directory, and is gone after a
/// signal as after a normal run; the work directory itself is the caller's and stays.
#[test]
fn work_dir_holds_the_values_file_and_is_left_empty() {
    for signal in [None, Some("TERM"), Some("HUP")] {
        let standin = StandIn::helm();
        let work = standin.sandbox.path().join("state/work");
        std::fs::create_dir_all(&work).expect("mkdir");
        std::fs::set_permissions(&work, std::fs::Permissions::from_mode(0o700)).expect("chmod");
        let work_arg = work.display().to_string();
        let run = match signal {
            None => {
                let run = standin.run(&["upgrade", "--work-dir", &work_arg], Some(&values_with_secret()), &[]);
                run.expect_success();
                run
            }
            Some(signal) => {
                let (child, path) = start_sleeping_upgrade(&standin, &["--work-dir", &work_arg]);
                let parent = path.parent().expect("a private directory").to_path_buf();
                assert_eq!(parent.parent(), Some(work.as_path()), "the values file is not under --work-dir: {path:?}");
                let mode = std::fs::metadata(&parent).expect("stat").permissions().mode() & 0o777;
                assert_eq!(mode, 0o700, "the private directory is {mode:o}");
                let run = signal_and_wait(child, signal);
                run.expect_code(if signal == "TERM" { 143 } else { 129 });
                run
            }
        };
        for (path, _) in standin.values_files() {
            assert!(path.starts_with(&work), "{signal:?}: the values file was not under --work-dir: {path:?}");
        }
        let left: Vec<_> = std::fs::read_dir(&work).expect("work dir").collect();
        assert!(left.is_empty(), "{signal:?}: helm-run left {left:?} in --work-dir");
        standin.expect_safe(&run);
    }

    // preflight and template write the values there too; a missing directory is made 0700.
    let standin = StandIn::helm();
    let work = standin.sandbox.path().join("fresh");
    let work_arg = work.display().to_string();
    for subcommand in ["preflight", "template"] {
        standin.run(&[subcommand, "--work-dir", &work_arg], Some(GOOD_VALUES), &[]).expect_success();
    }
    assert_eq!(std::fs::metadata(&work).expect("made").permissions().mode() & 0o777, 0o700);
    assert!(standin.values_files().iter().all(|(path, _)| path.starts_with(&work)), "{}", standin.log());
    standin.sandbox.expect_no_leftovers();
}

/// A work directory another user could write into is refused (exit 4) before anything is
/// written or run, with the fix; a file is bad usage (exit 2).
#[test]
fn a_work_dir_others_can_write_is_refused() {
    let standin = StandIn::helm();
    let shared = standin.sandbox.path().join("shared");
    std::fs::create_dir(&shared).expect("mkdir");
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o777)).expect("chmod");
    let shared_arg = shared.display().to_string();
    for subcommand in ["upgrade", "preflight", "template"] {
        let run = standin.run(&[subcommand, "--work-dir", &shared_arg], Some(GOOD_VALUES), &[]);
        run.expect_code(4)
            .expect_stderr_contains("writable by others")
            .expect_stderr_contains(&format!("chmod 700 {shared_arg}"));
        assert!(standin.log().is_empty(), "{subcommand}: helm ran:\n{}", standin.log());
        assert_eq!(std::fs::read_dir(&shared).expect("dir").count(), 0, "{subcommand}: something was written");
    }
    let file = standin.sandbox.path().join("a-file");
    std::fs::write(&file, "").expect("write");
    let run = standin.run(&["upgrade", "--work-dir", file.to_str().expect("utf-8")], Some(GOOD_VALUES), &[]);
    run.expect_code(2).expect_stderr_contains("not a directory").expect_stderr_contains("hint:");
    assert!(standin.log().is_empty(), "{}", standin.log());
}

/// Issue 11, item 5: values whose `dags.gitSync.repo` is an SSH URL while
/// `dags.gitSync.knownHosts` is missing or empty make the chart set `GIT_KNOWN_HOSTS=false`
/// (host key checking off: git-sync would talk to any server). preflight and upgrade (a dry
/// run too) refuse them with exit 4 and the fix before helm runs at all, unless
/// `--allow-no-known-hosts` says so, which still warns; an HTTPS repository needs none.
#[test]
fn an_ssh_repository_without_known_hosts_is_refused_before_helm_runs() {
    let refused = [
        SSH_WITHOUT_KNOWN_HOSTS.to_string(),
        format!("{SSH_WITHOUT_KNOWN_HOSTS}    knownHosts: \"\"\n"),
        format!("{SSH_WITHOUT_KNOWN_HOSTS}    knownHosts: null\n"),
        SSH_WITHOUT_KNOWN_HOSTS.replace("git@github.com:me/dags.git", "ssh://git@ssh.github.com:443/me/dags.git"),
    ];
    for values in &refused {
        for args in [&["preflight"][..], &["upgrade"], &["upgrade", "--dry-run"]] {
            let standin = StandIn::helm();
            let run = standin.run(args, Some(values), &[]);
            run.expect_code(4)
                .expect_stderr_contains("`dags.gitSync.knownHosts`")
                .expect_stderr_contains("host key checking off")
                .expect_stderr_contains("hint:")
                .expect_stderr_contains("known-hosts")
                .expect_stderr_contains("--allow-no-known-hosts");
            assert!(run.stdout.is_empty(), "{args:?}: nothing on stdout\n{run}");
            assert!(standin.log().is_empty(), "{args:?}: helm ran:\n{}", standin.log());
            standin.sandbox.expect_no_leftovers();
        }
    }
    // Acknowledged: it runs, and says what it deploys.
    for args in [&["preflight", "--allow-no-known-hosts"][..], &["upgrade", "--allow-no-known-hosts"]] {
        let standin = StandIn::helm();
        let run = standin.run(args, Some(SSH_WITHOUT_KNOWN_HOSTS), &[]);
        run.expect_success().expect_stderr_contains("warning: ").expect_stderr_contains("host key checking off");
        run.expect_stdout_contains("--allow-no-known-hosts");
        assert!(!args.contains(&"upgrade") || standin.log().contains("argv: upgrade"), "{}", standin.log());
    }
    // Nothing to refuse: an HTTPS repository, git-sync turned off, a pinned block; and
    // `template` only renders.
    for (args, values) in [
        (
            &["upgrade"][..],
            SSH_WITHOUT_KNOWN_HOSTS.replace("git@github.com:me/dags.git", "https://github.com/me/dags.git"),
        ),
        (&["upgrade"], SSH_WITHOUT_KNOWN_HOSTS.replace("enabled: true", "enabled: false")),
        (&["upgrade"], GOOD_VALUES.to_string()),
        (&["template"], SSH_WITHOUT_KNOWN_HOSTS.to_string()),
    ] {
        let standin = StandIn::helm();
        let run = standin.run(args, Some(&values), &[]);
        run.expect_success();
        assert!(!run.stderr.contains("--allow-no-known-hosts"), "{values}\n{run}");
    }
}

/// The premise of the refusal, judged by real Helm and the real chart 1.20.0: exactly the
/// values helm-run refuses are those the chart renders with `GIT_KNOWN_HOSTS` "false".
#[test]
fn the_refused_values_are_those_the_real_chart_renders_without_host_key_checking() {
    let test = "the_refused_values_are_those_the_real_chart_renders_without_host_key_checking";
    let Some((_, helm)) = helms(test).into_iter().next() else { return };
    let sandbox = Sandbox::new();
    let api = fake_kubernetes();
    let kubeconfig = sandbox.kubeconfig(&url(&api), 0o600);
    let chart = shared_dir().join("airflow-chart/1.20.0");
    let (chart_arg, helm_arg, kube_arg) =
        (chart.display().to_string(), helm.display().to_string(), kubeconfig.display().to_string());
    let with_key = SSH_WITHOUT_KNOWN_HOSTS
        .replace("    branch: main\n", &format!("    branch: main\n    knownHosts: |\n      {GITHUB_KNOWN_HOSTS}\n"));
    let cases = [
        (SSH_WITHOUT_KNOWN_HOSTS.to_string(), true),
        (format!("{SSH_WITHOUT_KNOWN_HOSTS}    knownHosts: \"\"\n"), true),
        (with_key, false),
        (
            SSH_WITHOUT_KNOWN_HOSTS.replace("git@github.com:me/dags.git", "ssh://git@ssh.github.com:443/me/dags.git"),
            true,
        ),
    ];
    for (values, refused) in cases {
        let file = sandbox.path().join("values.yaml");
        std::fs::write(&file, &values).expect("values");
        let rendered = sandbox.helm(&helm, &["template", "airflow", &chart_arg, "-f", file.to_str().expect("utf-8")]);
        let checking_off = rendered.contains("- name: GIT_KNOWN_HOSTS\n              value: \"false\"");
        let checking_on = rendered.contains("- name: GIT_KNOWN_HOSTS\n              value: \"true\"");
        assert_eq!((checking_off, checking_on), (refused, !refused), "the chart disagrees for:\n{values}");
        let run = sandbox.helm_run(
            &["preflight", "--helm", &helm_arg, "--chart", &chart_arg, "--kubeconfig", &kube_arg],
            Some(&values),
        );
        run.expect_code(if refused { 4 } else { 0 });
        sandbox.expect_no_leftovers();
    }
}

#[test]
fn old_helm_and_failing_helm() {
    let standin = StandIn::helm();
    let run = standin.run(&["upgrade"], Some(GOOD_VALUES), &[("STANDIN_VERSION", "v3.9.4+g9f0b5e7")]);
    run.expect_code(2)
        .expect_stderr_contains("helm 3.9.4")
        .expect_stderr_contains("--set-json")
        .expect_stderr_contains("hint:");
    assert!(!standin.log().contains("argv: upgrade"));

    let standin = StandIn::helm();
    let failure = "Error: UPGRADE FAILED: post-upgrade hooks failed: timed out waiting for the condition";
    let run = standin.run(&["upgrade"], Some(&values_with_secret()), &[("STANDIN_UPGRADE_ERROR", failure)]);
    run.expect_code(3).expect_stderr_contains(&format!("helm-run:   {failure}"));
    standin.expect_safe(&run);

    let standin = StandIn::helm();
    let run = standin.run(&["upgrade"], Some(GOOD_VALUES), &[("STANDIN_STATUS", "unreachable")]);
    run.expect_code(3).expect_stderr_contains("microk8s config > ~/.kube/config");
    assert!(run.stderr.contains("no kubeconfig file was found"), "{run}");

    let standin = StandIn::helm();
    let run = standin.run(
        &["upgrade"],
        Some(GOOD_VALUES),
        &[("STANDIN_UPGRADE_ERROR", "Error: unknown flag: --create-namespace")],
    );
    run.expect_code(2).expect_stderr_contains("`--create-namespace`").expect_stderr_contains("helm >= 3.10");
}

#[test]
fn status_and_get_values() {
    let standin = StandIn::helm();
    let run = standin.run(&["status"], None, &[("STANDIN_STATUS", "release-deployed-helm4.json")]);
    run.expect_success()
        .expect_stdout_contains("action: status")
        .expect_stdout_contains("revision: 2")
        .expect_stdout_contains("kind: static-secret-key");
    assert!(!run.stdout.contains("fixture-secret-in-release-config"), "{run}");
    assert!(standin.log().contains("argv: status airflow --namespace airflow -o json"), "{}", standin.log());
    let run = standin.run(&["status", "--release", "other"], None, &[]);
    run.expect_code(3).expect_stderr_contains("not installed").expect_stderr_contains("helm-run upgrade");
    // `--ignore-not-found`: the same answer as a report, for the install to read.
    let run = standin.run(&["status", "--release", "other", "--ignore-not-found"], None, &[]);
    run.expect_success()
        .expect_stdout_contains("release: other\n")
        .expect_stdout_contains("installed: false\n")
        .expect_stdout_contains("status: not-installed\n");
    let run =
        standin.run(&["status", "--ignore-not-found"], None, &[("STANDIN_STATUS", "release-deployed-helm3.json")]);
    run.expect_success()
        .expect_stdout_contains("installed: true\n")
        .expect_stdout_contains("chart_name: airflow\n")
        .expect_stdout_contains("status: deployed\n");

    // kubectl's `--context` is the same flag as helm's `--kube-context` (core's cluster flags).
    let run = standin.run(&["get-values", "-n", "prod", "--context", "staging"], None, &[]);
    run.expect_success().expect_stdout_contains("executor: KubernetesExecutor");
    assert!(
        standin.log().contains("argv: get values airflow --namespace prod -o yaml --kube-context staging"),
        "{}",
        standin.log()
    );
}

// ---------------------------------------------------------------------------------------
// a real cluster, when one is named

#[test]
fn end_to_end_against_a_real_cluster() {
    let Some(kubeconfig) = airflow_kit_tests::skip::e2e_kubeconfig("helm_run::end_to_end_against_a_real_cluster")
    else {
        return;
    };
    for (name, helm) in helms("end_to_end_against_a_real_cluster") {
        let sandbox = Sandbox::new();
        let chart = sandbox.chart();
        let namespace = format!("helm-run-e2e-{name}");
        let args = [
            "--helm",
            helm.to_str().expect("utf-8"),
            "--chart",
            chart.to_str().expect("utf-8"),
            "--kubeconfig",
            kubeconfig.to_str().expect("utf-8"),
            "-n",
            &namespace,
        ];
        let mut upgrade = vec!["upgrade"];
        upgrade.extend(args);
        sandbox.helm_run(&upgrade, Some(GOOD_VALUES)).expect_success().expect_stdout_contains("status: deployed");
        let mut status = vec!["status", "-n", &namespace, "--helm", helm.to_str().expect("utf-8")];
        status.extend(["--kubeconfig", kubeconfig.to_str().expect("utf-8")]);
        sandbox.helm_run(&status, None).expect_success().expect_stdout_contains("status: deployed");
        sandbox.expect_no_leftovers();
    }
}
