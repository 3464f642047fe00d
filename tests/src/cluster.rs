//! A real Kubernetes API for the tests: the cluster `scripts/test-cluster.sh up` runs on
//! 127.0.0.1 (etcd, kube-apiserver, controller manager, scheduler, kwok's fake kubelets).
//! [`TestCluster::shared`] finds one a previous `up` left running (its kubeconfig answers
//! `/readyz`) or starts one, once per test process and under a lock shared by the parallel test
//! processes; each test then works in a namespace of its own ([`TestCluster::namespace`]).
//! Under CI a cluster that cannot be had fails the test with the reason; elsewhere the test is
//! skipped visibly ([`crate::skip`]). A cluster the harness started stays up for the next test
//! process; `scripts/test-cluster.sh down` stops it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::bins::workspace_root;
use crate::tools::Tool;

/// Overrides where the script keeps the cluster's state (it reads the same variable).
pub const STATE_DIR_VARIABLE: &str = "AIRFLOW_KIT_TEST_CLUSTER_DIR";

/// A running cluster: its admin kubeconfig and the kubectl that talks to it.
#[derive(Debug)]
pub struct TestCluster {
    kubeconfig: PathBuf,
    kubectl: PathBuf,
    /// Whether this test process started it (rather than finding it up).
    pub started_here: bool,
}

/// The script that builds, starts and stops the cluster.
pub fn script() -> PathBuf {
    workspace_root().join("scripts/test-cluster.sh")
}

/// The cluster's state directory: [`STATE_DIR_VARIABLE`], else the checkout's
/// `target/test-cluster` (where the script puts it; it does not read CARGO_TARGET_DIR).
pub fn state_dir() -> PathBuf {
    std::env::var_os(STATE_DIR_VARIABLE)
        .filter(|value| !value.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target/test-cluster"))
}

impl TestCluster {
    /// The process's cluster, or None after a visible skip (outside CI). Under CI a cluster
    /// that cannot be had panics with the reason: CI starts one before the tests.
    #[track_caller]
    pub fn shared(test: &str) -> Option<&'static TestCluster> {
        static CLUSTER: OnceLock<Result<TestCluster, String>> = OnceLock::new();
        match CLUSTER.get_or_init(find_or_start) {
            Ok(cluster) => Some(cluster),
            Err(reason) if crate::skip::under_ci() => panic!(
                "{test}: no test cluster: {reason}\n\nhint: `cargo xtask ci` runs `scripts/test-cluster.sh build` and `up` \
                 before the tests; run them by hand to see why they fail"
            ),
            Err(reason) => {
                crate::skip::skip(
                    test,
                    &format!("needs the test cluster: {reason} (under CI this test fails instead)"),
                );
                None
            }
        }
    }

    /// The admin kubeconfig (mode 0600).
    pub fn kubeconfig(&self) -> &Path {
        &self.kubeconfig
    }

    /// The kubectl the tests use (real, from target/test-tools).
    pub fn kubectl_path(&self) -> &Path {
        &self.kubectl
    }

    /// `kubectl --kubeconfig <this cluster's> --request-timeout=30s`, ready for args.
    pub fn kubectl(&self) -> Command {
        let mut command = Command::new(&self.kubectl);
        command.arg("--kubeconfig").arg(&self.kubeconfig).arg("--request-timeout=30s");
        command.env_remove("KUBECONFIG");
        command
    }

    /// Runs kubectl with `args`, panicking with its stderr when it fails; returns stdout.
    #[track_caller]
    pub fn kubectl_ok(&self, args: &[&str]) -> String {
        let output = self.kubectl().args(args).output().unwrap_or_else(|error| panic!("cannot run kubectl: {error}"));
        assert!(
            output.status.success(),
            "kubectl {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// `kubectl <args> -o json`, parsed.
    #[track_caller]
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["-o", "json"]);
        let text = self.kubectl_ok(&all);
        serde_json::from_str(&text).unwrap_or_else(|error| panic!("kubectl {} -o json: {error}", args.join(" ")))
    }

    /// A fresh namespace for `test` (a unique name derived from it), deleted when dropped.
    #[track_caller]
    pub fn namespace(&'static self, test: &str) -> Namespace {
        let name = namespace_name(test, std::process::id(), now_nanos());
        self.kubectl_ok(&["create", "namespace", &name]);
        // The admission controller refuses pods until the namespace's default ServiceAccount
        // exists, which the controller manager makes a moment after the namespace.
        let deadline = Instant::now() + Duration::from_secs(60);
        while !self
            .kubectl()
            .args(["-n", &name, "get", "serviceaccount", "default"])
            .output()
            .is_ok_and(|o| o.status.success())
        {
            assert!(Instant::now() < deadline, "namespace {name}: no default ServiceAccount after 60 s");
            std::thread::sleep(Duration::from_millis(200));
        }
        Namespace { name, cluster: self }
    }

    /// Polls `check` every 250 ms until it returns Some, or panics after `timeout` naming `what`.
    #[track_caller]
    pub fn wait_for<T>(&self, what: &str, timeout: Duration, mut check: impl FnMut() -> Option<T>) -> T {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(value) = check() {
                return value;
            }
            assert!(Instant::now() < deadline, "timed out after {timeout:?} waiting for {what}");
            std::thread::sleep(Duration::from_millis(250));
        }
    }
}

