//! `--from-cluster`: pin the secrets the chart generated to the values the cluster holds NOW,
//! read from the live Secrets (through kubectl, or a `kubectl get secrets -o json` file), so
//! that the next `helm upgrade` with the document renders the same Secrets and rotates nothing.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use airflow_kit_core::kube_secret::{self, Secret};
use airflow_kit_core::process::{self, Command};
use airflow_kit_core::{Error, Node};

use crate::secrets::{AirflowMajor, SecretsConfig, airflow_major, is_set};

/// Where the live Secrets come from, after flags were parsed and defaults resolved.
#[derive(Debug, Clone)]
pub struct ClusterConfig {
    /// The release's namespace (`-n/--namespace`).
    pub namespace: String,
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    /// `["kubectl"]` or `["microk8s", "kubectl"]`; see `airflow_kit_core::process::find_kubectl`.
    pub program: Vec<OsString>,
    pub timeout: Duration,
}

/// Checks the flags that mean generating, before anything is read: adoption must pin, not
/// generate, so `--credentials` and `--rotate` need `--fill` to say so.
pub fn validate(fill: bool, config: &SecretsConfig) -> Result<(), Error> {
    if fill {
        return Ok(());
    }
    let flag = if config.credentials {
        "--credentials"
    } else if !config.rotate.is_empty() {
        "--rotate"
    } else {
        return Ok(());
    };
    Err(Error::bad_input(format!("`{flag}` generates new secrets, which `--from-cluster` alone never does"))
        .with_hint("add `--fill` to pin the live values first and then generate, or drop the flag"))
}

/// The one kubectl call: `kubectl [--kubeconfig K] [--context C] --namespace N get secrets -o
/// json`. It carries no secret; the Secrets come back on its stdout only.
pub fn kubectl_command(config: &ClusterConfig) -> Command {
    process::kubectl_command(
        &config.program,
        config.kubeconfig.as_deref(),
        config.context.as_deref(),
        &config.namespace,
    )
    .args(["get", "secrets", "-o", "json"])
    .timeout(config.timeout)
}

/// Reads the namespace's Secrets through kubectl. A failure is exit 3 with kubectl's stderr
/// (which never holds a secret value) and a hint for the usual causes.
pub fn read_live_secrets(config: &ClusterConfig) -> Result<LiveSecrets, Error> {
    let command = kubectl_command(config);
    let output = process::run(&command)?;
    let shown = shown(&command);
    if !output.success() {
        let mut error = process::failed(&command, &output).with_hint(hint_for_kubectl(&output.stderr_text()));
        error.message = error.message.replace(&command.display(), &shown);
        return Err(error);
    }
    // What kubectl printed is not ours to fix: a parse error stays exit 3 (external).
    LiveSecrets::parse(&output.stdout, &shown)
}

/// The command line as a person would type it: `kubectl ...` (or `microk8s kubectl ...`), not
/// the full path found on PATH.
fn shown(command: &Command) -> String {
    let full = command.display();
    let program = process::shell_quote(&command.program.to_string_lossy());
    format!("{}{}", command.program_name(), full.strip_prefix(&program).unwrap_or(&full))
}

/// The Secrets of one namespace: name to decoded data, from core's one decoder of kubectl's
/// JSON. The values are secrets: they are never shown.
#[derive(Debug, Clone, Default)]
pub struct LiveSecrets {
    secrets: BTreeMap<String, BTreeMap<String, Vec<u8>>>,
}

impl LiveSecrets {
    /// Parses kubectl's `-o json`: a `List` of Secrets (`get secrets`), or one Secret (`get
    /// secret NAME`), through `airflow_kit_core::kube_secret`. `source` names the input in
    /// errors (the command, or the file); errors never quote a value. An object without a name
    /// is not a Secret kubectl printed (`{}`, or some other JSON), and is refused rather than
    /// read as a namespace without Secrets.
    pub fn parse(json: &[u8], source: &str) -> Result<LiveSecrets, Error> {
        let parsed = kube_secret::parse_secrets(json, source)?;
        if parsed.iter().any(|secret| secret.name.is_empty()) {
            return Err(Error::external(format!(
                "`{source}` is not a list of Kubernetes Secrets (an object without `metadata.name`)"
            ))
            .with_hint("it must be what `kubectl get secrets -n NAMESPACE -o json` prints"));
        }
        Ok(LiveSecrets::from_secrets(parsed))
    }

