//! The install settings: the config file (airflow-kit.example.yaml documents every key), the
//! flags over it, then the defaults. Everything is validated here, before any step runs: an
//! unknown key (with did-you-mean), a value of the wrong type, a bad duration, key type,
//! exposure or node port is a bad-input error (exit 2) with the file, line and column.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use airflow_kit_core::cluster::ClusterArgs;
use airflow_kit_core::error::Location;
use airflow_kit_core::git_url::{GitUrl, Transport};
use airflow_kit_core::yaml::Resolved;
use airflow_kit_core::{Document, Error, Input, Node, defaults, duration, suggest};

/// `cargo xtask install` flags. Each overrides the config file's key of the same meaning.
#[derive(clap::Args, Debug, Default, Clone, PartialEq)]
pub struct InstallArgs {
    /// The config file (YAML); see airflow-kit.example.yaml.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Where the cumulative values.yaml and the deploy key live [default: ./.airflow-kit].
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Do every step that does not touch the cluster; write nothing; print the helm command.
    #[arg(long)]
    pub dry_run: bool,
    /// Do not ask: fail instead of waiting where a person must act.
    #[arg(long)]
    pub yes: bool,
    /// Helm release name [default: airflow].
    #[arg(long, value_name = "NAME")]
    pub release: Option<String>,
    /// Kubernetes namespace [default: airflow].
    #[arg(short = 'n', long, value_name = "NS")]
    pub namespace: Option<String>,
    /// The chart: `apache-airflow/airflow` (default), or a local chart directory or .tgz
    /// (offline: `helm pull apache-airflow/airflow --version V` once, then `--chart ./airflow-V.tgz`).
    #[arg(long, value_name = "CHART")]
    pub chart: Option<String>,
    /// The chart version to pin (unpinned works, with a warning).
    #[arg(long, value_name = "VERSION")]
    pub chart_version: Option<String>,
    /// The chart repository URL [default: https://airflow.apache.org].
    #[arg(long, value_name = "URL")]
    pub chart_repo_url: Option<String>,
    /// The DAG repository: SSH (`git@github.com:me/dags.git`, with a deploy key) or HTTPS
    /// (`https://github.com/me/dags.git`: public, or private with `--token-file`).
    #[arg(long, value_name = "URL")]
    pub repo: Option<String>,
    /// The branch git-sync follows.
    #[arg(long, value_name = "BRANCH")]
    pub branch: Option<String>,
    /// The DAG folder inside the repository.
    #[arg(long, value_name = "PATH")]
    pub sub_path: Option<String>,
    /// A private HTTPS repository: the file holding the access token (never passed in argv;
    /// it goes into a Kubernetes Secret that git-sync reads).
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// The user name that goes with `--token-file` [default: git].
    #[arg(long, value_name = "NAME")]
    pub git_user: Option<String>,
    /// Deploy key type for a new key: ed25519 (default) or rsa (4096 bits).
    #[arg(long, value_name = "TYPE")]
    pub key_type: Option<String>,
    /// Where the private deploy key goes: `values` (extraSecrets, as the manual procedure does)
    /// or `manifest` (a separate Secret applied with kubectl, kept out of the Helm release).
    #[arg(long, value_name = "HOW")]
    pub key_as: Option<String>,
    /// Your own values files, merged on top of the cumulative file (repeatable).
    #[arg(short = 'f', long = "values", value_name = "FILE")]
    pub values: Vec<PathBuf>,
    /// A host key fingerprint to trust for a self-hosted Git server (repeatable).
    #[arg(long, value_name = "SHA256:...")]
    pub expect_fingerprint: Vec<String>,
    /// How to reach the UI: `port-forward` (default) or `nodeport`.
    #[arg(long, value_name = "HOW")]
    pub expose: Option<String>,
    /// The NodePort for `--expose nodeport` (30000-32767).
    #[arg(long, value_name = "PORT")]
    pub node_port: Option<String>,
    /// Use MicroK8s' own helm and kubectl (`microk8s helm3`, `microk8s kubectl`) for every
    /// step, and check its addons.
    #[arg(long)]
    pub microk8s: bool,
    /// The kubeconfig file.
    #[arg(long, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context.
    #[arg(long, value_name = "NAME", visible_alias = "context")]
    pub kube_context: Option<String>,
    /// The helm binary to use.
    #[arg(long, value_name = "PATH")]
    pub helm: Option<PathBuf>,
    /// How long to wait for the pods [default: 15m].
    #[arg(long, value_name = "DURATION")]
    pub timeout: Option<String>,
}

