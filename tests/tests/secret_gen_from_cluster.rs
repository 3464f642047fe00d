//! `secret-gen --from-cluster` end to end: the real binary against a stand-in `kubectl` first on
//! PATH (no Kubernetes API server can run here) that records its argv and replays Secret lists
//! in kubectl's exact `-o json` format, and against the same lists given with `--from-secrets`.
//! Real kubectl checks that we read Secrets exactly as it prints them. Adoption must pin the
//! live values (decoded and compared here), keep what the document sets, generate nothing
//! without `--fill`, and never show a secret outside the document.

use std::path::{Path, PathBuf};

use airflow_kit_core::{Document, Node};
use airflow_kit_tests::bins::{run_command, tool_command};
use airflow_kit_tests::{Run, Tool, require_tool};
use base64::Engine;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/secret-gen")
}

/// One run of secret-gen with the stand-in kubectl: what it printed, and every kubectl argv.
struct Adopted {
    run: Run,
    kubectl_calls: Vec<String>,
}

/// How the run finds kubectl: the stand-in as `kubectl` first on the usual PATH, a PATH
/// holding only the stand-in as `microk8s` (MicroK8s without a `kubectl` alias), or a PATH
/// holding the stand-in as both `kubectl` and `microk8s` (each logs the name it was called by).
#[derive(Clone, Copy, PartialEq)]
enum KubectlOnPath {
    Kubectl,
    OnlyMicrok8s,
    OnlyKubectl,
    Both,
}

fn secret_gen(
    args: &[&str],
    stdin: &str,
    secrets: &str,
    path: KubectlOnPath,
    fail: Option<&str>,
    dir: &tempfile::TempDir,
) -> Adopted {
    let log = dir.path().join("kubectl-argv.log");
    let _ = std::fs::remove_file(&log);
    let search_path = match path {
        KubectlOnPath::Kubectl => {
            format!("{}:{}", fixtures().join("bin").display(), std::env::var("PATH").unwrap_or_default())
        }
        KubectlOnPath::OnlyMicrok8s | KubectlOnPath::OnlyKubectl | KubectlOnPath::Both => {
            let names: &[&str] = match path {
                KubectlOnPath::Both => &["kubectl", "microk8s"],
                KubectlOnPath::OnlyKubectl => &["kubectl"],
                _ => &["microk8s"],
            };
            let bin = dir.path().join(names.join("-"));
            std::fs::create_dir_all(&bin).expect("bin dir");
            for name in names {
                let link = bin.join(name);
                if !link.exists() {
                    std::os::unix::fs::symlink(fixtures().join("bin/kubectl"), &link).expect("symlink");
                }
            }
            bin.display().to_string()
        }
    };
    let mut command = tool_command("secret-gen");
    command
        .args(args)
        .current_dir(dir.path())
        .env("PATH", search_path)
        .env("SECRET_GEN_KUBECTL_LOG", &log)
        .env("SECRET_GEN_SECRETS", fixtures().join(secrets));
    match fail {
        Some(text) => command.env("SECRET_GEN_KUBECTL_FAIL", text),
        None => command.env_remove("SECRET_GEN_KUBECTL_FAIL"),
    };
    let run = run_command(command, Some(stdin.as_bytes()));
    let kubectl_calls = std::fs::read_to_string(&log).unwrap_or_default().lines().map(str::to_string).collect();
    Adopted { run, kubectl_calls }
}

fn adopt(args: &[&str], stdin: &str, secrets: &str, dir: &tempfile::TempDir) -> Adopted {
    secret_gen(args, stdin, secrets, KubectlOnPath::Kubectl, None, dir)
}