    /// The set from Secrets already decoded (by `kube_secret`, or by a test).
    pub fn from_secrets(secrets: impl IntoIterator<Item = Secret>) -> LiveSecrets {
        LiveSecrets { secrets: secrets.into_iter().map(|secret| (secret.name, secret.data)).collect() }
    }

    /// Builds the set from decoded values (for tests and callers that read Secrets elsewhere).
    pub fn from_decoded<'a>(items: impl IntoIterator<Item = (&'a str, &'a str, &'a [u8])>) -> LiveSecrets {
        let mut secrets: BTreeMap<String, BTreeMap<String, Vec<u8>>> = BTreeMap::new();
        for (name, key, value) in items {
            secrets.entry(name.to_string()).or_default().insert(key.to_string(), value.to_vec());
        }
        LiveSecrets { secrets }
    }

    pub fn contains(&self, name: &str) -> bool {
        self.secrets.contains_key(name)
    }

    /// The text of `key` in Secret `name`; None when either is absent. Not UTF-8 is an error
    /// naming the Secret and key only.
    fn text(&self, name: &str, key: &str) -> Result<Option<String>, Error> {
        let Some(bytes) = self.secrets.get(name).and_then(|data| data.get(key)) else { return Ok(None) };
        let text = String::from_utf8(bytes.clone()).map_err(|_| {
            Error::bad_input(format!("Secret `{name}` key `{key}` is not UTF-8 text, so it cannot be a chart value"))
                .with_hint("this Secret was not made by the Airflow chart; set the value in the document yourself")
        })?;
        Ok(Some(text))
    }
}

/// Core's decoder words a JSON error with serde's own text, which quotes a string of the wrong
/// type (`invalid type: string "<the value>", expected a map`), and a Secret's strings are
/// secrets. So a JSON error is re-said here with its place only: where the syntax breaks, or
/// that the shape is wrong. Other errors (a value that is not base64) name keys only and pass.
/// What pinning did: lines for stderr, none of which shows a value. `warnings` are the lines a
/// person must read (a kept value that differs from the cluster's).
#[derive(Debug, Clone, Default)]
pub struct Pinned {
    pub notes: Vec<String>,
    pub warnings: Vec<String>,
}

/// Pins every chart-generated secret that the cluster holds into `root`. A value the document
/// already sets is kept (with a warning when it differs from the live one); a Secret that does
/// not exist is skipped and named once. `flag` is `--airflow`, used when the document does not
/// say which Airflow it deploys.
pub fn pin_from_cluster(
    root: &mut Node,
    live: &LiveSecrets,
    release: &str,
    flag: Option<AirflowMajor>,
) -> Result<Pinned, Error> {
    let major = airflow_major(root, flag)?;
    let fullname = fullname(root, release);
    let mut pinned = Pinned::default();
    let mut missing = Vec::new();

    for plan in PLANS {
        if plan.major.is_some_and(|only| major.is_some_and(|major| major != only)) {
            continue;
        }
        if plan.requires_enabled.is_some_and(|path| root.get_path(path).and_then(Node::as_bool) == Some(false)) {
            continue;
        }
        if is_set(root.get_path(plan.secret_name_key)) {
            pinned.notes.push(format!(
                "left {} alone: `{}` names a Secret you manage",
                plan.path.join("."),
                plan.secret_name_key.join(".")
            ));
            continue;
        }
        let candidates = plan.names(release, &fullname);
        let Some(name) = candidates.iter().find(|name| live.contains(name)) else {
            missing.push(candidates[0].clone());
            continue;
        };
        let Some(value) = live.text(name, plan.data_key)? else {
            pinned.warnings.push(format!(
                "warning: the Secret `{name}` has no `{}` key; {} was not pinned",
                plan.data_key,
                plan.path.join(".")
            ));
            continue;
        };
        pin_one(root, plan.path, &value, name, &mut pinned)?;
    }

    pin_database_password(root, live, release, &mut pinned, &mut missing)?;
    if !missing.is_empty() {
        pinned.notes.push(format!("skipped, not in the cluster: {}", missing.join(", ")));
    }
    Ok(pinned)
}

