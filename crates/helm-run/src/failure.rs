//! Helm's error output turned into our errors: schema and template errors (exit 2, with the
//! paths), an unreachable cluster (exit 3, with the MicroK8s hint), a release another operation
//! holds (exit 4). Helm 3 and Helm 4 word the same failures differently; both are read here.

use airflow_kit_core::Error;
use airflow_kit_core::process::{Command, Output, failed};

/// The `microk8s config` hint, shared by every "cannot reach the cluster" error.
pub const UNREACHABLE_HINT: &str = "check that the cluster is up and that helm uses the right kubeconfig \
(`--kubeconfig`, `--kube-context`);\nwith MicroK8s and a standalone helm: `microk8s config > ~/.kube/config && chmod 600 ~/.kube/config`";

/// One schema violation as Helm reported it, with the dotted path of the offending key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaError {
    pub path: String,
    pub message: String,
}

/// The error for a helm call that exited non-zero, classified by what Helm printed.
pub fn classify(command: &Command, output: &Output) -> Error {
    let stderr = output.stderr_text();
    let lower = stderr.to_ascii_lowercase();
    if lower.contains("values don't meet the specifications of the schema") {
        let errors = schema_errors(&stderr);
        let paths: Vec<String> = errors.iter().map(|e| format!("`{}`", e.path)).collect();
        let message = if paths.is_empty() {
            "the values do not match the chart's schema".to_string()
        } else {
            format!("the values do not match the chart's schema at {}", paths.join(", "))
        };
        return Error::bad_input(message).with_detail(helm_lines(&stderr)).with_hint(
            "fix the keys named above in the values document (a misspelled key such as `gitsync` for `gitSync` \
             is the usual cause); nothing was sent to the cluster",
        );
    }
    if let Some(flag) = unknown_flag(&stderr) {
        return Error::bad_input(format!("this helm does not know the flag `{flag}`")).with_detail(helm_lines(&stderr)).with_hint(
            "the helm is too old for it: install helm >= 3.10 (https://helm.sh/docs/intro/install/) and pass `--helm`",
        );
    }
    if lower.contains("kubernetes cluster unreachable") {
        return Error::external("the Kubernetes API is not reachable")
            .with_detail(helm_lines(&stderr))
            .with_hint(UNREACHABLE_HINT);
    }
    if lower.contains("another operation (install/upgrade/rollback) is in progress") {
        return Error::refused("another helm operation holds the release (it is `pending-*`)")
            .with_detail(helm_lines(&stderr))
            .with_hint(PENDING_HINT);
    }
    if is_template_error(&stderr) {
        return Error::bad_input("the chart failed to render with these values")
            .with_detail(helm_lines(&stderr))
            .with_hint(
                "the lines above name the template and the value it tripped on; fix that value in the values document",
            );
    }
    if let Some(repo) = missing_repo(&stderr) {
        return Error::bad_input(format!("helm has no chart repository named `{repo}`"))
            .with_detail(helm_lines(&stderr))
            .with_hint(
                "run `helm-run repo` first (adds `apache-airflow`), or pass `--chart` a local directory or .tgz",
            );
    }
    if lower.contains("error: path \"") && lower.contains("\" not found") {
        return Error::bad_input("the chart was not found").with_detail(helm_lines(&stderr)).with_hint(
            "pass `--chart` an existing chart directory or .tgz, or a repository chart like `apache-airflow/airflow`",
        );
    }
    if lower.contains("nil pointer evaluating interface") {
        return failed(command, output)
            .with_hint("a chart template met a value it did not expect; never use `--reuse-values`, pass the whole cumulative values file");
    }
    failed(command, output)
}

/// What to do when a release is stuck in `pending-*` (F13).
pub const PENDING_HINT: &str = "an earlier install/upgrade was interrupted and left the release pending;\n\
see `helm history RELEASE -n NAMESPACE`, then `helm rollback RELEASE <last deployed revision> -n NAMESPACE`\n\
(or `helm uninstall` when it never deployed), then run helm-run again";

/// The schema violations in Helm's error text. Helm 3 (gojsonschema) prints
/// `- dags: Additional property gitsync is not allowed`; Helm 4 (santhosh-tekuri/jsonschema)
/// prints `- at '/dags': additional properties 'gitsync' not allowed`.
pub fn schema_errors(stderr: &str) -> Vec<SchemaError> {
    let mut errors = Vec::new();
    for line in stderr.lines() {
        let Some(item) = line.trim_start().strip_prefix("- ") else { continue };
        let (path, message) = if let Some(rest) = item.strip_prefix("at '") {
            let Some((pointer, message)) = rest.split_once("':") else { continue };
            (pointer_to_dotted(pointer), message.trim().to_string())
        } else {
            let Some((path, message)) = item.split_once(": ") else { continue };
            let path = if path == "(root)" { String::new() } else { path.to_string() };
            (path, message.trim().to_string())
        };
        for extra in additional_properties(&message) {
            errors.push(SchemaError { path: join(&path, &extra), message: "not allowed by the chart's schema".into() });
        }
        if additional_properties(&message).is_empty() {
            errors.push(SchemaError { path: if path.is_empty() { "(root)".into() } else { path }, message });
        }
    }
    errors
}

/// The names in `Additional property X is not allowed` (Helm 3) or
/// `additional properties 'X', 'Y' not allowed` (Helm 4).
fn additional_properties(message: &str) -> Vec<String> {
    if let Some(rest) = message.strip_prefix("Additional property ") {
        return rest.strip_suffix(" is not allowed").map(|name| vec![name.to_string()]).unwrap_or_default();
    }
    if let Some(rest) = message.strip_prefix("additional properties ") {
        let names = rest.strip_suffix(" not allowed").unwrap_or(rest);
        return names.split(", ").map(|name| name.trim_matches('\'').to_string()).filter(|n| !n.is_empty()).collect();
    }
    Vec::new()
}

