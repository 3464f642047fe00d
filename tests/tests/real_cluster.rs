//! The real Airflow chart against a real Kubernetes API (the test cluster of
//! scripts/test-cluster.sh: etcd, kube-apiserver, controller manager, scheduler, kwok's fake
//! kubelets). Helm's release record, the hook Jobs, the StatefulSets' claims and the pods'
//! readiness are the real API's, not a stand-in's.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use airflow_kit_tests::bins::{Run, bin_dir, files_under, run_command, shared_dir, xtask_bin};
use airflow_kit_tests::cluster::{Namespace, TestCluster, cri_log};
use airflow_kit_tests::git_repo::isolated_git;
use airflow_kit_tests::helm::helm_command;
use airflow_kit_tests::sshd::Sshd;
use airflow_kit_tests::tools::{Tool, require_tool};

/// A real chart of ../shared: 1.20.0 (Airflow 3) or 1.15.0 (Airflow 2), each with its
/// postgresql subchart vendored in `charts/` (redis is the chart's own template).
fn chart(version: &str) -> PathBuf {
    let chart = shared_dir().join("airflow-chart").join(version);
    assert!(chart.join("charts/postgresql").is_dir(), "the {version} chart's postgresql subchart is vendored");
    chart
}

/// The components each chart line deploys by default (the UI is the api-server from Airflow 3).
fn components(version: &str) -> &'static [&'static str] {
    if version.starts_with("1.15") {
        &["scheduler", "webserver", "triggerer", "worker", "redis", "postgresql"]
    } else {
        &["scheduler", "api-server", "dag-processor", "triggerer", "worker", "redis", "postgresql"]
    }
}

/// `helm upgrade --install airflow <chart> --wait` in the namespace, with Helm's own dirs in `home`.
fn helm_install(helm: &Path, home: &Path, cluster: &TestCluster, ns: &Namespace, chart: &Path) -> Run {
    let mut command = helm_command(helm, home);
    command
        .arg("upgrade")
        .arg("--install")
        .arg("airflow")
        .arg(chart)
        .arg("--kubeconfig")
        .arg(cluster.kubeconfig())
        .args(["--namespace", &ns.name, "--wait", "--timeout", "10m"]);
    run_command(command, None)
}

/// The release's status as helm reports it (`deployed`, `failed`, `pending-install`, ...).
fn release_status(helm: &Path, home: &Path, cluster: &TestCluster, ns: &Namespace) -> String {
    let output = helm_command(helm, home)
        .args(["status", "airflow", "-o", "json", "--namespace", &ns.name])
        .arg("--kubeconfig")
        .arg(cluster.kubeconfig())
        .output()
        .expect("helm status runs");
    assert!(output.status.success(), "helm status: {}", String::from_utf8_lossy(&output.stderr));
    let status: serde_json::Value = serde_json::from_slice(&output.stdout).expect("helm status json");
    status["info"]["status"].as_str().unwrap_or_default().to_string()
}