/// The deploy key types secret-gen makes.
pub use secret_gen::deploy_key::KeyType;

/// Where the private deploy key goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyAs {
    Values,
    Manifest,
}

/// How the UI is reached. The install owns the service keys both ways: NodePort sets them,
/// port-forward removes what NodePort set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expose {
    PortForward,
    NodePort(u16),
}

/// The range Kubernetes gives NodePorts (the API server's default `--service-node-port-range`).
pub const NODE_PORTS: std::ops::RangeInclusive<u16> = 30000..=32767;

/// Where the chart comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Chart {
    /// `apache-airflow/airflow` from the chart repository.
    Repository { name: String, version: Option<String>, repo_url: String },
    /// A chart directory or .tgz on this machine.
    Local(PathBuf),
}

/// How git-sync (and the access check) reach the DAG repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// SSH with a deploy key and a pinned knownHosts.
    Ssh { key_type: KeyType, key_as: KeyAs, expect_fingerprints: Vec<String> },
    /// HTTPS (or HTTP) without credentials: a public repository.
    Public,
    /// HTTPS with a user and a token read from a file, kept in a Kubernetes Secret.
    Token { user: String, token_file: PathBuf },
}

/// Everything the install needs, resolved and validated once before any step runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub cluster: ClusterArgs,
    pub helm: Option<PathBuf>,
    pub chart: Chart,
    pub repo: String,
    pub url: GitUrl,
    pub branch: String,
    pub sub_path: String,
    pub access: Access,
    pub values: Vec<PathBuf>,
    pub expose: Expose,
    pub timeout: Duration,
    pub state_dir: PathBuf,
    pub dry_run: bool,
    pub yes: bool,
    /// Notes for the user about settings that were given but do not apply.
    pub notes: Vec<String>,
}

impl Settings {
    pub fn values_file(&self) -> PathBuf {
        self.state_dir.join("values.yaml")
    }

    pub fn keys_dir(&self) -> PathBuf {
        self.state_dir.join("keys")
    }

    pub fn key_file(&self) -> PathBuf {
        self.keys_dir().join(defaults::DEPLOY_KEY_NAME)
    }
}

/// What resolving may ask of the person at the terminal: a missing required setting. Tests
/// pass a closure; `None` means nobody can be asked.
pub type Ask<'a> = Option<&'a mut dyn FnMut(&str) -> Option<String>>;