fn pointer_to_dotted(pointer: &str) -> String {
    pointer
        .split('/')
        .filter(|part| !part.is_empty())
        .map(|part| part.replace("~1", "/").replace("~0", "~"))
        .collect::<Vec<_>>()
        .join(".")
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_string() } else { format!("{path}.{key}") }
}

fn unknown_flag(stderr: &str) -> Option<String> {
    let start = stderr.find("unknown flag: ")? + "unknown flag: ".len();
    stderr[start..].split_whitespace().next().map(str::to_string)
}

fn missing_repo(stderr: &str) -> Option<String> {
    let start = stderr.find("Error: repo ")? + "Error: repo ".len();
    let rest = &stderr[start..];
    let name = rest.split_whitespace().next()?;
    rest.contains(" not found").then(|| name.to_string())
}

/// Helm 3: `Error: template: airflow/templates/x.yaml:1:10: executing ...`;
/// Helm 4: `Error: airflow/templates/x.yaml:1:10` followed by indented detail lines.
fn is_template_error(stderr: &str) -> bool {
    stderr.lines().any(|line| {
        let Some(rest) = line.strip_prefix("Error: ") else { return false };
        let rest = rest.trim_start_matches("INSTALLATION FAILED: ").trim_start_matches("UPGRADE FAILED: ");
        rest.starts_with("template: ")
            || rest.contains("/templates/") && rest.split(':').nth(1).is_some_and(|n| n.parse::<u32>().is_ok())
    })
}

/// Helm's own lines, without the empty ones and the `--debug` advertisement.
fn helm_lines(stderr: &str) -> String {
    stderr
        .lines()
        .filter(|line| !line.trim().is_empty() && !line.starts_with("Use --debug flag"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// True when the error means "this release does not exist yet" (same words in Helm 3 and 4).
pub fn is_release_not_found(output: &Output) -> bool {
    output.stderr_text().contains("release: not found")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn output(stderr: &str) -> Output {
        Output { code: Some(1), stdout: Vec::new(), stderr: stderr.as_bytes().to_vec() }
    }

    fn check(stderr: &str, code: u8, message_part: &str) {
        let error = classify(&Command::new("helm").arg("template"), &output(stderr));
        assert_eq!(error.code.code(), code, "{stderr}\n{error:?}");
        assert!(error.message.contains(message_part), "{}", error.message);
        assert!(error.hint.is_some(), "every classified error has a hint");
    }

    // The texts below are what helm 3.17.3 and 4.1.4 print, captured on this machine.
    const HELM3_SCHEMA: &str = "Error: values don't meet the specifications of the schema(s) in the following chart(s):\nairflow:\n- dags: Additional property gitsync is not allowed\n\n";
    const HELM4_SCHEMA: &str = "Error: values don't meet the specifications of the schema(s) in the following chart(s):\nairflow:\n- at '/dags': additional properties 'gitsync' not allowed\n\n";

    #[test]
    fn schema_errors_of_both_helms_name_the_path() {
        check(HELM3_SCHEMA, 2, "`dags.gitsync`");
        check(HELM4_SCHEMA, 2, "`dags.gitsync`");
        let helm3 = "- executor: Invalid type. Expected: string, given: integer\n- dags.gitSync.enabled: Invalid type. Expected: boolean, given: string\n";
        let helm4 =
            "- at '/executor': got number, want string\n- at '/dags/gitSync/enabled': got string, want boolean\n";
        let paths = |text: &str| schema_errors(text).into_iter().map(|e| e.path).collect::<Vec<_>>();
        assert_eq!(paths(helm3), ["executor", "dags.gitSync.enabled"]);
        assert_eq!(paths(helm4), ["executor", "dags.gitSync.enabled"]);
        assert_eq!(paths("- at '': additional properties 'a', 'b' not allowed"), ["a", "b"]);
    }

    #[test]
    fn unreachable_in_both_spellings() {
        check(
            "Error: Kubernetes cluster unreachable: Get \"https://127.0.0.1:1/version\": dial tcp 127.0.0.1:1: connect: connection refused\n",
            3,
            "not reachable",
        );
        check(
            "Error: kubernetes cluster unreachable: Get \"https://127.0.0.1:1/version\": dial tcp\n",
            3,
            "not reachable",
        );
        check(
            "Error: INSTALLATION FAILED: Kubernetes cluster unreachable: Get \"http://localhost:8080/version\"\n",
            3,
            "not reachable",
        );
    }

    #[test]
    fn template_errors_of_both_helms() {
        check(
            "Error: template: airflow/templates/y.yaml:1:10: executing \"airflow/templates/y.yaml\" at <.Values.a.b.c>: nil pointer evaluating interface {}.b\n\nUse --debug flag to render out invalid YAML\n",
            2,
            "failed to render",
        );
        check(
            "Error: airflow/templates/y.yaml:1:10\n  executing \"airflow/templates/y.yaml\" at <.Values.a.b.c>:\n    nil pointer evaluating interface {}.b\n",
            2,
            "failed to render",
        );
    }

    #[test]
    fn other_failures() {
        check("Error: unknown flag: --set-json\n", 2, "`--set-json`");
        check("Error: repo apache-airflow not found\n", 2, "`apache-airflow`");
        check("Error: path \"./nope\" not found\n", 2, "chart was not found");
        check("Error: UPGRADE FAILED: another operation (install/upgrade/rollback) is in progress\n", 4, "pending");
        let error = classify(&Command::new("helm"), &output("Error: something else\n"));
        assert_eq!(error.code.code(), 3);
        assert_eq!(error.detail.as_deref(), Some("Error: something else\n"));
    }
}