/// One chart-generated Secret: where the chart puts it and which values key renders it.
struct Plan {
    /// The values key (`fernetKey`, `redis.password`).
    path: &'static [&'static str],
    /// The Secret's name after the release (or fullname) prefix.
    suffix: &'static str,
    /// Whether the chart names it after `airflow.fullname` (newer templates) or the release.
    uses_fullname: bool,
    /// The key inside the Secret's `data`.
    data_key: &'static str,
    /// A values key naming a user-managed Secret instead; then the chart makes none.
    secret_name_key: &'static [&'static str],
    /// Only this Airflow line has it (when the document says which line it deploys).
    major: Option<AirflowMajor>,
    /// The chart makes it only when this is not `false`.
    requires_enabled: Option<&'static [&'static str]>,
}

impl Plan {
    /// The names to look for, best first. Chart versions differ: `webserver-secret-key` was
    /// named after the release before it was named after `airflow.fullname`; for the default
    /// release name `airflow` both are the same.
    fn names(&self, release: &str, fullname: &str) -> Vec<String> {
        let mut names = Vec::new();
        if self.uses_fullname {
            names.push(format!("{fullname}-{}", self.suffix));
        }
        let by_release = format!("{release}-{}", self.suffix);
        if !names.contains(&by_release) {
            names.push(by_release);
        }
        names
    }
}

/// The Secrets the chart generates (chart/templates/secrets/ of apache/airflow): names, data
/// keys and the values that render them.
const PLANS: &[Plan] = &[
    Plan {
        path: &["fernetKey"],
        suffix: "fernet-key",
        uses_fullname: false,
        data_key: "fernet-key",
        secret_name_key: &["fernetKeySecretName"],
        major: None,
        requires_enabled: None,
    },
    Plan {
        path: &["webserverSecretKey"],
        suffix: "webserver-secret-key",
        uses_fullname: true,
        data_key: "webserver-secret-key",
        secret_name_key: &["webserverSecretKeySecretName"],
        major: Some(AirflowMajor::Two),
        requires_enabled: None,
    },
    Plan {
        path: &["apiSecretKey"],
        suffix: "api-secret-key",
        uses_fullname: true,
        data_key: "api-secret-key",
        secret_name_key: &["apiSecretKeySecretName"],
        major: Some(AirflowMajor::Three),
        requires_enabled: None,
    },
    Plan {
        path: &["jwtSecret"],
        suffix: "jwt-secret",
        uses_fullname: true,
        data_key: "jwt-secret",
        secret_name_key: &["jwtSecretName"],
        major: Some(AirflowMajor::Three),
        requires_enabled: None,
    },
    Plan {
        path: &["redis", "password"],
        suffix: "redis-password",
        uses_fullname: true,
        data_key: "password",
        secret_name_key: &["redis", "passwordSecretName"],
        major: None,
        requires_enabled: Some(&["redis", "enabled"]),
    },
];

/// The chart's `airflow.fullname`: `fullnameOverride`, else the release name when it contains
/// the chart name (`nameOverride` or `airflow`), else `<release>-<name>`; at most 63 characters
/// without a trailing `-`.
pub fn fullname(root: &Node, release: &str) -> String {
    let text = |key: &str| root.get_path(&[key]).and_then(Node::as_str).filter(|text| !text.is_empty());
    let full = match text("fullnameOverride") {
        Some(full) => full.to_string(),
        None => {
            let name = text("nameOverride").unwrap_or("airflow");
            if release.contains(name) { release.to_string() } else { format!("{release}-{name}") }
        }
    };
    let truncated: String = full.chars().take(63).collect();
    truncated.trim_end_matches('-').to_string()
}

