//! The one way pod-inspect talks to a cluster: `kubectl` (or `microk8s kubectl`) as a child
//! process with a timeout, `-o json` parsed into typed structs. Plain functions, so other tools
//! can read Secrets the same way.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use airflow_kit_core::process::{self, Command, Output};
use airflow_kit_core::{Error, ExitCode};
use base64::Engine;
use serde::de::DeserializeOwned;

use crate::model::DataObject;

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

    /// A Secret's data, base64-decoded. Never printed or logged here: what to show is the
    /// caller's decision. A missing Secret is exit 1 (the check ran; there is none).
    pub fn read_secret(&self, name: &str) -> Result<BTreeMap<String, Vec<u8>>, Error> {
        let args = ["get", "secret", name, "-o", "json"];
        let output = self.run(&args)?;
        if !output.success() {
            let stderr = output.stderr_text();
            if stderr.contains("NotFound") || stderr.contains("not found") {
                return Err(Error::no(format!("secret `{name}` not found in namespace `{}`", self.namespace))
                    .with_hint("check `--release` and `--namespace`; `kubectl get secrets` lists what is there"));
            }
            return Err(process::failed(&self.command(&args), &output).with_hint(hint_for_stderr(&stderr)));
        }
        let secret: DataObject = parse_json(&output.stdout, &self.display(&args))?;
        decode_secret_data(name, &secret.data)
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

/// Decodes every value of a Secret's `data` (base64, as the API returns it). A value that is
/// not base64 is an error naming the key, never showing the value.
pub fn decode_secret_data(name: &str, data: &BTreeMap<String, String>) -> Result<BTreeMap<String, Vec<u8>>, Error> {
    let mut decoded = BTreeMap::new();
    for (key, value) in data {
        let bytes = base64::engine::general_purpose::STANDARD.decode(value.trim()).map_err(|_| {
            Error::external(format!("secret `{name}` key `{key}` is not valid base64"))
                .with_hint("the API always returns base64; check what kubectl printed with `-o json`")
        })?;
        decoded.insert(key.clone(), bytes);
    }
    Ok(decoded)
}

/// Parses kubectl's JSON output; garbage is an `External` error naming the command.
pub fn parse_json<T: DeserializeOwned>(stdout: &[u8], command: &str) -> Result<T, Error> {
    serde_json::from_slice(stdout).map_err(|error| {
        Error::new(ExitCode::External, format!("`{command}` printed output that is not the JSON expected: {error}"))
            .with_hint(
                "run the command yourself to see its output; a kubectl plugin or wrapper may be printing extra text",
            )
    })
}

/// A hint for kubectl's most common failures, from its stderr.
pub fn hint_for_stderr(stderr: &str) -> String {
    if stderr.contains("connection refused")
        || stderr.contains("Unable to connect")
        || stderr.contains("localhost:8080")
    {
        return "kubectl cannot reach the cluster; check `--kubeconfig`/`--context` (MicroK8s: `microk8s config > ~/.kube/config`)".into();
    }
    if stderr.contains("Forbidden") || stderr.contains("forbidden") {
        return "your user lacks permission for this; check the kubeconfig's user and its RBAC roles".into();
    }
    if stderr.contains("NotFound") || stderr.contains("not found") {
        return "check `--namespace` and `--release`".into();
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
    fn secret_data_is_decoded_and_bad_base64_names_only_the_key() {
        let mut data = BTreeMap::new();
        data.insert("fernet-key".to_string(), "c2VjcmV0".to_string());
        assert_eq!(decode_secret_data("s", &data).expect("decodes")["fernet-key"], b"secret");
        data.insert("bad".to_string(), "!!not base64!!".to_string());
        let error = decode_secret_data("s", &data).expect_err("bad base64");
        assert!(error.message.contains("`bad`") && !error.message.contains("not base64!!"), "{}", error.message);
    }

    #[test]
    fn garbage_json_names_the_command() {
        let error =
            parse_json::<crate::model::List<crate::model::Pod>>(b"<html>", "kubectl get pods").expect_err("bad");
        assert_eq!(error.code, ExitCode::External);
        assert!(error.message.contains("`kubectl get pods`"));
    }
}