/// The decoded value of `key` in Secret `name` of a fixture list: what the cluster holds.
fn live(secrets: &str, name: &str, key: &str) -> String {
    let text = std::fs::read_to_string(fixtures().join(secrets)).expect("fixture");
    let list: serde_json::Value = serde_json::from_str(&text).expect("json");
    let items = list["items"].as_array().expect("items");
    let item = items.iter().find(|item| item["metadata"]["name"] == name).expect("secret in fixture");
    let encoded = item["data"][key].as_str().expect("data key");
    String::from_utf8(base64::engine::general_purpose::STANDARD.decode(encoded).expect("base64")).expect("utf-8")
}

/// Every decoded value of every Secret in a fixture (and, for connection URLs, the password
/// inside): what must never show up on stderr or in an argv.
fn all_live_values(secrets: &str) -> Vec<String> {
    let text = std::fs::read_to_string(fixtures().join(secrets)).expect("fixture");
    let list: serde_json::Value = serde_json::from_str(&text).expect("json");
    let mut values = Vec::new();
    for item in list["items"].as_array().expect("items") {
        for (_, encoded) in item["data"].as_object().expect("data") {
            let bytes = base64::engine::general_purpose::STANDARD.decode(encoded.as_str().expect("str")).expect("b64");
            let value = String::from_utf8(bytes).expect("utf-8");
            if let Some(password) = value.split("://").nth(1).and_then(|rest| rest.rsplit_once('@')) {
                let password = password.0.split_once(':').map(|(_, password)| password).unwrap_or_default();
                values.push(password.replace("%2F", "/").replace("%3A", ":"));
            }
            values.push(value);
        }
    }
    values.retain(|value| value.len() >= 8);
    values
}

fn assert_no_secret_in(text: &str, secrets: &[String], what: &str) {
    for secret in secrets {
        for piece in secret.lines().map(str::trim).filter(|piece| piece.len() >= 8) {
            assert!(!text.contains(piece), "a secret value reached {what}:\n{text}");
        }
    }
}

fn parse(yaml: &str) -> Node {
    Document::parse(yaml, "secret-gen output").expect("our output parses").root
}

fn at(root: &Node, path: &str) -> Option<String> {
    let parts: Vec<&str> = path.split('.').collect();
    root.get_path(&parts).and_then(Node::as_str).map(str::to_string)
}

/// A release installed by hand, as `helm get values` shows it: what the user gave, no secrets
/// the chart generated.
const USER_VALUES_AF2: &str = "\
executor: CeleryExecutor
dags:
  gitSync:
    enabled: true
    repo: git@github.com:me/dags.git
    branch: main
    subPath: dags
    sshKeySecret: airflow-ssh-secret
webserver:
  service:
    type: NodePort
";