fn pin_one(root: &mut Node, path: &[&str], live: &str, secret: &str, pinned: &mut Pinned) -> Result<(), Error> {
    let name = path.join(".");
    let current = root.get_path(path);
    if is_set(current) {
        if current.and_then(Node::as_scalar).map(|scalar| scalar.text.as_str()) == Some(live) {
            pinned.notes.push(format!("kept {name} (the same as the live Secret `{secret}`)"));
        } else {
            pinned.warnings.push(format!(
                "warning: kept {name} from the document, but it differs from the live Secret `{secret}`: the next upgrade will change it (remove {name} from the document to keep the live value)"
            ));
        }
        return Ok(());
    }
    root.set_path(path, Node::string(live))?;
    pinned.notes.push(format!("pinned {name} from the live Secret `{secret}`"));
    Ok(())
}

const CHART_PASSWORD: &[&str] = &["postgresql", "auth", "postgresPassword"];
const CONNECTION_PASSWORD: &[&str] = &["data", "metadataConnection", "pass"];

/// The database password, from the metadata connection URL the chart rendered. Pinned only
/// when the chart's own PostgreSQL is used and the document carries no password: the database
/// keeps the password it was created with, so the values must keep saying it.
fn pin_database_password(
    root: &mut Node,
    live: &LiveSecrets,
    release: &str,
    pinned: &mut Pinned,
    missing: &mut Vec<String>,
) -> Result<(), Error> {
    if is_set(root.get_path(&["data", "metadataSecretName"])) {
        pinned
            .notes
            .push("left the database password alone: `data.metadataSecretName` names a Secret you manage".into());
        return Ok(());
    }
    // The chart names this one after the release in every version (`airflow_metadata_secret`).
    let name = format!("{release}-airflow-metadata");
    if !live.contains(&name) {
        missing.push(name);
        return Ok(());
    }
    let Some(url) = live.text(&name, "connection")? else {
        pinned.warnings.push(format!(
            "warning: the Secret `{name}` has no `connection` key; the database password was not pinned"
        ));
        return Ok(());
    };
    let Some(password) = url_password(&url) else {
        pinned.notes.push(format!("the connection in `{name}` carries no password; nothing to pin"));
        return Ok(());
    };
    let chart_set = is_set(root.get_path(CHART_PASSWORD));
    let connection = root.get_path(CONNECTION_PASSWORD).filter(|node| is_set(Some(node)));
    if let Some(connection) = connection {
        let same = connection.as_scalar().map(|scalar| scalar.text.as_str()) == Some(password.as_str());
        if same {
            pinned.notes.push(format!("kept {} (the same as the live Secret `{name}`)", CONNECTION_PASSWORD.join(".")));
        } else {
            pinned.warnings.push(format!(
                "warning: kept {} from the document, but it differs from the password in the live Secret `{name}`: Airflow would use the document's one after the next upgrade",
                CONNECTION_PASSWORD.join(".")
            ));
        }
        return Ok(());
    }
    if chart_set {
        pinned.notes.push(format!(
            "left the database password alone: the document sets {} (and not {})",
            CHART_PASSWORD.join("."),
            CONNECTION_PASSWORD.join(".")
        ));
        return Ok(());
    }
    if root.get_path(&["postgresql", "enabled"]).and_then(Node::as_bool) == Some(false) {
        // An external database whose password the chart never chose: it is whatever the user
        // gave, and `helm get values` already carries it when they gave one.
        pinned.notes.push("left the database password alone: the document uses an external database".into());
        return Ok(());
    }
    root.set_path(CHART_PASSWORD, Node::string(password.clone()))?;
    root.set_path(CONNECTION_PASSWORD, Node::string(password))?;
    pinned.notes.push(format!(
        "pinned {} and {} from the live Secret `{name}`",
        CHART_PASSWORD.join("."),
        CONNECTION_PASSWORD.join(".")
    ));
    Ok(())
}