/// The config file, then the flags over it, validated. `ask` is used for a missing required
/// setting when a person is there to answer.
pub fn resolve(args: &InstallArgs, ask: Ask<'_>) -> Result<Settings, Error> {
    let file = match &args.config {
        Some(path) => ConfigFile::read(path)?,
        None => ConfigFile::default(),
    };
    let base_dir = args
        .config
        .as_ref()
        .and_then(|path| path.parent().map(Path::to_path_buf))
        .filter(|dir| !dir.as_os_str().is_empty())
        .unwrap_or_else(|| PathBuf::from("."));
    // A path in the config file is relative to the config file; a flag's, to where you are.
    let from_file = |path: &str| {
        let path = PathBuf::from(path);
        if path.is_absolute() { path } else { base_dir.join(path) }
    };
    let mut notes = Vec::new();
    let mut ask = ask;

    let repo = required(args.repo.clone(), &file, "dags.repo", "--repo", "the DAG repository's URL", &mut ask)?;
    let url = GitUrl::parse(&repo).map_err(|error| match file.location("dags.repo") {
        Some(location) if args.repo.is_none() => error.with_location(location),
        _ => error,
    })?;
    let branch = required(args.branch.clone(), &file, "dags.branch", "--branch", "the branch to sync", &mut ask)?;
    let sub_path = required(
        args.sub_path.clone(),
        &file,
        "dags.subPath",
        "--sub-path",
        "the DAG folder inside the repository",
        &mut ask,
    )?;
    let sub_path = sub_path.trim_matches('/').to_string();
    if sub_path.split('/').any(|part| part == "..") {
        return Err(Error::bad_input(format!("the DAG folder `{sub_path}` leaves the repository"))
            .with_hint("give the folder's path inside the repository, e.g. `dags` or `airflow/dags`"));
    }

    let key_type = choice(args.key_type.as_deref(), &file, "deployKey.type", "--key-type", &["ed25519", "rsa"])?;
    let key_as = choice(args.key_as.as_deref(), &file, "deployKey.as", "--key-as", &["values", "manifest"])?;
    let mut expect_fingerprints = file.list("knownHosts.expectFingerprints");
    expect_fingerprints.extend(args.expect_fingerprint.iter().cloned());
    let token_file = args.token_file.clone().or_else(|| file.text("dags.tokenFile").map(|p| from_file(&p)));
    let git_user = args.git_user.clone().or_else(|| file.text("dags.user"));

    let access = match url.transport {
        Transport::Ssh => {
            if token_file.is_some() {
                return Err(Error::bad_input(format!("`{repo}` is an SSH URL, but a token file is given"))
                    .with_hint("SSH uses a deploy key (made for you); a token is for an `https://` URL"));
            }
            Access::Ssh {
                key_type: if key_type.as_deref() == Some("rsa") { KeyType::Rsa } else { KeyType::Ed25519 },
                key_as: if key_as.as_deref() == Some("manifest") { KeyAs::Manifest } else { KeyAs::Values },
                expect_fingerprints,
            }
        }
        Transport::Https | Transport::Http => {
            if !expect_fingerprints.is_empty() || args.key_type.is_some() {
                notes.push(format!(
                    "`{repo}` is not SSH: host key fingerprints and the deploy key type do not apply, ignored"
                ));
            }
            match token_file {
                Some(token_file) => Access::Token { user: git_user.unwrap_or_else(|| "git".into()), token_file },
                None => Access::Public,
            }
        }
        other => {
            return Err(Error::bad_input(format!(
                "`{repo}` uses {}, which git-sync in the cluster cannot reach with a deploy key or token",
                other.name()
            ))
            .with_hint("use the repository's SSH URL (`git@host:owner/repo.git`) or its HTTPS URL"));
        }
    };

    let expose = expose(args, &file)?;
    let timeout_text = args.timeout.clone().or_else(|| file.text("timeout"));
    let timeout = match &timeout_text {
        Some(text) => duration::parse(text).map_err(|error| match file.location("timeout") {
            Some(location) if args.timeout.is_none() => error.with_location(location),
            _ => error,
        })?,
        None => duration::parse(defaults::WAIT_TIMEOUT)?,
    };

    let chart = chart(args, &file, &from_file)?;
    let cluster = ClusterArgs {
        kubeconfig: args.kubeconfig.clone().or_else(|| file.text("cluster.kubeconfig").map(|p| from_file(&p))),
        kube_context: args.kube_context.clone().or_else(|| file.text("cluster.context")),
        microk8s: args.microk8s || file.flag("cluster.microk8s").unwrap_or(false),
        namespace: args
            .namespace
            .clone()
            .or_else(|| file.text("namespace"))
            .unwrap_or_else(|| defaults::NAMESPACE.into()),
        release: args.release.clone().or_else(|| file.text("release")).unwrap_or_else(|| defaults::RELEASE.into()),
    };
    for (what, name) in [("namespace", &cluster.namespace), ("release", &cluster.release)] {
        check_dns_label(what, name)?;
    }
    let mut values: Vec<PathBuf> = file.list("values").iter().map(|p| from_file(p)).collect();
    values.extend(args.values.iter().cloned());
    for path in &values {
        if !path.is_file() {
            return Err(Error::bad_input(format!("the values file `{}` does not exist", path.display()))
                .with_hint("check the path (paths in the config file are relative to the config file)"));
        }
    }
    Ok(Settings {
        cluster,
        helm: args.helm.clone().or_else(|| file.text("cluster.helm").map(|p| from_file(&p))),
        chart,
        repo,
        url,
        branch,
        sub_path,
        access,
        values,
        expose,
        timeout,
        state_dir: args
            .state_dir
            .clone()
            .or_else(|| file.text("stateDir").map(|p| from_file(&p)))
            .unwrap_or_else(|| PathBuf::from(".airflow-kit")),
        dry_run: args.dry_run,
        yes: args.yes,
        notes,
    })
}

