//! `cargo xtask adopt` takes over an Airflow installed by hand, exactly as the manual procedure
//! leaves it: user values with `webserverSecretKey`, `dags.gitSync` with `sshKeySecret` and
//! `knownHosts`, the key in `extraSecrets`, and a fernet key and redis password the chart
//! generated. helm and kubectl are stand-ins (no Kubernetes API runs here) replaying their
//! exact formats; the deploy key and knownHosts are judged by a real sshd and real git.

use std::process::Command;

use airflow_kit_tests::bins::{Run, bin_dir, files_under, run_command, workspace_root, xtask_bin};
use airflow_kit_tests::sshd::Sshd;
use base64::Engine;

const FERNET: &str = "8XQ0a6tGFqV5m5mXfHqE3vbf2b0cM8Hq3s1n0o9qG2U=";
const REDIS: &str = "r3disLivePassw0rd";
const WEBSERVER_KEY: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

struct Manual {
    dir: tempfile::TempDir,
    key: Vec<u8>,
}

/// A release installed by hand, as the fixtures the stand-ins replay.
fn manual_install(server: &Sshd) -> Manual {
    let dir = tempfile::tempdir().expect("temp dir");
    let key_path = dir.path().join("id_ed25519");
    let status = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "me@example.com", "-f"])
        .arg(&key_path)
        .status()
        .expect("ssh-keygen");
    assert!(status.success());
    let key = std::fs::read(&key_path).expect("key");
    server.authorize(&std::fs::read_to_string(key_path.with_extension("pub")).expect("pub"));
    let host_key = std::fs::read_to_string(server.host_public_key("ed25519")).expect("host key");
    let host_fields: Vec<&str> = host_key.split_whitespace().take(2).collect();
    let values = format!(
        "webserverSecretKey: {WEBSERVER_KEY}\nexecutor: CeleryExecutor\ndags:\n  gitSync:\n    enabled: true\n    repo: {}\n    branch: main\n    subPath: dags\n    sshKeySecret: airflow-ssh-secret\n    knownHosts: |\n      [127.0.0.1]:{} {}\nextraSecrets:\n  airflow-ssh-secret:\n    data: |\n      gitSshKey: '{}'\n",
        server.repo_url(),
        server.port,
        host_fields.join(" "),
        b64(&key)
    );
    std::fs::write(dir.path().join("user-values.yaml"), &values).expect("write");
    let json = airflow_kit_core::yaml::parse_document(&values, "v").expect("parses").to_json();
    std::fs::write(dir.path().join("user-values.json"), json.to_string()).expect("write");
    let secret = |name: &str, key: &str, value: &[u8]| {
        serde_json::json!({
            "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": name, "namespace": "airflow", "labels": {"release": "airflow", "heritage": "Helm"}},
            "data": {key: b64(value)}
        })
    };
    let list = serde_json::json!({
        "apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""},
        "items": [
            secret("airflow-fernet-key", "fernet-key", FERNET.as_bytes()),
            secret("airflow-redis-password", "password", REDIS.as_bytes()),
            secret("airflow-webserver-secret-key", "webserver-secret-key", WEBSERVER_KEY.as_bytes()),
            secret("airflow-ssh-secret", "gitSshKey", &key),
        ]
    });
    std::fs::write(dir.path().join("secrets.json"), serde_json::to_string_pretty(&list).expect("json")).expect("write");
    Manual { dir, key }
}

fn adopt(manual: &Manual, server: &Sshd) -> Run {
    let fixtures = workspace_root().join("tests/fixtures");
    let stand_ins = fixtures.join("adopt/bin");
    let path = format!("{}:{}", stand_ins.display(), std::env::var("PATH").unwrap_or_default());
    let mut command = Command::new(xtask_bin());
    command
        .current_dir(manual.dir.path())
        .args(["adopt", "--state-dir", "state", "--bin-dir"])
        .arg(bin_dir())
        .arg("--helm")
        .arg(stand_ins.join("helm"))
        .env("PATH", path)
        .env("ADOPT_LOG", manual.dir.path().join("argv.log"))
        .env("ADOPT_STATUS", fixtures.join("helm-run/release-deployed-helm3.json"))
        .env("ADOPT_USER_VALUES", manual.dir.path().join("user-values.yaml"))
        .env("ADOPT_USER_VALUES_JSON", manual.dir.path().join("user-values.json"))
        .env("ADOPT_SECRETS", manual.dir.path().join("secrets.json"));
    for fingerprint in server.host_fingerprints() {
        command.args(["--expect-fingerprint", &fingerprint]);
    }
    run_command(command, None)
}

