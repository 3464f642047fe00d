//! The one way pod-inspect talks to a cluster: `kubectl` (or `microk8s kubectl`) as a child
//! process with a timeout, `-o json` parsed into typed structs; Secrets decoded by core's
//! `kube_secret`, the one decoder every tool uses.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use airflow_kit_core::cluster::ClusterArgs;
use airflow_kit_core::kube_secret;
use airflow_kit_core::process::{self, Command, Output};
use airflow_kit_core::{Error, ExitCode};
use serde::de::DeserializeOwned;

/// How to reach the cluster: the program (`["kubectl"]` or `["microk8s", "kubectl"]`), the
/// global flags every call carries, and how long one call may take.
#[derive(Debug, Clone)]
pub struct Kubectl {
    pub program: Vec<OsString>,
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    pub namespace: String,
    pub timeout: Duration,
}

impl Kubectl {
    /// kubectl for the cluster `cluster` names: `program` is what core's
    /// `process::find_kubectl(cluster.microk8s, ...)` chose.
    pub fn new(program: Vec<OsString>, cluster: &ClusterArgs, timeout: Duration) -> Kubectl {
        Kubectl {
            program,
            kubeconfig: cluster.kubeconfig.clone(),
            context: cluster.kube_context.clone(),
            namespace: cluster.namespace.clone(),
            timeout,
        }
    }

    /// The command for `args`, with the global flags first: `kubectl [--kubeconfig K]
    /// [--context C] --namespace N ARGS...`.
    pub fn command<S: AsRef<str>>(&self, args: &[S]) -> Command {
        process::kubectl_command(&self.program, self.kubeconfig.as_deref(), self.context.as_deref(), &self.namespace)
            .args(args.iter().map(AsRef::as_ref))
            .timeout(self.timeout)
    }

    /// The command line as a person would type it: `kubectl ...` (or `microk8s kubectl ...`)
    /// rather than the full path found on PATH.
    pub fn display<S: AsRef<str>>(&self, args: &[S]) -> String {
        let command = self.command(args);
        let full = command.display();
        let program = process::shell_quote(&command.program.to_string_lossy());
        format!("{}{}", command.program_name(), full.strip_prefix(&program).unwrap_or(&full))
    }

    /// Runs kubectl and returns its output whatever the exit code (callers that can live with a
    /// failure, like reading logs of a container that never started, decide themselves).
    pub fn run<S: AsRef<str>>(&self, args: &[S]) -> Result<Output, Error> {
        process::run(&self.command(args)).map_err(|error| self.explain_spawn_error(error))
    }

    /// Runs kubectl; a non-zero exit is an `External` error with kubectl's stderr and a hint.
    pub fn run_checked<S: AsRef<str>>(&self, args: &[S]) -> Result<Output, Error> {
        let command = self.command(args);
        let output = process::run(&command).map_err(|error| self.explain_spawn_error(error))?;
        if output.success() {
            return Ok(output);
        }
        Err(process::failed(&command, &output).with_hint(hint_for_stderr(&output.stderr_text())))
    }

    /// Runs kubectl with `-o json` appended and parses the output into `T`. Output that is not
    /// the JSON we expect is an `External` error naming the command.
    pub fn get_json<T: DeserializeOwned, S: AsRef<str>>(&self, args: &[S]) -> Result<T, Error> {
        let mut all: Vec<&str> = args.iter().map(AsRef::as_ref).collect();
        all.extend(["-o", "json"]);
        let output = self.run_checked(&all)?;
        parse_json(&output.stdout, &self.display(&all))
    }

    /// A Secret's data, base64-decoded by core's `kube_secret`. Never printed or logged here:
    /// what to show is the caller's decision. A missing Secret is exit 1 (the check ran; there
    /// is none).
    pub fn read_secret(&self, name: &str) -> Result<BTreeMap<String, Vec<u8>>, Error> {
        let args = ["get", "secret", name, "-o", "json"];
        let output = self.run(&args)?;
        if !output.success() {
            let stderr = output.stderr_text();
            if stderr.contains("NotFound") || stderr.contains("not found") {
                return Err(Error::no(format!("secret `{name}` not found in namespace `{}`", self.namespace))
                    .with_hint("check `--release` and `-n/--namespace`; `kubectl get secrets` lists what is there"));
            }
            return Err(process::failed(&self.command(&args), &output).with_hint(hint_for_stderr(&stderr)));
        }
        let secrets = kube_secret::parse_secrets(&output.stdout, &self.display(&args))?;
        let secret = secrets.into_iter().find(|secret| secret.name == name).ok_or_else(|| {
            Error::external(format!("`{}` printed no Secret named `{name}`", self.display(&args))).with_hint(
                "run the command yourself to see its output; a kubectl plugin or wrapper may be rewriting it",
            )
        })?;
        Ok(secret.data)
    }