/// A required text setting: the flag, else the config key, else asked by name, else an
/// error naming both.
fn required(
    flag: Option<String>,
    file: &ConfigFile,
    key: &str,
    flag_name: &str,
    what: &str,
    ask: &mut Ask<'_>,
) -> Result<String, Error> {
    if let Some(value) = flag.or_else(|| file.text(key)).filter(|v| !v.trim().is_empty()) {
        return Ok(value.trim().to_string());
    }
    if let Some(ask) = ask.as_mut()
        && let Some(answer) = ask(&format!("{what} ({flag_name})")).filter(|a| !a.trim().is_empty())
    {
        return Ok(answer.trim().to_string());
    }
    Err(Error::bad_input(format!("missing {what}"))
        .with_hint(format!("pass `{flag_name}` or set `{key}` in the config file")))
}

/// One of a few words: the flag, else the config key; None when neither is given.
fn choice(
    flag: Option<&str>,
    file: &ConfigFile,
    key: &str,
    flag_name: &str,
    allowed: &[&str],
) -> Result<Option<String>, Error> {
    let (value, location) = match flag {
        Some(value) => (value.to_string(), None),
        None => match file.text(key) {
            Some(value) => (value, file.location(key)),
            None => return Ok(None),
        },
    };
    if allowed.contains(&value.as_str()) {
        return Ok(Some(value));
    }
    let what = if location.is_some() { format!("`{key}`") } else { format!("`{flag_name}`") };
    let mut error = Error::bad_input(format!("{what} must be {}, not `{value}`", one_of(allowed)));
    if let Some(location) = location {
        error = error.with_location(location);
    }
    Err(match suggest::closest(&value, allowed.iter().copied()) {
        Some(close) => error.with_hint(format!("did you mean `{close}`?")),
        None => error.with_hint(format!("use {}", one_of(allowed))),
    })
}

fn one_of(words: &[&str]) -> String {
    let quoted: Vec<String> = words.iter().map(|w| format!("`{w}`")).collect();
    quoted.join(" or ")
}

fn expose(args: &InstallArgs, file: &ConfigFile) -> Result<Expose, Error> {
    let kind = choice(args.expose.as_deref(), file, "expose.kind", "--expose", &["port-forward", "nodeport"])?;
    let (port_text, port_location) = match &args.node_port {
        Some(port) => (Some(port.clone()), None),
        None => (file.text("expose.nodePort"), file.location("expose.nodePort")),
    };
    // `--node-port` alone means NodePort; an explicit `--expose port-forward` wins over a
    // NodePort left in the config file, which is how a user switches back.
    let kind = kind.unwrap_or_else(|| if port_text.is_some() { "nodeport".into() } else { "port-forward".into() });
    if kind == "port-forward" {
        return Ok(Expose::PortForward);
    }
    let Some(text) = port_text else {
        return Err(Error::bad_input("`--expose nodeport` needs a port")
            .with_hint("add `--node-port 30080` (any free port in 30000-32767)"));
    };
    let port = text.trim().parse::<u16>().ok().filter(|port| NODE_PORTS.contains(port));
    let Some(port) = port else {
        let error = Error::bad_input(format!("the NodePort `{text}` is outside the range Kubernetes allows (30000-32767)"))
            .with_hint("pick a free port in 30000-32767, e.g. `--node-port 30080`; to serve on port 80, put an ingress or a load balancer in front");
        return Err(match port_location {
            Some(location) => error.with_location(location),
            None => error,
        });
    };
    Ok(Expose::NodePort(port))
}