/// The reasons of the events about one object, in the order the API holds them.
fn event_reasons(ns: &Namespace, kind: &str, name: &str) -> Vec<String> {
    let events = ns.json(&["get", "events"]);
    events["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|event| event["involvedObject"]["kind"] == kind && event["involvedObject"]["name"] == name)
        .map(|event| event["reason"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// Each pod of the namespace that is not a finished Job pod, with whether it is Ready.
fn pod_readiness(ns: &Namespace) -> Vec<(String, bool)> {
    let pods = ns.json(&["get", "pods"]);
    pods["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|pod| pod["status"]["phase"] != "Succeeded")
        .map(|pod| {
            let ready = pod["status"]["conditions"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|condition| condition["type"] == "Ready" && condition["status"] == "True");
            (pod["metadata"]["name"].as_str().unwrap_or_default().to_string(), ready)
        })
        .collect()
}

fn helm_installs_the_real_chart(tool: Tool, version: &str, test: &str) {
    let Some(helm) = require_tool(tool, test) else { return };
    let Some(cluster) = TestCluster::shared(test) else { return };
    let ns = cluster.namespace(test);
    let home = tempfile::tempdir().expect("temp dir");
    let chart = chart(version);

    let run = helm_install(&helm, home.path(), cluster, &ns, &chart);
    run.expect_success();
    assert_eq!(release_status(&helm, home.path(), cluster, &ns), "deployed");

    // The migration Job is a post-install hook that Helm deletes once it succeeded; the Job
    // controller's events about it outlive it and say it ran to completion.
    let migrations = "airflow-run-airflow-migrations";
    let reasons = event_reasons(&ns, "Job", migrations);
    assert!(reasons.iter().any(|r| r == "Completed"), "the migration Job did not complete: events {reasons:?}");
    assert!(
        !ns.kubectl().args(["get", "job", migrations]).output().expect("kubectl").status.success(),
        "helm deletes the succeeded hook Job (hook-delete-policy hook-succeeded)"
    );

    // The chart's claims (worker logs, triggerer, redis, postgresql) are bound.
    let claims = ns.json(&["get", "pvc"]);
    let phases: Vec<(String, String)> = claims["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            (
                c["metadata"]["name"].as_str().unwrap_or_default().to_string(),
                c["status"]["phase"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert!(!phases.is_empty(), "the chart made no PersistentVolumeClaim");
    assert!(phases.iter().all(|(_, phase)| phase == "Bound"), "claims not bound: {phases:?}");

    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    let pods = loop {
        let pods = pod_readiness(&ns);
        if !pods.is_empty() && pods.iter().all(|(_, ready)| *ready) {
            break pods;
        }
        if std::time::Instant::now() > deadline {
            let listing = ns.kubectl().args(["get", "pods", "-o", "wide"]).output().expect("kubectl");
            let status = ns
                .kubectl()
                .args([
                    "get",
                    "pods",
                    "-o",
                    "jsonpath={range .items[*]}{.metadata.name} {.metadata.deletionTimestamp} {.status}{\"\\n\"}{end}",
                ])
                .output()
                .expect("kubectl");
            panic!(
                "not every pod Ready after 120 s: {pods:?}\n{}\n{}",
                String::from_utf8_lossy(&listing.stdout),
                String::from_utf8_lossy(&status.stdout)
            );
        }
        std::thread::sleep(Duration::from_millis(250));
    };
    for component in components(version) {
        assert!(pods.iter().any(|(name, _)| name.contains(component)), "no {component} pod among {pods:?}");
    }
}

#[test]
fn helm3_installs_the_real_chart_on_the_real_api() {
    helm_installs_the_real_chart(Tool::Helm3, "1.20.0", "helm3_installs_the_real_chart_on_the_real_api");
}

#[test]
fn helm4_installs_the_real_chart_on_the_real_api() {
    helm_installs_the_real_chart(Tool::Helm4, "1.20.0", "helm4_installs_the_real_chart_on_the_real_api");
}

#[test]
fn helm3_installs_the_real_airflow_2_chart_on_the_real_api() {
    helm_installs_the_real_chart(Tool::Helm3, "1.15.0", "helm3_installs_the_real_airflow_2_chart_on_the_real_api");
}

/// A PATH directory whose only `kubectl` is the real one (the install finds it on PATH).
fn kubectl_on_path(dir: &Path, cluster: &TestCluster) -> PathBuf {
    let bin = dir.join("path-bin");
    if !bin.join("kubectl").exists() {
        std::fs::create_dir_all(&bin).expect("bin dir");
        std::os::unix::fs::symlink(cluster.kubectl_path(), bin.join("kubectl")).expect("kubectl link");
    }
    bin
}

/// `cargo xtask install` (not dry) of a real chart with `helm` into `ns`.
fn xtask_install(dir: &Path, server: &Sshd, helm: &Path, version: &str, cluster: &TestCluster, ns: &Namespace) -> Run {
    let bin = kubectl_on_path(dir, cluster);
    let mut command = Command::new(xtask_bin());
    command.current_dir(dir).args(["install", "--yes", "--bin-dir"]).arg(bin_dir());
    command.args(["--repo", &server.repo_url(), "--branch", "main", "--sub-path", "dags", "--state-dir", "state"]);
    command.arg("--chart").arg(chart(version)).arg("--helm").arg(helm);
    command.arg("--kubeconfig").arg(cluster.kubeconfig()).args(["--namespace", &ns.name, "--timeout", "5m"]);
    for fingerprint in server.host_fingerprints() {
        command.args(["--expect-fingerprint", &fingerprint]);
    }
    command
        .env("PATH", format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default()))
        .env_remove("KUBECONFIG");
    run_command(command, None)
}

/// What git-sync v4 leaves in the DAGs volume after syncing `commit` (`--root` is the volume,
/// `--link=repo`): a checkout at `.worktrees/<commit>` and `repo` linking to it, laid out under
/// `root` at the path the chart mounts the volume in Airflow's containers. (git-sync itself is
/// not built here: the module proxy does not serve it.)
fn git_sync_v4_layout(root: &Path, repo: &Path, commit: &str) {
    let dags = root.join("opt/airflow/dags");
    let worktree = dags.join(".worktrees").join(commit);
    std::fs::create_dir_all(dags.join(".worktrees")).expect("dags dir");
    let git = require_tool(Tool::Git, "git_sync_v4_layout").expect("git");
    let status = isolated_git(&git).args(["clone", "--quiet", "--no-checkout"]).arg(repo).arg(&worktree).status();
    assert!(status.is_ok_and(|s| s.success()), "git clone");
    let status = isolated_git(&git).arg("-C").arg(&worktree).args(["checkout", "--quiet", commit]).status();
    assert!(status.is_ok_and(|s| s.success()), "git checkout {commit}");
    std::os::unix::fs::symlink(format!(".worktrees/{commit}"), dags.join("repo")).expect("repo link");
}

#[test]
fn xtask_install_with_helm3_deploys_the_real_chart_on_the_real_api() {
    let test = "xtask_install_with_helm3_deploys_the_real_chart_on_the_real_api";
    xtask_install_deploys_the_real_chart(Tool::Helm3, "1.20.0", test);
}

#[test]
fn xtask_install_with_helm4_deploys_the_real_chart_on_the_real_api() {
    let test = "xtask_install_with_helm4_deploys_the_real_chart_on_the_real_api";
    xtask_install_deploys_the_real_chart(Tool::Helm4, "1.20.0", test);
}

#[test]
fn xtask_install_with_helm3_deploys_the_real_airflow_2_chart_on_the_real_api() {
    let test = "xtask_install_with_helm3_deploys_the_real_airflow_2_chart_on_the_real_api";
    xtask_install_deploys_the_real_chart(Tool::Helm3, "1.15.0", test);
}

fn xtask_install_deploys_the_real_chart(tool: Tool, version: &str, test: &str) {
    let Some(helm) = require_tool(tool, test) else { return };
    let Some(server) = Sshd::start(test) else { return };
    let Some(cluster) = TestCluster::shared(test) else { return };
    let ns = cluster.namespace(test);
    let dir = tempfile::tempdir().expect("temp dir");
    // `pod-inspect dags` looks into the worker: its exec answers from git-sync's layout of head.
    let head = server.head_commit();
    let pod_root = dir.path().join("worker-root");
    git_sync_v4_layout(&pod_root, &server.repo_path, &head);
    ns.map_exec("airflow-worker-0", &["worker"], &pod_root);

    // The first run makes the deploy key and stops until the server accepts it.
    xtask_install(dir.path(), &server, &helm, version, cluster, &ns)
        .expect_code(1)
        .expect_stderr_contains("not registered");
    let public = std::fs::read_to_string(dir.path().join("state/keys/airflow_deploy_key.pub")).expect("public key");
    server.authorize(&public);

    let run = xtask_install(dir.path(), &server, &helm, version, cluster, &ns);
    run.expect_stderr_contains("[9/10] helm upgrade").expect_stderr_contains("[10/10] wait for the pods");
    let home = tempfile::tempdir().expect("temp dir");
    assert_eq!(release_status(&helm, home.path(), cluster, &ns), "deployed");
    let reasons = event_reasons(&ns, "Job", "airflow-run-airflow-migrations");
    assert!(reasons.iter().any(|r| r == "Completed"), "the migration Job did not complete: events {reasons:?}");
    run.expect_success().expect_stderr_contains("is healthy");
    run.expect_stderr_contains(&format!("`main` is at {head}")).expect_stderr_contains("git-sync has the same commit");

    // The Secrets the release holds are the ones the state directory pinned: a second run
    // leaves the state directory and the Secrets' data as they were.
    let state = dir.path().join("state");
    let before = (files_under(&state), secret_data(&ns));
    let names: Vec<&str> = before.1.iter().map(|(name, _)| name.as_str()).collect();
    for secret in ["airflow-fernet-key", "airflow-redis-password", "airflow-metadata"] {
        assert!(names.contains(&secret), "no Secret {secret} among {names:?}");
    }
    let again = xtask_install(dir.path(), &server, &helm, version, cluster, &ns);
    again.expect_success().expect_stderr_contains("git-sync has the same commit");
    assert!(before == (files_under(&state), secret_data(&ns)), "a second install changed the state or the Secrets");
}

/// Each Secret's data in the namespace, except Helm's own release records (a second upgrade
/// adds a revision).
fn secret_data(ns: &Namespace) -> Vec<(String, serde_json::Value)> {
    let secrets = ns.json(&["get", "secrets"]);
    let mut data: Vec<(String, serde_json::Value)> = secrets["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|secret| secret["type"] != "helm.sh/release.v1")
        .map(|secret| (secret["metadata"]["name"].as_str().unwrap_or_default().to_string(), secret["data"].clone()))
        .collect();
    data.sort_by(|a, b| a.0.cmp(&b.0));
    data
}

/// The harness's kwok mappings, through the real API server and kwok's kubelet server: `kubectl
/// exec` answers from the pod root (absolute paths read under it, printed as the pod's own),
/// `kubectl logs` prints the mapped file, and a container without a mapping is refused.
#[test]
fn kwok_maps_exec_and_logs_of_a_pod_to_local_files() {
    let test = "kwok_maps_exec_and_logs_of_a_pod_to_local_files";
    let Some(cluster) = TestCluster::shared(test) else { return };
    let ns = cluster.namespace(test);
    ns.apply(&serde_json::json!({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": ns.name},
        "spec": {"containers": [{"name": "main", "image": "never-pulled"}, {"name": "side", "image": "never-pulled"}]},
    }));
    cluster.wait_for("pod p Running", Duration::from_secs(60), || {
        (ns.json(&["get", "pod", "p"])["status"]["phase"] == "Running").then_some(())
    });
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().join("root");
    std::fs::create_dir_all(root.join("opt/airflow/dags/.worktrees/abc1234/dags")).expect("dirs");
    std::fs::write(root.join("opt/airflow/dags/.worktrees/abc1234/dags/a.py"), "x = 1\n").expect("dag");
    std::os::unix::fs::symlink(".worktrees/abc1234", root.join("opt/airflow/dags/repo")).expect("link");
    std::fs::write(dir.path().join("main.log"), cri_log(&["line one", "line two"])).expect("log");
    ns.map_exec("p", &["main"], &root);
    ns.map_logs("p", &["main"], &dir.path().join("main.log"), None);

    let exec = |container: &str, command: &[&str]| {
        let mut args = vec!["exec", "p", "-c", container, "--"];
        args.extend(command);
        let output = ns.kubectl().args(&args).output().expect("kubectl exec");
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    // kwok reads its Exec objects through a watch: the first exec may come before it has it.
    cluster.wait_for("the Exec mapping", Duration::from_secs(30), || {
        exec("main", &["readlink", "/opt/airflow/dags/repo"]).0.then_some(())
    });
    assert_eq!(exec("main", &["readlink", "/opt/airflow/dags/repo"]).1, ".worktrees/abc1234\n");
    let (ok, found, _) = exec("main", &["find", "-L", "/opt/airflow/dags/repo/dags", "-type", "f"]);
    assert!(ok && found == "/opt/airflow/dags/repo/dags/a.py\n", "{found}");
    let (ok, _, _) = exec("main", &["cat", "/opt/airflow/dags/repo/dags/missing.py"]);
    assert!(!ok, "a missing file is missing in the pod too");
    let (ok, _, error) = exec("side", &["readlink", "/opt/airflow/dags/repo"]);
    assert!(!ok && error.contains("exec target not found for container \"side\""), "{error}");

    let logs = cluster.wait_for("the Logs mapping", Duration::from_secs(30), || {
        let output = ns.kubectl().args(["logs", "p", "-c", "main"]).output().expect("kubectl logs");
        output.status.success().then(|| String::from_utf8_lossy(&output.stdout).into_owned())
    });
    assert_eq!(logs, "line one\nline two\n");
}

/// The fake kubelets renew their Node leases, as real ones do: without that the node lifecycle
/// controller finds every Node not-Ready once its grace period is over, and marks all their
/// pods not Ready, which kwok never undoes (pods of a release then never become Ready again).
#[test]
fn the_fake_nodes_renew_their_leases() {
    let test = "the_fake_nodes_renew_their_leases";
    let Some(cluster) = TestCluster::shared(test) else { return };
    let renewed = |node: &str| -> Option<String> {
        let output = cluster
            .kubectl()
            .args(["-n", "kube-node-lease", "get", "lease", node, "-o", "jsonpath={.spec.renewTime}"])
            .output()
            .ok()?;
        output.status.success().then(|| String::from_utf8_lossy(&output.stdout).into_owned())
    };
    for node in ["kwok-node-0", "kwok-node-1", "kwok-node-2"] {
        let first = renewed(node).unwrap_or_else(|| panic!("no Lease for {node} in kube-node-lease"));
        cluster.wait_for(&format!("{node}'s lease renewed"), Duration::from_secs(60), || {
            renewed(node).filter(|time| *time != first).map(|_| ())
        });
    }
}