    fn explain_spawn_error(&self, error: Error) -> Error {
        if error.message.ends_with("was not found") {
            return Error::external(format!("{} (is kubectl installed?)", error.message)).with_hint(
                "install kubectl (https://kubernetes.io/docs/tasks/tools/), or use MicroK8s' `microk8s kubectl`",
            );
        }
        if error.message.contains("did not finish") {
            return error.with_hint("the cluster is slow or unreachable; check `kubectl cluster-info`");
        }
        error
    }
}

/// Parses kubectl's JSON output; garbage is an `External` error naming the command.
pub fn parse_json<T: DeserializeOwned>(stdout: &[u8], command: &str) -> Result<T, Error> {
    let not_json = |why: String| {
        Error::new(ExitCode::External, format!("`{command}` printed output that is not the JSON expected: {why}"))
            .with_hint(
                "run the command yourself to see its output; a kubectl plugin or wrapper may be printing extra text",
            )
    };
    // One UTF-8 check of the whole output, then a parser that trusts it: checking each string
    // on its own was a seventh of parsing a 1,000-pod list.
    let text = std::str::from_utf8(stdout)
        .map_err(|error| not_json(format!("not UTF-8 text (invalid byte at offset {})", error.valid_up_to())))?;
    serde_json::from_str(text).map_err(|error| not_json(error.to_string()))
}

/// A hint for kubectl's most common failures, from its stderr.
pub fn hint_for_stderr(stderr: &str) -> String {
    if stderr.contains("connection refused")
        || stderr.contains("Unable to connect")
        || stderr.contains("localhost:8080")
    {
        return "kubectl cannot reach the cluster; check `--kubeconfig`/`--kube-context` (MicroK8s: `--microk8s`, or `microk8s config > ~/.kube/config`)".into();
    }
    if stderr.contains("Forbidden") || stderr.contains("forbidden") {
        return "your user lacks permission for this; check the kubeconfig's user and its RBAC roles".into();
    }
    if stderr.contains("NotFound") || stderr.contains("not found") {
        return "check `-n/--namespace` and `--release`".into();
    }
    "run the command above yourself to see what kubectl says".into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kubectl() -> Kubectl {
        Kubectl {
            program: vec![OsString::from("kubectl")],
            kubeconfig: Some(PathBuf::from("/k/config")),
            context: Some("prod".into()),
            namespace: "airflow".into(),
            timeout: Duration::from_secs(5),
        }
    }

    #[test]
    fn global_flags_come_first() {
        assert_eq!(
            kubectl().command(&["get", "pods"]).display(),
            "kubectl --kubeconfig /k/config --context prod --namespace airflow get pods"
        );
    }

    #[test]
    fn a_new_kubectl_carries_the_cluster_flags() {
        let cluster = ClusterArgs {
            kubeconfig: Some(PathBuf::from("/k/config")),
            kube_context: Some("prod".into()),
            microk8s: true,
            namespace: "airflow".into(),
            release: "airflow".into(),
        };
        let program = vec![OsString::from("microk8s"), OsString::from("kubectl")];
        let kubectl = Kubectl::new(program, &cluster, Duration::from_secs(5));
        assert_eq!(
            kubectl.display(&["get", "pods"]),
            "microk8s kubectl --kubeconfig /k/config --context prod --namespace airflow get pods"
        );
    }

    #[test]
    fn garbage_json_names_the_command() {
        let error =
            parse_json::<crate::model::List<crate::model::Pod>>(b"<html>", "kubectl get pods").expect_err("bad");
        assert_eq!(error.code, ExitCode::External);
        assert!(error.message.contains("`kubectl get pods`"));
        let error = parse_json::<crate::model::List<crate::model::Pod>>(b"{\"items\": [\xff]}", "kubectl get pods")
            .expect_err("not UTF-8");
        assert!(error.message.contains("not UTF-8 text (invalid byte at offset 11)"), "{}", error.message);
    }
}