fn chart(args: &InstallArgs, file: &ConfigFile, from_file: &dyn Fn(&str) -> PathBuf) -> Result<Chart, Error> {
    let version = args.chart_version.clone().or_else(|| file.text("chart.version"));
    let repo_url = args
        .chart_repo_url
        .clone()
        .or_else(|| file.text("chart.repoUrl"))
        .unwrap_or_else(|| defaults::CHART_REPO_URL.into());
    let (name, in_file) = match (&args.chart, file.text("chart.name")) {
        (Some(name), _) => (name.clone(), false),
        (None, Some(name)) => (name, true),
        (None, None) => (defaults::CHART.to_string(), false),
    };
    let looks_local = name.starts_with('.')
        || name.starts_with('/')
        || name.starts_with('~')
        || name.ends_with(".tgz")
        || name.matches('/').count() != 1 && !name.contains("://");
    let path = if in_file { from_file(&name) } else { PathBuf::from(&name) };
    if path.exists() || looks_local {
        if !path.exists() {
            return Err(Error::bad_input(format!("the chart `{}` does not exist", path.display())).with_hint(
                "give a chart directory or .tgz (`helm pull apache-airflow/airflow --version 1.20.0` makes one), or `apache-airflow/airflow`",
            ));
        }
        if version.is_some() {
            return Err(Error::bad_input("`--chart-version` is for a chart from the repository, not a local chart")
                .with_hint("a local chart's version is the one in its Chart.yaml; drop `--chart-version`"));
        }
        return Ok(Chart::Local(path));
    }
    Ok(Chart::Repository { name, version, repo_url })
}

/// Release and namespace names go into Kubernetes object names: lowercase DNS labels.
fn check_dns_label(what: &str, name: &str) -> Result<(), Error> {
    let valid = !name.is_empty()
        && name.len() <= 53
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    if valid {
        return Ok(());
    }
    Err(Error::bad_input(format!("the {what} `{name}` is not a valid Kubernetes name"))
        .with_hint("use lowercase letters, digits and `-`, at most 53 characters, e.g. `airflow`"))
}

/// The shape of the config file: every key it may hold and what kind of value.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Text,
    Bool,
    List,
    Map(&'static [(&'static str, Kind)]),
}

const SHAPE: &[(&str, Kind)] = &[
    ("release", Kind::Text),
    ("namespace", Kind::Text),
    ("chart", Kind::Map(&[("name", Kind::Text), ("version", Kind::Text), ("repoUrl", Kind::Text)])),
    (
        "dags",
        Kind::Map(&[
            ("repo", Kind::Text),
            ("branch", Kind::Text),
            ("subPath", Kind::Text),
            ("user", Kind::Text),
            ("tokenFile", Kind::Text),
        ]),
    ),
    ("deployKey", Kind::Map(&[("type", Kind::Text), ("as", Kind::Text)])),
    ("knownHosts", Kind::Map(&[("expectFingerprints", Kind::List)])),
    ("values", Kind::List),
    ("expose", Kind::Map(&[("kind", Kind::Text), ("nodePort", Kind::Text)])),
    (
        "cluster",
        Kind::Map(&[
            ("microk8s", Kind::Bool),
            ("kubeconfig", Kind::Text),
            ("context", Kind::Text),
            ("helm", Kind::Text),
        ]),
    ),
    ("timeout", Kind::Text),
    ("stateDir", Kind::Text),
];

/// A setting read from the config file, with where it was written.
#[derive(Debug, Clone)]
enum Setting {
    Text(String),
    Bool(bool),
    List(Vec<String>),
}

/// The config file, checked against [`SHAPE`]: settings by dotted key.
#[derive(Debug, Default)]
struct ConfigFile {
    settings: BTreeMap<String, (Setting, Option<Location>)>,
}

impl ConfigFile {
    fn read(path: &Path) -> Result<ConfigFile, Error> {
        let document = Document::read(&Input::Path(path.to_path_buf()))?;
        let name = path.display().to_string();
        let mut file = ConfigFile::default();
        if document.root.is_null() {
            return Ok(file);
        }
        file.walk(&document.root, SHAPE, "", &name)?;
        Ok(file)
    }

