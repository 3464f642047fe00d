//! The `secret-gen` command line as clap sees it: flags, help and examples. `main.rs` parses
//! with it; `cargo xtask dist` renders the man pages and shell completions from it.

use std::path::PathBuf;
use std::sync::LazyLock;

use airflow_kit_core::cluster::ClusterArgs;
use airflow_kit_core::defaults;
use airflow_kit_core::error::EXIT_CODES_HELP;
use clap::{ArgGroup, Args, CommandFactory, Parser, Subcommand, ValueEnum};

static AFTER_HELP: LazyLock<String> = LazyLock::new(|| {
    format!(
        "Examples:
  secret-gen values.yaml > pinned.yaml
  secret-gen values.yaml --credentials --rotate fernetKey
  set -o pipefail; secret-gen values.yaml | secret-gen deploy-key --dir ~/.airflow/keys \\
      --repo git@github.com:me/dags.git --branch main --sub-path dags \\
      | values-merge --in-place values.yaml -
  helm get values airflow -n airflow -o yaml | secret-gen --from-cluster --release airflow
  kubectl get secrets -n airflow -o json > live.json
  secret-gen values.yaml --from-secrets live.json

Secrets already set are kept; only `--rotate NAME` replaces one. Values are never printed on
stderr. A FILE that does not exist yet (the cumulative values file on a first run) is read as an
empty document, with a note on stderr.

`--from-cluster` adopts a release installed by hand: it pins the secrets the chart generated to
the values the cluster holds now (`<release>-fernet-key`, `-webserver-secret-key`,
`-api-secret-key`, `-jwt-secret`, `-redis-password`, and the database password from
`<release>-airflow-metadata`), so the next upgrade rotates nothing. It generates nothing unless
`--fill` is given. A value the document already sets is kept, with a warning when it differs.

{EXIT_CODES_HELP}"
    )
});

static DEPLOY_KEY_AFTER_HELP: LazyLock<String> = LazyLock::new(|| {
    format!(
        "Examples:
  secret-gen deploy-key --dir ~/.airflow/keys --repo git@github.com:me/dags.git \\
      --branch main --sub-path dags values.yaml > values.new.yaml
  secret-gen deploy-key --dir keys --as-manifest secret.yaml values.yaml > values.new.yaml \\
      && kubectl apply -n airflow -f secret.yaml

An existing key pair in DIR is reused; a different one is refused (exit 4) unless `--rotate`
moves the old pair aside. The public key and where to paste it are printed on stderr.

{EXIT_CODES_HELP}"
    )
});

/// The heading of the flags that only `--from-cluster`/`--from-secrets` use.
const ADOPTING: &str = "Adopting a running release";

/// Pins every secret the Airflow Helm chart would otherwise randomize on each render
/// (webserverSecretKey or apiSecretKey + jwtSecret, fernetKey, redis.password), and writes the
/// SSH deploy key for git-sync. Reads a values document, writes the whole document to stdout.
//
// The cluster flags are core's `ClusterArgs`, declared `global` for tools whose every
// subcommand talks to the cluster. Here only the filter's `--from-cluster` does, so they are
// made local to the filter (deploy-key keeps its own `-n/--namespace`, the manifest's) and keep
// today's rule: meaningful only with `--from-cluster`/`--from-secrets`, refused otherwise.
#[derive(Parser, Clone, Debug, PartialEq)]
#[command(
    name = "secret-gen",
    version,
    args_conflicts_with_subcommands = true,
    after_help = AFTER_HELP.as_str(),
    mut_arg("kubeconfig", |arg| kubectl_only(arg).help("The kubeconfig file kubectl uses [default: kubectl's own: $KUBECONFIG, else ~/.kube/config]")),
    mut_arg("kube_context", kubectl_only),
    mut_arg("microk8s", |arg| kubectl_only(arg).help("Use `microk8s kubectl`, even when `kubectl` is on PATH [default: `kubectl` on PATH, else `microk8s kubectl`]")),
    mut_arg("namespace", |arg| cluster_source_only(arg).help("The release's namespace, whose Secrets are read")),
    mut_arg("release", |arg| cluster_source_only(arg).help("The Helm release whose Secrets are read")),
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub secrets: SecretsArgs,
}

/// `--kubeconfig`, `--kube-context`, `--microk8s`: only when kubectl runs (`--from-cluster`
/// without `--from-secrets`).
fn kubectl_only(arg: clap::Arg) -> clap::Arg {
    arg.global(false).requires("from_cluster").conflicts_with("from_secrets").help_heading(ADOPTING)
}

/// `-n/--namespace`, `--release`: with either source of live Secrets.
fn cluster_source_only(arg: clap::Arg) -> clap::Arg {
    arg.global(false).requires("cluster_source").help_heading(ADOPTING)
}

#[derive(Subcommand, Clone, Debug, PartialEq)]
pub enum Command {
    /// Writes (or reuses) an SSH deploy key and sets dags.gitSync and extraSecrets for it.
    #[command(after_help = DEPLOY_KEY_AFTER_HELP.as_str())]
    DeployKey(DeployKeyArgs),
}