#[test]
fn from_cluster_pins_exactly_the_live_values_and_a_second_run_is_identical() {
    let dir = tempfile::tempdir().expect("temp dir");
    let args =
        ["--from-cluster", "--release", "airflow", "-n", "airflow", "--kubeconfig", "/k/config", "--context", "prod"];
    let first = adopt(&args, USER_VALUES_AF2, "secrets-af2.json", &dir);
    first.run.expect_success();
    assert_eq!(
        first.kubectl_calls,
        ["kubectl --kubeconfig /k/config --context prod --namespace airflow get secrets -o json"],
        "exactly one kubectl call, with the global flags and no secret\n{}",
        first.run
    );

    let root = parse(&first.run.stdout);
    let secrets = "secrets-af2.json";
    assert_eq!(at(&root, "fernetKey"), Some(live(secrets, "airflow-fernet-key", "fernet-key")));
    assert_eq!(
        at(&root, "webserverSecretKey"),
        Some(live(secrets, "airflow-webserver-secret-key", "webserver-secret-key"))
    );
    assert_eq!(at(&root, "redis.password"), Some(live(secrets, "airflow-redis-password", "password")));
    // The URL carries the password URL-escaped; the values carry it as the chart takes it.
    assert_eq!(at(&root, "data.metadataConnection.pass").as_deref(), Some("Db/pass:7Hq2"));
    assert_eq!(at(&root, "postgresql.auth.postgresPassword").as_deref(), Some("Db/pass:7Hq2"));
    assert_eq!(at(&root, "apiSecretKey"), None, "not in the cluster, and nothing is generated without --fill");
    assert_eq!(at(&root, "jwtSecret"), None);

    // The user's values pass through as they were written, first and in order.
    assert!(first.run.stdout.starts_with(USER_VALUES_AF2), "{}", first.run);
    let keys: Vec<&str> = root.as_mapping().expect("mapping").iter().map(|(key, _)| key).collect();
    assert_eq!(
        keys,
        ["executor", "dags", "webserver", "fernetKey", "webserverSecretKey", "redis", "postgresql", "data"]
    );

    first
        .run
        .expect_stderr_contains("secret-gen: pinned fernetKey from the live Secret `airflow-fernet-key`")
        .expect_stderr_contains("secret-gen: skipped, not in the cluster: airflow-api-secret-key, airflow-jwt-secret");
    let values = all_live_values(secrets);
    assert_no_secret_in(&first.run.stderr, &values, "stderr");
    assert_no_secret_in(&first.kubectl_calls.join("\n"), &values, "kubectl's argv");
    // Secrets that are not chart-generated values (the deploy key, the broker URL, the release
    // record) are not copied into the document.
    for (name, key) in [
        ("airflow-ssh-secret", "gitSshKey"),
        ("airflow-broker-url", "connection"),
        ("sh.helm.release.v1.airflow.v1", "release"),
    ] {
        assert_no_secret_in(&first.run.stdout, &[live(secrets, name, key)], "the document");
    }

    let second = adopt(&args, &first.run.stdout, secrets, &dir);
    second.run.expect_success();
    assert_eq!(second.run.stdout, first.run.stdout, "adopting an adopted document changes nothing");
    second.run.expect_stderr_contains("kept fernetKey (the same as the live Secret `airflow-fernet-key`)");
    assert!(!second.run.stderr.contains("warning"), "{}", second.run);
}

#[test]
fn a_document_value_that_differs_from_the_cluster_is_kept_with_a_warning() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mine = "MyOwnFernetKeyFromAnOldValuesFile0000000000=";
    let input = format!("fernetKey: {mine}\nredis:\n  password: u8Kp3Zr6Wq\n");
    let adopted = adopt(&["--from-cluster"], &input, "secrets-af2.json", &dir);
    adopted.run.expect_success();
    let root = parse(&adopted.run.stdout);
    assert_eq!(at(&root, "fernetKey").as_deref(), Some(mine), "the document's value is kept");
    assert_eq!(at(&root, "redis.password").as_deref(), Some("u8Kp3Zr6Wq"));
    adopted.run.expect_stderr_contains(
        "secret-gen: warning: kept fernetKey from the document, but it differs from the live Secret `airflow-fernet-key`",
    );
    adopted.run.expect_stderr_contains("kept redis.password (the same as the live Secret `airflow-redis-password`)");
    let warnings = adopted.run.stderr.lines().filter(|line| line.contains("warning")).count();
    assert_eq!(warnings, 1, "only the differing value is warned about\n{}", adopted.run);
    let mut values = all_live_values("secrets-af2.json");
    values.push(mine.to_string());
    assert_no_secret_in(&adopted.run.stderr, &values, "stderr");
}

