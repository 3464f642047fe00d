//! The defaults every tool and the install agree on, written once.

/// The Helm release name when none is given.
pub const RELEASE: &str = "airflow";
/// The Kubernetes namespace when none is given.
pub const NAMESPACE: &str = "airflow";
/// The official chart, as `helm` names it after `helm repo add`.
pub const CHART: &str = "apache-airflow/airflow";
/// The local name of the chart repository.
pub const CHART_REPO_NAME: &str = "apache-airflow";
/// The official chart repository.
pub const CHART_REPO_URL: &str = "https://airflow.apache.org";
/// The file name of the deploy key in the state directory (the public half is `.pub`).
pub const DEPLOY_KEY_NAME: &str = "airflow_deploy_key";
/// The Secret that carries the deploy key (`dags.gitSync.sshKeySecret`).
pub const SSH_SECRET_NAME: &str = "airflow-ssh-secret";
/// The Secret that carries an HTTPS token (`dags.gitSync.credentialsSecret`).
pub const CREDENTIALS_SECRET_NAME: &str = "airflow-git-credentials";
/// Helm's `--timeout` for an upgrade.
pub const UPGRADE_TIMEOUT: &str = "10m";
/// How long `pod-inspect wait` waits for the pods.
pub const WAIT_TIMEOUT: &str = "15m";