    fn walk(&mut self, node: &Node, shape: &[(&str, Kind)], prefix: &str, file: &str) -> Result<(), Error> {
        let Some(mapping) = node.as_mapping() else {
            let what = if prefix.is_empty() { "the config file".to_string() } else { format!("`{prefix}`") };
            return Err(located(Error::bad_input(format!("{what} must be a mapping of settings")), node, file)
                .with_hint("see airflow-kit.example.yaml for the layout"));
        };
        for (key, entry) in &mapping.entries {
            let path = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
            let place = entry.key_span.map(|span| Location {
                file: file.into(),
                line: span.start.line,
                column: span.start.column,
            });
            let Some((_, kind)) = shape.iter().find(|(name, _)| name == key) else {
                let known = shape.iter().map(|(name, _)| *name);
                let hint = match suggest::closest(key, known) {
                    Some(close) => format!(
                        "did you mean `{}`?",
                        if prefix.is_empty() { close.to_string() } else { format!("{prefix}.{close}") }
                    ),
                    None => format!(
                        "the keys here are {}; see airflow-kit.example.yaml",
                        shape.iter().map(|(name, _)| format!("`{name}`")).collect::<Vec<_>>().join(", ")
                    ),
                };
                let mut error = Error::bad_input(format!("unknown setting `{path}`")).with_hint(hint);
                if let Some(place) = place {
                    error = error.with_location(place);
                }
                return Err(error);
            };
            let value = &entry.value;
            if value.is_null() {
                continue;
            }
            let setting = match kind {
                Kind::Map(inner) => {
                    self.walk(value, inner, &path, file)?;
                    continue;
                }
                Kind::Text => Setting::Text(text_of(value, &path, file)?),
                Kind::Bool => match value.as_bool() {
                    Some(flag) => Setting::Bool(flag),
                    None => {
                        return Err(located(Error::bad_input(format!("`{path}` must be true or false")), value, file)
                            .with_hint("write `true` or `false` (YAML 1.1's `yes`/`no`/`on`/`off` work too)"));
                    }
                },
                Kind::List => match value.as_sequence() {
                    Some(items) => {
                        Setting::List(items.iter().map(|item| text_of(item, &path, file)).collect::<Result<_, _>>()?)
                    }
                    None => {
                        return Err(located(Error::bad_input(format!("`{path}` must be a list")), value, file)
                            .with_hint(format!("write it as `{key}: [a, b]` or one `- item` per line")));
                    }
                },
            };
            let location =
                value.span.map(|span| Location { file: file.into(), line: span.start.line, column: span.start.column });
            self.settings.insert(path, (setting, location));
        }
        Ok(())
    }

    fn text(&self, key: &str) -> Option<String> {
        match self.settings.get(key) {
            Some((Setting::Text(text), _)) => Some(text.clone()),
            _ => None,
        }
    }

    fn flag(&self, key: &str) -> Option<bool> {
        match self.settings.get(key) {
            Some((Setting::Bool(flag), _)) => Some(*flag),
            _ => None,
        }
    }

    fn list(&self, key: &str) -> Vec<String> {
        match self.settings.get(key) {
            Some((Setting::List(items), _)) => items.clone(),
            _ => Vec::new(),
        }
    }

    fn location(&self, key: &str) -> Option<Location> {
        self.settings.get(key).and_then(|(_, location)| location.clone())
    }
}

/// A scalar setting as text. A plain `yes` or `on` is a boolean to YAML 1.1 (and so to Helm
/// and to us): refused where text is expected, with the quoting that fixes it.
fn text_of(node: &Node, path: &str, file: &str) -> Result<String, Error> {
    let Some(scalar) = node.as_scalar() else {
        return Err(located(
            Error::bad_input(format!("`{path}` must be a single value, not a list or mapping")),
            node,
            file,
        )
        .with_hint("see airflow-kit.example.yaml for the layout"));
    };
    match node.resolved() {
        Some(Resolved::Bool(_)) => Err(located(
            Error::bad_input(format!("`{path}` is `{}`, which YAML reads as a boolean", scalar.text)),
            node,
            file,
        )
        .with_hint(format!("quote it if you mean the word: `\"{}\"`", scalar.text))),
        _ => Ok(scalar.text.clone()),
    }
}