#[test]
fn from_secrets_reads_a_file_and_runs_no_kubectl() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = fixtures().join("secrets-af3.json");
    let input = "airflowVersion: 3.1.8\nexecutor: KubernetesExecutor\n";
    let adopted = adopt(&["--from-secrets", file.to_str().expect("utf-8")], input, "secrets-af3.json", &dir);
    adopted.run.expect_success();
    assert!(adopted.kubectl_calls.is_empty(), "kubectl must not run: {:?}", adopted.kubectl_calls);
    let root = parse(&adopted.run.stdout);
    let secrets = "secrets-af3.json";
    assert_eq!(at(&root, "apiSecretKey"), Some(live(secrets, "airflow-api-secret-key", "api-secret-key")));
    assert_eq!(at(&root, "jwtSecret"), Some(live(secrets, "airflow-jwt-secret", "jwt-secret")));
    assert_eq!(at(&root, "fernetKey"), Some(live(secrets, "airflow-fernet-key", "fernet-key")));
    assert_eq!(at(&root, "redis.password"), Some(live(secrets, "airflow-redis-password", "password")));
    assert_eq!(at(&root, "data.metadataConnection.pass").as_deref(), Some("Af3db9Kq2Zx7"));
    assert_eq!(at(&root, "webserverSecretKey"), None, "Airflow 3 has no webserver secret key");
    assert!(!adopted.run.stderr.contains("skipped"), "every Airflow 3 Secret is there\n{}", adopted.run);
    assert_no_secret_in(&adopted.run.stderr, &all_live_values(secrets), "stderr");

    // The same list through kubectl gives the same document.
    let through_kubectl = adopt(&["--from-cluster"], input, secrets, &dir);
    through_kubectl.run.expect_success();
    assert_eq!(through_kubectl.run.stdout, adopted.run.stdout);
}

#[test]
fn missing_secrets_are_skipped_and_only_fill_generates_them() {
    let dir = tempfile::tempdir().expect("temp dir");
    let list = dir.path().join("only-fernet.json");
    let full: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixtures().join("secrets-af2.json")).expect("fixture"))
            .expect("json");
    let mut only = full.clone();
    only["items"] = serde_json::Value::Array(
        full["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter(|item| item["metadata"]["name"] == "airflow-fernet-key")
            .cloned()
            .collect(),
    );
    std::fs::write(&list, serde_json::to_string_pretty(&only).expect("json")).expect("write");
    let list_arg = list.to_str().expect("utf-8");
    let input = "airflowVersion: 2.10.5\n";

    let pinned = adopt(&["--from-secrets", list_arg], input, "secrets-af2.json", &dir);
    pinned.run.expect_success().expect_stderr_contains(
        "secret-gen: skipped, not in the cluster: airflow-webserver-secret-key, airflow-redis-password, airflow-airflow-metadata",
    );
    let root = parse(&pinned.run.stdout);
    assert_eq!(at(&root, "fernetKey"), Some(live("secrets-af2.json", "airflow-fernet-key", "fernet-key")));
    assert_eq!(
        root.as_mapping().expect("mapping").iter().map(|(key, _)| key).collect::<Vec<_>>(),
        ["airflowVersion", "fernetKey"],
        "adoption pins; it does not generate\n{}",
        pinned.run
    );

    let filled = adopt(&["--from-secrets", list_arg, "--fill"], input, "secrets-af2.json", &dir);
    filled.run.expect_success();
    let root = parse(&filled.run.stdout);
    assert_eq!(
        at(&root, "fernetKey"),
        Some(live("secrets-af2.json", "airflow-fernet-key", "fernet-key")),
        "pinned first"
    );
    let webserver = at(&root, "webserverSecretKey").expect("generated with --fill");
    assert!(webserver.len() == 32 && webserver.chars().all(|c| c.is_ascii_hexdigit()), "{webserver}");
    assert!(at(&root, "redis.password").is_some_and(|password| password.len() == 32));
    filled.run.expect_stderr_contains("secret-gen: added webserverSecretKey");
    assert_no_secret_in(&filled.run.stderr, &[webserver], "stderr");
}