/// A namespace of one test; deleted (without waiting) when dropped, with all it holds.
#[derive(Debug)]
pub struct Namespace {
    pub name: String,
    pub cluster: &'static TestCluster,
}

impl Namespace {
    /// `kubectl -n <this namespace>`, ready for args.
    pub fn kubectl(&self) -> Command {
        let mut command = self.cluster.kubectl();
        command.arg("-n").arg(&self.name);
        command
    }

    /// `kubectl -n <ns> <args> -o json`, parsed.
    #[track_caller]
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut all = vec!["-n", self.name.as_str()];
        all.extend(args);
        self.cluster.json(&all)
    }
}

impl Namespace {
    /// Makes `kubectl exec` into `pod` (any of `containers`) answer from `root`: kwok runs the
    /// command on this machine with AIRFLOW_KIT_POD_ROOT=`root`, and the shims
    /// scripts/test-cluster.sh puts first on kwok's PATH (readlink, find, ls, cat, test, stat)
    /// read every absolute path under `root`. A kwok `Exec` object in this namespace, so it
    /// goes with the namespace.
    #[track_caller]
    pub fn map_exec(&self, pod: &str, containers: &[&str], root: &Path) {
        self.apply(&serde_json::json!({
            "apiVersion": "kwok.x-k8s.io/v1alpha1",
            "kind": "Exec",
            "metadata": {"name": pod, "namespace": self.name},
            "spec": {"execs": [{
                "containers": containers,
                "local": {"envs": [{"name": "AIRFLOW_KIT_POD_ROOT", "value": root.display().to_string()}]},
            }]},
        }));
    }

    /// Makes `kubectl logs` of `pod` (any of `containers`) print `file`, and `--previous` print
    /// `previous`: a kwok `Logs` object in this namespace. kwok reads the files as a kubelet
    /// reads a container's log, in the CRI format: write them with [`cri_log`].
    #[track_caller]
    pub fn map_logs(&self, pod: &str, containers: &[&str], file: &Path, previous: Option<&Path>) {
        let mut logs = serde_json::json!({"containers": containers, "logsFile": file.display().to_string()});
        if let Some(previous) = previous {
            logs["previousLogsFile"] = previous.display().to_string().into();
        }
        self.apply(&serde_json::json!({
            "apiVersion": "kwok.x-k8s.io/v1alpha1",
            "kind": "Logs",
            "metadata": {"name": pod, "namespace": self.name},
            "spec": {"logs": [logs]},
        }));
    }