#[test]
fn adopt_pins_the_live_secrets_keeps_the_key_and_changes_nothing_the_second_time() {
    let Some(server) = Sshd::start("adopt_pins_the_live_secrets") else { return };
    let manual = manual_install(&server);
    let first = adopt(&manual, &server);
    first.expect_success();

    let state = manual.dir.path().join("state");
    let text = std::fs::read_to_string(state.join("values.yaml")).expect("adopted values");
    let values = airflow_kit_core::yaml::parse_document(&text, "adopted").expect("parses").to_json();
    assert_eq!(values["fernetKey"], FERNET, "the live fernet key is pinned, not a new one");
    assert_eq!(values["redis"]["password"], REDIS, "the live redis password is pinned");
    assert_eq!(values["webserverSecretKey"], WEBSERVER_KEY, "the user's own key is kept");
    assert_eq!(values["executor"], "CeleryExecutor", "every user value is carried");
    assert_eq!(values["dags"]["gitSync"]["sshKeySecret"], "airflow-ssh-secret");
    assert!(values["dags"]["gitSync"]["knownHosts"].as_str().expect("knownHosts").contains("[127.0.0.1]"));
    assert_eq!(
        std::fs::read(state.join("keys/airflow_deploy_key")).expect("kept key"),
        manual.key,
        "the live key is kept"
    );

    let before = files_under(&state);
    let second = adopt(&manual, &server);
    second.expect_success();
    assert_eq!(files_under(&state), before, "a second adopt changed the state directory");

    let argv = std::fs::read_to_string(manual.dir.path().join("argv.log")).expect("argv log");
    let key_b64 = b64(&manual.key);
    for secret in [FERNET, REDIS, WEBSERVER_KEY, key_b64.as_str()] {
        for (what, text) in
            [("stdout", &first.stdout), ("stderr", &first.stderr), ("argv", &argv), ("stderr", &second.stderr)]
        {
            assert!(!text.contains(secret), "a secret reached {what}\n{first}");
        }
    }
}

#[test]
fn adopt_reports_a_deploy_key_the_repository_no_longer_accepts() {
    let Some(server) = Sshd::start("adopt_reports_a_deploy_key_the_repository_no_longer_accepts") else { return };
    let manual = manual_install(&server);
    server.deauthorize_all();
    let run = adopt(&manual, &server);
    run.expect_code(1).expect_stderr_contains("cannot read").expect_stderr_contains("fix: add");
    assert!(manual.dir.path().join("state/values.yaml").exists(), "the values are adopted even so");
}

/// The same against a real cluster: adopt the release AIRFLOW_KIT_E2E_KUBECONFIG reaches
/// (AIRFLOW_KIT_E2E_RELEASE, default `airflow`), then adopt again and change nothing.
#[test]
fn adopt_a_real_release() {
    let Some(kubeconfig) = airflow_kit_tests::skip::e2e_kubeconfig("adopt_a_real_release") else { return };
    let release = std::env::var("AIRFLOW_KIT_E2E_RELEASE").unwrap_or_else(|_| "airflow".into());
    let dir = tempfile::tempdir().expect("temp dir");
    let adopt = || {
        let mut command = Command::new(xtask_bin());
        command.current_dir(dir.path()).args(["adopt", "--state-dir", "state", "--release", &release]);
        command.arg("--kubeconfig").arg(&kubeconfig).arg("--bin-dir").arg(bin_dir());
        run_command(command, None)
    };
    let first = adopt();
    assert!(first.code == 0 || first.code == 1, "adopt stops only on a failure\n{first}");
    let before = files_under(&dir.path().join("state"));
    let second = adopt();
    assert_eq!(second.code, first.code, "{second}");
    assert_eq!(files_under(&dir.path().join("state")), before, "a second adopt changed the state");
}