#[test]
fn the_secret_list_can_come_on_stdin_when_the_document_is_a_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("values.yaml"), "executor: CeleryExecutor\n").expect("write");
    let list = std::fs::read_to_string(fixtures().join("secrets-af2.json")).expect("fixture");
    let adopted = adopt(&["values.yaml", "--from-secrets", "-"], &list, "secrets-af2.json", &dir);
    adopted.run.expect_success();
    assert!(adopted.kubectl_calls.is_empty());
    assert_eq!(
        at(&parse(&adopted.run.stdout), "fernetKey"),
        Some(live("secrets-af2.json", "airflow-fernet-key", "fernet-key"))
    );
    let both = adopt(&["--from-secrets", "-"], &list, "secrets-af2.json", &dir);
    both.run.expect_code(2).expect_stderr_contains("cannot both come from stdin");
    assert!(both.run.stdout.is_empty());
}

#[test]
fn microk8s_kubectl_is_used_when_there_is_no_kubectl() {
    let dir = tempfile::tempdir().expect("temp dir");
    for args in [&["--from-cluster"][..], &["--from-cluster", "--microk8s", "-n", "data"][..]] {
        let adopted = secret_gen(args, "{}\n", "secrets-af2.json", KubectlOnPath::OnlyMicrok8s, None, &dir);
        adopted.run.expect_success();
        let namespace = if args.contains(&"data") { "data" } else { "airflow" };
        assert_eq!(adopted.kubectl_calls, [format!("microk8s kubectl --namespace {namespace} get secrets -o json")]);
        assert!(parse(&adopted.run.stdout).get_path(&["fernetKey"]).is_some());
    }
}

/// Defect 2 of issue 16: `--microk8s` must reach kubectl even when `kubectl` is on PATH too,
/// with every cluster flag (core's `ClusterArgs`, `--kube-context` or kubectl's `--context`).
#[test]
fn microk8s_is_used_even_when_kubectl_is_on_path() {
    let dir = tempfile::tempdir().expect("temp dir");
    let plain = secret_gen(&["--from-cluster"], "{}\n", "secrets-af2.json", KubectlOnPath::Both, None, &dir);
    plain.run.expect_success();
    assert_eq!(plain.kubectl_calls, ["kubectl --namespace airflow get secrets -o json"], "without --microk8s");
    for context in ["--kube-context", "--context"] {
        let args = [
            "--from-cluster",
            "--microk8s",
            "--kubeconfig",
            "/k/config",
            context,
            "prod",
            "-n",
            "data",
            "--release",
            "af",
        ];
        let adopted = secret_gen(&args, "{}\n", "secrets-af2.json", KubectlOnPath::Both, None, &dir);
        adopted.run.expect_success();
        assert_eq!(
            adopted.kubectl_calls,
            ["microk8s kubectl --kubeconfig /k/config --context prod --namespace data get secrets -o json"],
            "{}",
            adopted.run
        );
    }
    // Without `microk8s` on PATH, `--microk8s` is an error naming it, not a silent `kubectl`.
    let refused = secret_gen(
        &["--from-cluster", "--microk8s"],
        "{}\n",
        "secrets-af2.json",
        KubectlOnPath::OnlyKubectl,
        None,
        &dir,
    );
    assert!(refused.kubectl_calls.is_empty(), "{:?}", refused.kubectl_calls);
    refused.run.expect_code(3).expect_stderr_contains("`microk8s` was not found on PATH");
}

