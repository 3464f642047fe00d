//! The real Airflow chart against a real Kubernetes API (the test cluster of
//! scripts/test-cluster.sh: etcd, kube-apiserver, controller manager, scheduler, kwok's fake
//! kubelets). Helm's release record, the hook Jobs, the StatefulSets' claims and the pods'
//! readiness are the real API's, not a stand-in's.

use std::path::{Path, PathBuf};
use std::time::Duration;

use airflow_kit_tests::bins::{Run, run_command, shared_dir};
use airflow_kit_tests::cluster::{Namespace, TestCluster};
use airflow_kit_tests::helm::helm_command;
use airflow_kit_tests::tools::{Tool, require_tool};

/// The Airflow 3 chart, with its vendored postgresql subchart in `charts/`.
fn chart_1_20() -> PathBuf {
    let chart = shared_dir().join("airflow-chart/1.20.0");
    assert!(chart.join("charts/postgresql").is_dir(), "the 1.20.0 chart's postgresql subchart is vendored");
    chart
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

fn helm_installs_the_real_chart(tool: Tool, test: &str) {
    let Some(helm) = require_tool(tool, test) else { return };
    let Some(cluster) = TestCluster::shared(test) else { return };
    let ns = cluster.namespace(test);
    let home = tempfile::tempdir().expect("temp dir");
    let chart = chart_1_20();

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

    let pods = cluster.wait_for("every pod Ready", Duration::from_secs(120), || {
        let pods = pod_readiness(&ns);
        (!pods.is_empty() && pods.iter().all(|(_, ready)| *ready)).then_some(pods)
    });
    for component in ["scheduler", "api-server", "triggerer", "worker", "redis", "postgresql"] {
        assert!(pods.iter().any(|(name, _)| name.contains(component)), "no {component} pod among {pods:?}");
    }
}

#[test]
fn helm3_installs_the_real_chart_on_the_real_api() {
    helm_installs_the_real_chart(Tool::Helm3, "helm3_installs_the_real_chart_on_the_real_api");
}

#[test]
fn helm4_installs_the_real_chart_on_the_real_api() {
    helm_installs_the_real_chart(Tool::Helm4, "helm4_installs_the_real_chart_on_the_real_api");
}