fn located(error: Error, node: &Node, file: &str) -> Error {
    match node.span {
        Some(span) => {
            error.with_location(Location { file: file.into(), line: span.start.line, column: span.start.column })
        }
        None => error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(flags: &[&str]) -> InstallArgs {
        #[derive(clap::Parser)]
        struct Cli {
            #[command(flatten)]
            args: InstallArgs,
        }
        use clap::Parser;
        Cli::try_parse_from(std::iter::once("install").chain(flags.iter().copied())).expect("flags parse").args
    }

    const BASE: &[&str] = &["--repo", "git@github.com:me/dags.git", "--branch", "main", "--sub-path", "dags"];

    fn with_base(flags: &[&str]) -> InstallArgs {
        let mut all = BASE.to_vec();
        all.extend_from_slice(flags);
        args(&all)
    }

    fn config(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("airflow-kit.yaml");
        std::fs::write(&path, text).expect("write config");
        (dir, path)
    }

    fn resolve_config(text: &str, flags: &[&str]) -> Result<Settings, Error> {
        let (_dir, path) = config(text);
        let mut all = vec!["--config", path.to_str().expect("utf-8")];
        all.extend_from_slice(flags);
        resolve(&args(&all), None)
    }

    #[test]
    fn defaults() {
        let settings = resolve(&with_base(&[]), None).expect("resolves");
        assert_eq!(settings.cluster, ClusterArgs::default());
        assert_eq!(
            settings.chart,
            Chart::Repository {
                name: "apache-airflow/airflow".into(),
                version: None,
                repo_url: defaults::CHART_REPO_URL.into()
            }
        );
        assert_eq!(
            settings.access,
            Access::Ssh { key_type: KeyType::Ed25519, key_as: KeyAs::Values, expect_fingerprints: vec![] }
        );
        assert_eq!(settings.expose, Expose::PortForward);
        assert_eq!(settings.timeout, Duration::from_secs(900));
        assert_eq!(settings.values_file(), PathBuf::from(".airflow-kit/values.yaml"));
    }

    #[test]
    fn unknown_config_key_is_refused_with_did_you_mean_and_its_place() {
        let error = resolve_config("release: airflow\nnamspace: data\n", &[]).expect_err("unknown key");
        assert_eq!(error.code, airflow_kit_core::ExitCode::BadInput);
        assert_eq!(error.message, "unknown setting `namspace`");
        assert_eq!(error.hint.as_deref(), Some("did you mean `namespace`?"));
        let location = error.location.expect("location");
        assert_eq!((location.line, location.column), (2, 1));

        let nested = resolve_config("dags:\n  subpath: dags\n", &[]).expect_err("unknown nested key");
        assert_eq!(nested.message, "unknown setting `dags.subpath`");
        assert_eq!(nested.hint.as_deref(), Some("did you mean `dags.subPath`?"));
    }

    #[test]
    fn booleans_follow_yaml_1_1() {
        let base = "dags: {repo: 'git@github.com:me/dags.git', branch: main, subPath: dags}\n";
        for (text, expected) in [("yes", true), ("on", true), ("true", true), ("no", false), ("off", false)] {
            let settings = resolve_config(&format!("{base}cluster:\n  microk8s: {text}\n"), &[]).expect("resolves");
            assert_eq!(settings.cluster.microk8s, expected, "microk8s: {text}");
        }
        let error = resolve_config(&format!("{base}cluster:\n  microk8s: maybe\n"), &[]).expect_err("not a bool");
        assert_eq!(error.message, "`cluster.microk8s` must be true or false");
        let error = resolve_config(&format!("{base}namespace: no\n"), &[]).expect_err("a boolean as text");
        assert!(error.hint.expect("hint").contains("\"no\""));
    }

    #[test]
    fn invalid_settings_are_refused_before_anything_runs() {
        for (flags, message) in [
            (&["--timeout", "90"][..], "`90` is not a duration"),
            (&["--timeout", "soon"][..], "`soon` is not a duration"),
            (&["--key-type", "dsa"][..], "`--key-type` must be `ed25519` or `rsa`, not `dsa`"),
            (&["--key-as", "file"][..], "`--key-as` must be `values` or `manifest`"),
            (&["--expose", "nodeport", "--node-port", "80"][..], "the NodePort `80` is outside"),
            (&["--node-port", "32768"][..], "the NodePort `32768` is outside"),
            (&["--expose", "nodeport"][..], "`--expose nodeport` needs a port"),
            (&["--expose", "loadbalancer"][..], "`--expose` must be"),
            (&["--release", "Airflow"][..], "the release `Airflow` is not a valid Kubernetes name"),
            (&["--chart", "./nowhere.tgz"][..], "the chart `./nowhere.tgz` does not exist"),
            (&["-f", "/nonexistent/mine.yaml"][..], "the values file `/nonexistent/mine.yaml` does not exist"),
        ] {
            let error = resolve(&with_base(flags), None).expect_err(message);
            assert_eq!(error.code, airflow_kit_core::ExitCode::BadInput, "{flags:?}");
            assert!(error.message.starts_with(message), "{flags:?}: {}", error.message);
            assert!(error.hint.is_some(), "{flags:?} has no hint");
        }
        let error =
            resolve_config("timeout: 90\ndags: {repo: 'git@github.com:me/d.git', branch: main, subPath: d}\n", &[])
                .expect_err("config timeout");
        assert_eq!(error.location.map(|l| l.line), Some(1));
    }

    #[test]
    fn exposure_both_ways() {
        let nodeport = resolve(&with_base(&["--expose", "nodeport", "--node-port", "30080"]), None).expect("resolves");
        assert_eq!(nodeport.expose, Expose::NodePort(30080));
        assert_eq!(
            resolve(&with_base(&["--node-port", "30080"]), None).expect("resolves").expose,
            Expose::NodePort(30080)
        );
        let base = "dags: {repo: 'git@github.com:me/d.git', branch: main, subPath: d}\n";
        let file = format!("{base}expose:\n  kind: nodeport\n  nodePort: 30080\n");
        assert_eq!(resolve_config(&file, &[]).expect("resolves").expose, Expose::NodePort(30080));
        assert_eq!(resolve_config(&file, &["--expose", "port-forward"]).expect("resolves").expose, Expose::PortForward);
    }

    #[test]
    fn https_repositories_public_or_with_a_token() {
        let public = resolve(
            &args(&["--repo", "https://github.com/me/dags.git", "--branch", "main", "--sub-path", "dags"]),
            None,
        )
        .expect("resolves");
        assert_eq!(public.access, Access::Public);
        let token = resolve(
            &args(&[
                "--repo",
                "https://github.com/me/dags.git",
                "--branch",
                "main",
                "--sub-path",
                "d",
                "--token-file",
                "t",
            ]),
            None,
        )
        .expect("resolves");
        assert_eq!(token.access, Access::Token { user: "git".into(), token_file: PathBuf::from("t") });
        let error = resolve(&with_base(&["--token-file", "t"]), None).expect_err("token with ssh");
        assert!(error.message.contains("SSH URL"), "{}", error.message);
    }

    #[test]
    fn missing_required_settings_are_asked_for_by_name_or_named() {
        let error = resolve(&args(&["--branch", "main", "--sub-path", "dags"]), None).expect_err("missing repo");
        assert_eq!(error.message, "missing the DAG repository's URL");
        assert!(error.hint.expect("hint").contains("`--repo`"));
        let mut asked = Vec::new();
        let mut answer = |question: &str| {
            asked.push(question.to_string());
            Some("git@github.com:me/dags.git".to_string())
        };
        let settings =
            resolve(&args(&["--branch", "main", "--sub-path", "dags"]), Some(&mut answer)).expect("resolves");
        assert_eq!(settings.repo, "git@github.com:me/dags.git");
        assert_eq!(asked, ["the DAG repository's URL (--repo)"]);
    }

    #[test]
    fn config_paths_are_relative_to_the_config_file_and_flags_win() {
        let (dir, path) = config(
            "release: from-file\ndags:\n  repo: git@github.com:me/dags.git\n  branch: main\n  subPath: dags\nstateDir: state\n",
        );
        let settings = resolve(&args(&["--config", path.to_str().expect("utf-8"), "--release", "from-flag"]), None)
            .expect("resolves");
        assert_eq!(settings.cluster.release, "from-flag");
        assert_eq!(settings.state_dir, dir.path().join("state"));
    }

    #[test]
    fn the_example_config_resolves() {
        let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../airflow-kit.example.yaml");
        let settings =
            resolve(&args(&["--config", example.to_str().expect("utf-8")]), None).expect("the example resolves");
        assert_eq!(settings.repo, "git@github.com:me/dags.git");
        assert_eq!(
            settings.chart,
            Chart::Repository {
                name: "apache-airflow/airflow".into(),
                version: Some("1.20.0".into()),
                repo_url: defaults::CHART_REPO_URL.into()
            }
        );
    }
}