/// The Airflow major version `--airflow` names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum AirflowArg {
    #[value(name = "2")]
    Two,
    #[value(name = "3")]
    Three,
}

#[derive(Args, Clone, Debug, PartialEq, Default)]
#[command(group(ArgGroup::new("cluster_source").args(["from_cluster", "from_secrets"]).multiple(true)))]
pub struct SecretsArgs {
    /// The values document to read (`-` or nothing: stdin). A FILE that does not exist yet is
    /// an empty document (the cumulative file on a first run), with a note on stderr.
    #[arg(value_name = "FILE|-")]
    pub input: Option<String>,
    /// The Airflow major version, when the document has no `airflowVersion`/`defaultAirflowTag`.
    /// Without either, the keys of both versions are set.
    #[arg(long, value_name = "2|3", value_enum)]
    pub airflow: Option<AirflowArg>,
    /// Also replace the default UI admin password and the default `postgres` database password.
    #[arg(long)]
    pub credentials: bool,
    /// Replace this secret even though it is set (repeatable): webserverSecretKey, apiSecretKey,
    /// jwtSecret, fernetKey, redis.password, webserver.defaultUser.password,
    /// createUserJob.defaultUser.password.
    #[arg(long, value_name = "NAME")]
    pub rotate: Vec<String>,
    /// Pin the secrets the chart generated to the values the live Secrets hold (read with
    /// `kubectl get secrets -o json`), instead of generating missing ones.
    #[arg(long, help_heading = ADOPTING)]
    pub from_cluster: bool,
    /// Read the live Secrets from FILE, the output of `kubectl get secrets -n NS -o json`,
    /// instead of running kubectl (implies `--from-cluster`).
    #[arg(long, value_name = "FILE", help_heading = ADOPTING)]
    pub from_secrets: Option<PathBuf>,
    /// Which cluster and release (`--kubeconfig`, `--kube-context`/`--context`, `--microk8s`,
    /// `-n/--namespace`, `--release`): core's cluster flags, used only by `--from-cluster`.
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// After pinning, also add the secrets still missing (as without `--from-cluster`).
    #[arg(long, requires = "cluster_source", help_heading = ADOPTING)]
    pub fill: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TypeArg {
    Ed25519,
    Rsa,
}

#[derive(Args, Clone, Debug, PartialEq)]
pub struct DeployKeyArgs {
    /// The values document to read (`-` or nothing: stdin). A FILE that does not exist yet is
    /// an empty document, with a note on stderr.
    #[arg(value_name = "FILE|-")]
    pub input: Option<String>,
    /// Directory for the key pair (created with mode 0700).
    #[arg(long, value_name = "DIR")]
    pub dir: PathBuf,
    /// File name of the private key in DIR; the public key is NAME.pub.
    #[arg(long, value_name = "NAME", default_value = defaults::DEPLOY_KEY_NAME)]
    pub name: String,
    /// Key type of a new key [default: ed25519]; an existing key of another type is refused.
    #[arg(long = "type", value_enum)]
    pub key_type: Option<TypeArg>,
    /// RSA key size (with `--type rsa`) [default: 4096].
    #[arg(long)]
    pub bits: Option<usize>,
    /// Comment stored in a new key (shown next to the public key).
    #[arg(long, value_name = "EMAIL", default_value = DEFAULT_COMMENT)]
    pub comment: String,
    /// Name of the Kubernetes Secret holding the key (dags.gitSync.sshKeySecret).
    #[arg(long, value_name = "NAME", default_value = defaults::SSH_SECRET_NAME)]
    pub secret_name: String,
    /// The DAG repository's SSH URL (dags.gitSync.repo), like git@github.com:me/dags.git.
    #[arg(long, value_name = "URL")]
    pub repo: Option<String>,
    /// The branch to sync; also set as dags.gitSync.ref for git-sync v4.
    #[arg(long, value_name = "B")]
    pub branch: Option<String>,
    /// The DAG folder inside the repository (dags.gitSync.subPath).
    #[arg(long, value_name = "P")]
    pub sub_path: Option<String>,
    /// Write the key as a Kubernetes Secret manifest to FILE (mode 0600; `-`: stdout, and then
    /// the values are not printed) instead of into the values and the Helm release.
    #[arg(long, value_name = "FILE")]
    pub as_manifest: Option<PathBuf>,
    /// metadata.namespace of the manifest.
    #[arg(long, short = 'n', value_name = "NS")]
    pub namespace: Option<String>,
    /// Use this existing private key (validated, then copied into DIR) instead of generating one.
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
    /// Move an existing pair aside (renamed, never deleted) and use a new key.
    #[arg(long)]
    pub rotate: bool,
}

/// The comment of a generated key when `--comment` is not given.
pub const DEFAULT_COMMENT: &str = "airflow-deploy-key";

/// The whole command line, for man pages and completions.
pub fn command() -> clap::Command {
    Cli::command()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_command_line_is_consistent() {
        // clap checks ids, groups, `requires` and conflicts here, not at parse time.
        super::command().debug_assert();
    }
}