#[test]
fn a_kubectl_failure_is_exit_3_with_its_stderr_and_nothing_on_stdout() {
    let dir = tempfile::tempdir().expect("temp dir");
    let failure = "E0314 09:26:01.000000 memcache.go:265] couldn't get current server API group list: Get \"http://localhost:8080/api?timeout=32s\": dial tcp 127.0.0.1:8080: connect: connection refused\nThe connection to the server localhost:8080 was refused - did you specify the right host or port?";
    let adopted =
        secret_gen(&["--from-cluster"], "{}\n", "secrets-af2.json", KubectlOnPath::Kubectl, Some(failure), &dir);
    adopted
        .run
        .expect_code(3)
        .expect_stderr_contains("secret-gen: `kubectl --namespace airflow get secrets -o json` failed (exit code 1)")
        .expect_stderr_contains("secret-gen:   The connection to the server localhost:8080 was refused")
        .expect_stderr_contains("hint: kubectl cannot reach the cluster");
    assert_eq!(adopted.run.stdout, "", "nothing is printed when the live values could not be read");

    let none = tempfile::tempdir().expect("temp dir");
    let mut command = tool_command("secret-gen");
    command.arg("--from-cluster").current_dir(none.path()).env("PATH", none.path());
    let run = run_command(command, Some(b"{}\n"));
    run.expect_code(3)
        .expect_stderr_contains("`kubectl` was not found on PATH")
        .expect_stderr_contains("--from-secrets");
}

