//! The real install against a real cluster. It needs what no test machine here has (a
//! Kubernetes API, the chart repository, a DAG repository that accepts the deploy key), so it
//! runs only when AIRFLOW_KIT_E2E_KUBECONFIG names a kubeconfig, with AIRFLOW_KIT_E2E_REPO,
//! _BRANCH and _SUBPATH naming the DAG repository; otherwise it says it was skipped.

use std::process::Command;

use airflow_kit_tests::bins::{run_command, workspace_root};

#[test]
fn install_on_a_real_cluster_syncs_the_dags() {
    let Some(kubeconfig) = airflow_kit_tests::skip::e2e_kubeconfig("install_on_a_real_cluster_syncs_the_dags") else {
        return;
    };
    let setting = |name: &str| {
        std::env::var(name).unwrap_or_else(|_| panic!("{name} must be set with AIRFLOW_KIT_E2E_KUBECONFIG"))
    };
    let state = tempfile::tempdir().expect("temp dir");
    let mut command = Command::new(env!("CARGO"));
    command.current_dir(workspace_root()).args(["run", "--quiet", "-p", "xtask", "--", "install", "--yes"]);
    command.arg("--kubeconfig").arg(&kubeconfig).arg("--state-dir").arg(state.path());
    command.args(["--repo", &setting("AIRFLOW_KIT_E2E_REPO"), "--branch", &setting("AIRFLOW_KIT_E2E_BRANCH")]);
    command.args(["--sub-path", &setting("AIRFLOW_KIT_E2E_SUBPATH")]);
    if let Ok(version) = std::env::var("AIRFLOW_KIT_E2E_CHART_VERSION") {
        command.args(["--chart-version", &version]);
    }
    let run = run_command(command, None);
    run.expect_success().expect_stderr_contains("git-sync has the same commit");
}