/// The password of a connection URL (`scheme://user:pass@host:port/db?query`),
/// percent-decoded: the chart URL-escapes it on the way in (`urlquery`, then sprig's
/// `urlJoin`), so decoding gives back the value that renders the same URL.
pub fn url_password(url: &str) -> Option<String> {
    let (_, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    let (userinfo, _) = authority.rsplit_once('@')?;
    let (_, password) = userinfo.split_once(':')?;
    percent_decode(password)
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%' {
            let hex = text.get(index + 1..index + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            index += 3;
        } else {
            out.push(bytes[index]);
            index += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn hint_for_kubectl(stderr: &str) -> String {
    if stderr.contains("connection refused")
        || stderr.contains("Unable to connect")
        || stderr.contains("localhost:8080")
    {
        return "kubectl cannot reach the cluster; check `--kubeconfig`/`--context` (MicroK8s: `microk8s config > ~/.kube/config`)".into();
    }
    if stderr.contains("Forbidden") || stderr.contains("forbidden") {
        return "your user may not list Secrets in this namespace; check the kubeconfig's user and its RBAC roles"
            .into();
    }
    "run the command above yourself to see what kubectl says".into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use airflow_kit_core::Document;

    fn check(input: &str, live: &[(&str, &str, &str)], expected: &[(&str, Option<&str>)]) -> Pinned {
        let mut document = Document::parse(input, "t").expect("parses");
        let live = LiveSecrets::from_decoded(live.iter().map(|(name, key, value)| (*name, *key, value.as_bytes())));
        let pinned = pin_from_cluster(&mut document.root, &live, "airflow", None).expect("pins");
        for (path, value) in expected {
            let parts: Vec<&str> = path.split('.').collect();
            assert_eq!(document.root.get_path(&parts).and_then(Node::as_str), *value, "{path}");
        }
        pinned
    }

    #[test]
    fn live_values_are_pinned_at_their_keys() {
        let pinned = check(
            "executor: CeleryExecutor\n",
            &[
                ("airflow-fernet-key", "fernet-key", "F"),
                ("airflow-webserver-secret-key", "webserver-secret-key", "W"),
                ("airflow-redis-password", "password", "R"),
                (
                    "airflow-airflow-metadata",
                    "connection",
                    "postgresql://postgres:p%40ss@airflow-postgresql.airflow:5432/postgres?sslmode=disable",
                ),
            ],
            &[
                ("fernetKey", Some("F")),
                ("webserverSecretKey", Some("W")),
                ("redis.password", Some("R")),
                ("postgresql.auth.postgresPassword", Some("p@ss")),
                ("data.metadataConnection.pass", Some("p@ss")),
                ("apiSecretKey", None),
            ],
        );
        assert!(pinned.warnings.is_empty(), "{:?}", pinned.warnings);
        assert_eq!(
            pinned.notes.last().map(String::as_str),
            Some("skipped, not in the cluster: airflow-api-secret-key, airflow-jwt-secret")
        );
    }

    #[test]
    fn a_document_value_is_kept_and_a_difference_is_a_warning_without_the_value() {
        let pinned = check(
            "fernetKey: mine\n",
            &[("airflow-fernet-key", "fernet-key", "live-fernet")],
            &[("fernetKey", Some("mine"))],
        );
        assert_eq!(pinned.warnings.len(), 1);
        assert!(
            pinned.warnings[0].contains("fernetKey")
                && !pinned.warnings[0].contains("live-fernet")
                && !pinned.warnings[0].contains("mine")
        );
    }

    #[test]
    fn the_airflow_line_and_user_managed_secrets_decide_what_is_read() {
        let live =
            [("airflow-webserver-secret-key", "webserver-secret-key", "W"), ("airflow-jwt-secret", "jwt-secret", "J")];
        check("airflowVersion: 3.1.8\n", &live, &[("webserverSecretKey", None), ("jwtSecret", Some("J"))]);
        check("jwtSecretName: mine\n", &live, &[("jwtSecret", None), ("webserverSecretKey", Some("W"))]);
        check(
            "redis:\n  enabled: false\n",
            &[("airflow-redis-password", "password", "R")],
            &[("redis.password", None)],
        );
    }

    #[test]
    fn the_database_password_is_left_alone_when_the_document_has_one_or_an_external_database() {
        let live = [("airflow-airflow-metadata", "connection", "postgresql://postgres:live@h:5432/db")];
        check("postgresql:\n  enabled: false\n", &live, &[("data.metadataConnection.pass", None)]);
        check("postgresql:\n  auth:\n    postgresPassword: mine\n", &live, &[("data.metadataConnection.pass", None)]);
        let pinned = check(
            "data:\n  metadataConnection:\n    pass: other\n",
            &live,
            &[("postgresql.auth.postgresPassword", None)],
        );
        assert_eq!(pinned.warnings.len(), 1);
    }

    #[test]
    fn names_follow_the_charts_fullname() {
        let root = Document::parse("{}\n", "t").expect("parses").root;
        assert_eq!(fullname(&root, "airflow"), "airflow");
        assert_eq!(fullname(&root, "my-airflow-prod"), "my-airflow-prod");
        assert_eq!(fullname(&root, "prod"), "prod-airflow");
        let root = Document::parse("fullnameOverride: af\n", "t").expect("parses").root;
        assert_eq!(fullname(&root, "prod"), "af");
        let mut document = Document::parse("{}\n", "t").expect("parses");
        let live = LiveSecrets::from_decoded([
            ("prod-airflow-jwt-secret", "jwt-secret", b"J".as_slice()),
            ("prod-fernet-key", "fernet-key", b"F".as_slice()),
        ]);
        pin_from_cluster(&mut document.root, &live, "prod", None).expect("pins");
        assert_eq!(document.root.get_path(&["jwtSecret"]).and_then(Node::as_str), Some("J"));
        assert_eq!(document.root.get_path(&["fernetKey"]).and_then(Node::as_str), Some("F"));
    }

    #[test]
    fn url_passwords_are_percent_decoded() {
        assert_eq!(url_password("postgresql://u:a%2Fb%3A@h:1/d?x=y").as_deref(), Some("a/b:"));
        assert_eq!(url_password("postgresql://u:p@ss@h:1/d").as_deref(), Some("p@ss"));
        assert_eq!(url_password("postgresql://u@h:1/d"), None);
        assert_eq!(url_password("not a url"), None);
    }

    #[test]
    fn secret_lists_parse_and_bad_input_never_echoes_it() {
        let json = br#"{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"v1","kind":"Secret","metadata":{"name":"a"},"data":{"k":"dmFsdWU="},"type":"Opaque"}],"metadata":{"resourceVersion":""}}"#;
        let live = LiveSecrets::parse(json, "t").expect("parses");
        assert_eq!(live.text("a", "k").expect("decodes").as_deref(), Some("value"));
        let error = LiveSecrets::parse(b"{\"kind\": \"List\", \"items\": [", "f").expect_err("bad json");
        assert_eq!(error.code.code(), 3, "kubectl's output is external; main makes a file's exit 2");
        let error = LiveSecrets::parse(b"{\"kind\": \"Pod\", \"x\": \"s3cret\"}", "f").expect_err("not secrets");
        assert!(error.message.contains("not a list of Kubernetes Secrets") && !error.message.contains("s3cret"));
        let error = LiveSecrets::parse(br#"{"kind":"Secret","metadata":{"name":"a"},"data":{"k":"!!s3cret"}}"#, "t")
            .expect_err("bad base64");
        assert!(error.message.contains("`k`") && !error.message.contains("s3cret"), "{}", error.message);
        let error = LiveSecrets::parse(br#"{"kind":"Secret","metadata":{"name":"a"},"data":"s3cretvalue"}"#, "t")
            .expect_err("data is not a map");
        assert!(error.message.contains("wrong type") && !error.message.contains("s3cret"), "{}", error.message);
        let binary = LiveSecrets::from_decoded([("a", "k", [0xff_u8, 0xfe].as_slice())]);
        let error = binary.text("a", "k").expect_err("not UTF-8");
        assert!(error.message.contains("not UTF-8"), "{}", error.message);
    }

    #[test]
    fn kubectl_is_found_like_pod_inspect_does_and_its_argv_holds_no_secret() {
        let config = ClusterConfig {
            namespace: "af".into(),
            kubeconfig: Some(PathBuf::from("/k")),
            context: Some("c".into()),
            program: vec![OsString::from("kubectl")],
            timeout: Duration::from_secs(5),
        };
        assert_eq!(
            kubectl_command(&config).display(),
            "kubectl --kubeconfig /k --context c --namespace af get secrets -o json"
        );
    }
}