#[test]
fn bad_usage_and_bad_lists_fail_before_kubectl_runs_and_never_echo_a_secret() {
    let dir = tempfile::tempdir().expect("temp dir");
    let refused = adopt(&["--from-cluster", "--credentials"], "{}\n", "secrets-af2.json", &dir);
    refused
        .run
        .expect_code(2)
        .expect_stderr_contains("`--credentials` generates new secrets")
        .expect_stderr_contains("--fill");
    assert!(refused.kubectl_calls.is_empty());
    adopt(&["--fill"], "{}\n", "secrets-af2.json", &dir).run.expect_code(2);
    adopt(&["--from-secrets", "x.json", "--kubeconfig", "k"], "{}\n", "secrets-af2.json", &dir).run.expect_code(2);
    // The cluster flags mean something only with a source of live Secrets (and not on deploy-key).
    for args in
        [&["--release", "af"][..], &["-n", "data"], &["--microk8s"], &["deploy-key", "--dir", "k", "--release", "af"]]
    {
        let run = adopt(args, "{}\n", "secrets-af2.json", &dir).run;
        run.expect_code(2);
        assert!(run.stdout.is_empty(), "{run}");
    }

    let garbage = dir.path().join("garbage.json");
    std::fs::write(&garbage, "{\"kind\": \"List\", \"items\": [{\"data\": {\"k\": \"c2VjcmV0LXZhbHVlLWhlcmU=\"}}, ")
        .expect("write");
    let run = adopt(&["--from-secrets", garbage.to_str().expect("utf-8")], "{}\n", "secrets-af2.json", &dir).run;
    run.expect_code(2).expect_stderr_contains("is not the JSON of Kubernetes Secrets");
    assert!(!run.stderr.contains("c2VjcmV0") && run.stdout.is_empty(), "{run}");

    // A field of the wrong type: serde's own message would quote the string, a secret.
    let shaped = dir.path().join("shaped.json");
    std::fs::write(&shaped, r#"{"kind":"Secret","metadata":{"name":"a"},"data":"c2VjcmV0LXZhbHVlLWhlcmU="}"#)
        .expect("write");
    let run = adopt(&["--from-secrets", shaped.to_str().expect("utf-8")], "{}\n", "secrets-af2.json", &dir).run;
    run.expect_code(2).expect_stderr_contains("a field has the wrong type");
    assert!(!run.stderr.contains("c2VjcmV0") && run.stdout.is_empty(), "{run}");

    let missing = adopt(&["--from-secrets", "nope.json"], "{}\n", "secrets-af2.json", &dir).run;
    missing.expect_code(2).expect_stderr_contains("cannot read `nope.json`");
}

#[test]
fn secrets_are_read_exactly_as_real_kubectl_prints_them() {
    let Some(kubectl) = require_tool(Tool::Kubectl, "secrets_are_read_exactly_as_real_kubectl_prints_them") else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    // Real kubectl builds the Secrets (client-side, no cluster), from files so no value is in
    // its argv; its JSON is what secret-gen must read.
    let value_file = |name: &str, value: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, value).expect("write");
        path
    };
    let make = |name: &str, key: &str, file: &Path| {
        let output = std::process::Command::new(&kubectl)
            .args(["create", "secret", "generic", name, "--namespace", "airflow", "--dry-run=client", "-o", "json"])
            .arg(format!("--from-file={key}={}", file.display()))
            .env("KUBECONFIG", dir.path().join("no-kubeconfig"))
            .output()
            .expect("kubectl runs");
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        serde_json::from_slice::<serde_json::Value>(&output.stdout).expect("kubectl prints JSON")
    };
    let fernet = "VGhpc0lzTm90QVJlYWxGZXJuZXRLZXlKdXN0QVRlc3Q=";
    let items = vec![
        make("airflow-fernet-key", "fernet-key", &value_file("fernet", fernet)),
        make("airflow-redis-password", "password", &value_file("redis", "Rk8Pq2Vz5X")),
    ];
    let list =
        serde_json::json!({"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"resourceVersion": ""}});
    let file = dir.path().join("secrets.json");
    std::fs::write(&file, serde_json::to_string_pretty(&list).expect("json")).expect("write");
    let adopted = adopt(&["--from-secrets", file.to_str().expect("utf-8")], "{}\n", "secrets-af2.json", &dir);
    adopted.run.expect_success();
    let root = parse(&adopted.run.stdout);
    assert_eq!(at(&root, "fernetKey").as_deref(), Some(fernet));
    assert_eq!(at(&root, "redis.password").as_deref(), Some("Rk8Pq2Vz5X"));

    // One Secret on its own (`kubectl get secret NAME -o json`) is read too.
    let single = dir.path().join("single.json");
    std::fs::write(&single, serde_json::to_string_pretty(&list["items"][0]).expect("json")).expect("write");
    let adopted = adopt(&["--from-secrets", single.to_str().expect("utf-8")], "{}\n", "secrets-af2.json", &dir);
    adopted.run.expect_success();
    assert_eq!(at(&parse(&adopted.run.stdout), "fernetKey").as_deref(), Some(fernet));
}

/// Against a real cluster, when one is named: every pinned value equals the live Secret's.
#[test]
fn from_cluster_on_a_real_cluster_pins_the_live_values() {
    let Some(kubeconfig) =
        airflow_kit_tests::skip::e2e_kubeconfig("from_cluster_on_a_real_cluster_pins_the_live_values")
    else {
        return;
    };
    let release = std::env::var("AIRFLOW_KIT_E2E_RELEASE").unwrap_or_else(|_| "airflow".into());
    let namespace = std::env::var("AIRFLOW_KIT_E2E_NAMESPACE").unwrap_or_else(|_| "airflow".into());
    let kubeconfig = kubeconfig.to_str().expect("utf-8 kubeconfig path").to_string();
    let dir = tempfile::tempdir().expect("temp dir");
    let mut command = tool_command("secret-gen");
    command.args(["--from-cluster", "--release", &release, "-n", &namespace, "--kubeconfig", &kubeconfig]);
    command.current_dir(dir.path());
    let run = run_command(command, Some(b"{}\n"));
    run.expect_success();
    let root = parse(&run.stdout);
    let mut get = std::process::Command::new(Tool::Kubectl.find().expect("kubectl"));
    get.args([
        "--kubeconfig",
        &kubeconfig,
        "--namespace",
        &namespace,
        "get",
        "secret",
        &format!("{release}-fernet-key"),
        "-o",
        "json",
    ]);
    let output = get.output().expect("kubectl runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let secret: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    let encoded = secret["data"]["fernet-key"].as_str().expect("fernet-key");
    let decoded =
        String::from_utf8(base64::engine::general_purpose::STANDARD.decode(encoded).expect("b64")).expect("utf-8");
    assert_eq!(at(&root, "fernetKey"), Some(decoded), "the live fernet key is pinned");
    assert!(!run.stderr.contains(encoded), "{run}");
}