    /// `kubectl apply` of one object (JSON) in this namespace.
    #[track_caller]
    pub fn apply(&self, object: &serde_json::Value) {
        let mut child = self
            .cluster
            .kubectl()
            .args(["-n", &self.name, "apply", "-f", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|error| panic!("cannot run kubectl: {error}"));
        if let Some(mut stdin) = child.stdin.take() {
            std::io::Write::write_all(&mut stdin, object.to_string().as_bytes()).expect("kubectl stdin");
        }
        let output = child.wait_with_output().expect("kubectl apply");
        assert!(output.status.success(), "kubectl apply {object}: {}", String::from_utf8_lossy(&output.stderr));
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        let _ = self
            .cluster
            .kubectl()
            .args(["delete", "namespace", &self.name, "--wait=false"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// `lines` as a container log file in the CRI format kwok (like a kubelet) reads
/// (`<RFC 3339 time> stdout F <line>`); `kubectl logs` prints the lines alone.
pub fn cri_log(lines: &[&str]) -> String {
    lines.iter().map(|line| format!("2026-01-01T00:00:00.000000000Z stdout F {line}\n")).collect()
}

/// A DNS label (`[a-z0-9-]`, starting with a letter) unique to this test run: the test's own
/// name (its last path segment, cut to 24) and a suffix from the pid and the clock. At most 37
/// long: the install refuses a namespace longer than 53, and names made from it must fit too.
pub fn namespace_name(test: &str, pid: u32, nanos: u128) -> String {
    let base = test.rsplit("::").next().unwrap_or(test);
    let mut name: String =
        base.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect();
    name.truncate(24);
    let name = name.trim_matches('-');
    let suffix = format!("{:x}", (u128::from(pid) << 40) ^ nanos);
    let suffix = &suffix[suffix.len().saturating_sub(10)..];
    format!("t-{name}-{suffix}")
}

fn now_nanos() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0)
}

fn find_or_start() -> Result<TestCluster, String> {
    let kubectl = Tool::Kubectl.locate()?;
    let state = state_dir();
    let kubeconfig = state.join("kubeconfig");
    if answers(&kubectl, &kubeconfig) {
        return Ok(TestCluster { kubeconfig, kubectl, started_here: false });
    }
    // The test processes of one run (nextest runs each test in its own) start it only once:
    // whoever holds the lock starts it, the others then find it answering.
    let lock_path = state.with_extension("lock");
    if let Some(parent) = lock_path.parent() {
        std::fs::create_dir_all(parent).map_err(|error| format!("cannot create `{}`: {error}", parent.display()))?;
    }
    let lock = std::fs::File::create(&lock_path)
        .map_err(|error| format!("cannot create the lock `{}`: {error}", lock_path.display()))?;
    lock.lock().map_err(|error| format!("cannot lock `{}`: {error}", lock_path.display()))?;
    if answers(&kubectl, &kubeconfig) {
        return Ok(TestCluster { kubeconfig, kubectl, started_here: false });
    }
    let mut command = Command::new("bash");
    command.arg(script()).arg("up").env("AIRFLOW_KIT_KUBECTL", &kubectl);
    if !crate::skip::under_ci() {
        // Outside CI the binaries must have been built already: a cold build takes tens of
        // minutes and does not belong inside a test run.
        command.env("AIRFLOW_KIT_TEST_CLUSTER_NO_BUILD", "1");
    }
    // The script prints only its own short messages (the components log to files), so its
    // stderr can explain a failure without carrying a Secret.
    let output = command
        .stdin(Stdio::null())
        .output()
        .map_err(|error| format!("cannot run `{}`: {error}", script().display()))?;
    if !output.status.success() {
        // The script's last lines say what failed and what to do (`error:` and `hint:`).
        let stderr = String::from_utf8_lossy(&output.stderr);
        let lines: Vec<&str> = stderr.lines().filter(|line| !line.trim().is_empty()).collect();
        let last = lines[lines.len().saturating_sub(3)..].join(" | ");
        return Err(format!("`scripts/test-cluster.sh up` failed: {last}"));
    }
    if !answers(&kubectl, &kubeconfig) {
        return Err(format!("the cluster `up` started does not answer at `{}`", kubeconfig.display()));
    }
    let _ = std::io::Write::write_all(
        &mut std::io::stderr(),
        b"test-cluster: started by this test process; it stays up: `scripts/test-cluster.sh down` stops it\n",
    );
    Ok(TestCluster { kubeconfig, kubectl, started_here: true })
}

fn answers(kubectl: &Path, kubeconfig: &Path) -> bool {
    kubeconfig.is_file()
        && Command::new(kubectl)
            .arg("--kubeconfig")
            .arg(kubeconfig)
            .args(["--request-timeout=5s", "get", "--raw", "/readyz"])
            .env_remove("KUBECONFIG")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
}

#[cfg(test)]
mod tests {
    use super::namespace_name;

    #[test]
    fn a_namespace_name_is_a_dns_label_from_the_test_name() {
        let name = namespace_name("real_cluster::helm3_Installs_the_chart", 4242, 123_456_789);
        assert!(name.starts_with("t-helm3-installs-the-chart-"), "{name}");
        let long = namespace_name(&"x_".repeat(80), u32::MAX, u128::MAX);
        assert!(long.len() <= 37, "{long} is {} long", long.len());
        for name in [name, long] {
            assert!(name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'), "{name}");
            assert!(!name.ends_with('-') && !name.contains("--"), "{name}");
        }
        assert_ne!(namespace_name("t", 1, 1), namespace_name("t", 1, 2));
    }
}
