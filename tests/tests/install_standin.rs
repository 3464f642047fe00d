//! The whole install, not a dry run: every step through to `pod-inspect dags`. No Kubernetes
//! API can run here, so helm and kubectl are the stand-ins of the helm-run and pod-inspect
//! tests (replaying the real programs' formats); the DAG repository, its host key and the
//! deploy key are real (sshd, git), and the commit git-sync reports must equal its head.

use std::path::{Path, PathBuf};
use std::process::Command;

use airflow_kit_tests::bins::{Run, bin_dir, run_command, shared_dir, workspace_root, xtask_bin};
use airflow_kit_tests::sshd::Sshd;

/// A kubectl that knows `get storageclass` and `apply`, and hands everything else to
/// pod-inspect's stand-in with the healthy Airflow 3 fixtures.
fn stand_in_kubectl(dir: &Path) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).expect("bin dir");
    let pod_inspect = workspace_root().join("tests/fixtures/pod-inspect/stand-in-kubectl.sh");
    let script = format!(
        r#"#!/usr/bin/env bash
printf 'kubectl %s\n' "$*" >> "$INSTALL_LOG"
for arg in "$@"; do
  case "$arg" in
    storageclass) printf '%s\n' '{{"apiVersion": "v1", "items": [{{"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {{"annotations": {{"storageclass.kubernetes.io/is-default-class": "true"}}, "name": "microk8s-hostpath"}}, "provisioner": "microk8s.io/hostpath"}}], "kind": "List", "metadata": {{"resourceVersion": ""}}}}'; exit 0 ;;
    apply) cat >/dev/null; echo "applied"; exit 0 ;;
  esac
done
exec {} "$@"
"#,
        pod_inspect.display()
    );
    let path = bin.join("kubectl");
    std::fs::write(&path, script).expect("kubectl");
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).expect("chmod");
    bin
}

/// The healthy Airflow 3 fixtures, with git-sync's link pointing at `commit`.
fn fixtures(dir: &Path, commit: &str) -> PathBuf {
    let set = dir.join("cluster");
    let source = workspace_root().join("tests/fixtures/pod-inspect/healthy-af3");
    let status = Command::new("cp").arg("-r").arg(&source).arg(&set).status().expect("cp");
    assert!(status.success());
    std::fs::write(set.join("exec/airflow-worker-0.worker.readlink"), format!(".worktrees/{commit}\n")).expect("link");
    set
}

fn local_chart(dir: &Path) -> PathBuf {
    let chart = dir.join("airflow");
    std::fs::create_dir_all(chart.join("templates")).expect("chart");
    let real = shared_dir().join("airflow-chart/1.20.0");
    for file in ["values.yaml", "values.schema.json"] {
        std::fs::copy(real.join(file), chart.join(file)).expect("copy");
    }
    std::fs::write(chart.join("Chart.yaml"), "apiVersion: v2\nname: airflow\nversion: 1.20.0\nappVersion: 3.1.8\n")
        .expect("write");
    std::fs::write(chart.join("templates/cm.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n")
        .expect("write");
    chart
}

fn install(dir: &Path, server: &Sshd, commit: &str) -> Run {
    let bin = stand_in_kubectl(dir);
    let set = if dir.join("cluster").exists() { dir.join("cluster") } else { fixtures(dir, commit) };
    let helm = workspace_root().join("tests/fixtures/helm-run/bin/helm");
    let mut command = Command::new(xtask_bin());
    command.current_dir(dir).args(["install", "--yes", "--bin-dir"]).arg(bin_dir());
    command.args(["--repo", &server.repo_url(), "--branch", "main", "--sub-path", "dags", "--state-dir", "state"]);
    command.arg("--chart").arg(local_chart(dir)).arg("--helm").arg(helm);
    for fingerprint in server.host_fingerprints() {
        command.args(["--expect-fingerprint", &fingerprint]);
    }
    command
        .env("PATH", format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default()))
        .env("INSTALL_LOG", dir.join("argv.log"))
        .env("STANDIN_LOG", dir.join("argv.log"))
        .env("KUBECTL_ARGV_LOG", dir.join("kubectl.log"))
        .env("POD_INSPECT_FIXTURES", set);
    run_command(command, None)
}

#[test]
fn install_runs_every_step_and_checks_the_synced_commit() {
    let Some(server) = Sshd::start("install_runs_every_step_and_checks_the_synced_commit") else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let head = server.head_commit();

    let first = install(dir.path(), &server, &head);
    first.expect_code(1).expect_stderr_contains("not registered");
    let argv = std::fs::read_to_string(dir.path().join("argv.log")).unwrap_or_default();
    assert!(!argv.contains("upgrade"), "no helm upgrade before the repository is reachable:\n{argv}");

    let public = std::fs::read_to_string(dir.path().join("state/keys/airflow_deploy_key.pub")).expect("public key");
    server.authorize(&public);
    let second = install(dir.path(), &server, &head);
    second.expect_success();
    second.expect_stderr_contains("[7/9]").expect_stderr_contains("[8/9]");
    second.expect_stderr_contains(&format!("`main` is at {head}"));
    second.expect_stderr_contains("git-sync has the same commit");
    let argv = std::fs::read_to_string(dir.path().join("argv.log")).expect("argv log");
    assert!(argv.contains("kubectl get storageclass -o json"), "the StorageClass preflight ran:\n{argv}");
    let upgrade = argv.lines().find(|l| l.contains(" upgrade --install ")).expect("helm upgrade ran");
    assert!(!upgrade.contains("--reuse-values") && !upgrade.contains("--wait"), "{upgrade}");
    assert!(argv.contains("mode 600"), "helm got the values in a 0600 file:\n{argv}");
}

#[test]
fn install_fails_when_git_sync_has_another_commit() {
    let Some(server) = Sshd::start("install_fails_when_git_sync_has_another_commit") else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let stale = "3f786850e387550fdab836ed7e6dc881de23001b";
    let first = install(dir.path(), &server, stale);
    first.expect_code(1);
    server
        .authorize(&std::fs::read_to_string(dir.path().join("state/keys/airflow_deploy_key.pub")).expect("public key"));
    let run = install(dir.path(), &server, stale);
    run.expect_code(1)
        .expect_stderr_contains(&format!("git-sync has commit {stale}"))
        .expect_stderr_contains("pod-inspect diagnose");
}
