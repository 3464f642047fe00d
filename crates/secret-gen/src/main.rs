//! The `secret-gen` command line: flags in, a values document out on stdout, notes on stderr.

use std::path::PathBuf;
use std::sync::LazyLock;
use std::time::Duration;

use airflow_kit_core::error::EXIT_CODES_HELP;
use airflow_kit_core::{Document, Error, ExitCode, Input, cli};
use clap::{ArgGroup, Args, Parser, Subcommand, ValueEnum};
use secret_gen::deploy_key::{self, DEFAULT_KEY_NAME, DEFAULT_SECRET_NAME};
use secret_gen::from_cluster::{self, ClusterConfig, LiveSecrets};
use secret_gen::{AirflowMajor, DeployKeyConfig, KeyType, Rotate, SecretsConfig, TOOL};

static AFTER_HELP: LazyLock<String> = LazyLock::new(|| {
    format!(
        "Examples:
  secret-gen < values.yaml > pinned.yaml
  secret-gen values.yaml --credentials --rotate fernetKey
  secret-gen < values.yaml | secret-gen deploy-key --dir ~/.airflow/keys \\
      --repo git@github.com:me/dags.git --branch main --sub-path dags
  helm get values airflow -n airflow -o yaml | secret-gen --from-cluster --release airflow
  kubectl get secrets -n airflow -o json > live.json
  secret-gen values.yaml --from-secrets live.json

Secrets already set are kept; only `--rotate NAME` replaces one. Values are never printed on
stderr.

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
      --branch main --sub-path dags < values.yaml > values.new.yaml
  secret-gen deploy-key --dir keys --as-manifest secret.yaml < values.yaml > values.new.yaml \\
      && kubectl apply -n airflow -f secret.yaml

An existing key pair in DIR is reused; a different one is refused (exit 4) unless `--rotate`
moves the old pair aside. The public key and where to paste it are printed on stderr.

{EXIT_CODES_HELP}"
    )
});

/// Pins every secret the Airflow Helm chart would otherwise randomize on each render
/// (webserverSecretKey or apiSecretKey + jwtSecret, fernetKey, redis.password), and writes the
/// SSH deploy key for git-sync. Reads a values document, writes the whole document to stdout.
#[derive(Parser)]
#[command(name = "secret-gen", version, args_conflicts_with_subcommands = true, after_help = AFTER_HELP.as_str())]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    secrets: SecretsArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Writes (or reuses) an SSH deploy key and sets dags.gitSync and extraSecrets for it.
    #[command(after_help = DEPLOY_KEY_AFTER_HELP.as_str())]
    DeployKey(DeployKeyArgs),
}

#[derive(Args)]
#[command(group(ArgGroup::new("cluster_source").args(["from_cluster", "from_secrets"]).multiple(true)))]
struct SecretsArgs {
    /// The values document to read (`-` or nothing: stdin).
    #[arg(value_name = "FILE|-")]
    input: Option<String>,
    /// The Airflow major version, when the document has no `airflowVersion`/`defaultAirflowTag`.
    /// Without either, the keys of both versions are set.
    #[arg(long, value_name = "2|3", value_parser = ["2", "3"])]
    airflow: Option<String>,
    /// Also replace the default UI admin password and the default `postgres` database password.
    #[arg(long)]
    credentials: bool,
    /// Replace this secret even though it is set (repeatable): webserverSecretKey, apiSecretKey,
    /// jwtSecret, fernetKey, redis.password, webserver.defaultUser.password,
    /// createUserJob.defaultUser.password.
    #[arg(long, value_name = "NAME")]
    rotate: Vec<String>,
    /// Pin the secrets the chart generated to the values the live Secrets hold (read with
    /// `kubectl get secrets -o json`), instead of generating missing ones.
    #[arg(long, help_heading = "Adopting a running release")]
    from_cluster: bool,
    /// Read the live Secrets from FILE, the output of `kubectl get secrets -n NS -o json`,
    /// instead of running kubectl (implies `--from-cluster`).
    #[arg(long, value_name = "FILE", help_heading = "Adopting a running release")]
    from_secrets: Option<PathBuf>,
    /// The Helm release whose Secrets are read.
    #[arg(
        long,
        value_name = "R",
        default_value = "airflow",
        requires = "cluster_source",
        help_heading = "Adopting a running release"
    )]
    release: String,
    /// The release's namespace.
    #[arg(
        short = 'n',
        long,
        value_name = "NS",
        default_value = "airflow",
        requires = "cluster_source",
        help_heading = "Adopting a running release"
    )]
    namespace: String,
    /// The kubeconfig file kubectl uses (kubectl's default when not given).
    #[arg(
        long,
        value_name = "PATH",
        requires = "from_cluster",
        conflicts_with = "from_secrets",
        help_heading = "Adopting a running release"
    )]
    kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use.
    #[arg(
        long,
        value_name = "NAME",
        requires = "from_cluster",
        conflicts_with = "from_secrets",
        help_heading = "Adopting a running release"
    )]
    context: Option<String>,
    /// Use `microk8s kubectl` [default: `kubectl` on PATH, else `microk8s kubectl`].
    #[arg(
        long,
        requires = "from_cluster",
        conflicts_with = "from_secrets",
        help_heading = "Adopting a running release"
    )]
    microk8s: bool,
    /// After pinning, also add the secrets still missing (as without `--from-cluster`).
    #[arg(long, requires = "cluster_source", help_heading = "Adopting a running release")]
    fill: bool,
}

/// Where `--from-cluster` reads the live Secrets: a file (`--from-secrets`) or kubectl.
enum Source {
    File(Input),
    Kubectl(ClusterConfig),
}

/// How long the one `kubectl get secrets` may take before it is stopped.
const KUBECTL_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Clone, Copy, ValueEnum)]
enum TypeArg {
    Ed25519,
    Rsa,
}

#[derive(Args)]
struct DeployKeyArgs {
    /// The values document to read (`-` or nothing: stdin).
    #[arg(value_name = "FILE|-")]
    input: Option<String>,
    /// Directory for the key pair (created with mode 0700).
    #[arg(long, value_name = "DIR")]
    dir: PathBuf,
    /// File name of the private key in DIR; the public key is NAME.pub.
    #[arg(long, value_name = "NAME", default_value = DEFAULT_KEY_NAME)]
    name: String,
    /// Key type of a new key [default: ed25519]; an existing key of another type is refused.
    #[arg(long = "type", value_enum)]
    key_type: Option<TypeArg>,
    /// RSA key size (with `--type rsa`) [default: 4096].
    #[arg(long)]
    bits: Option<usize>,
    /// Comment stored in a new key (shown next to the public key).
    #[arg(long, value_name = "EMAIL", default_value = "airflow-deploy-key")]
    comment: String,
    /// Name of the Kubernetes Secret holding the key (dags.gitSync.sshKeySecret).
    #[arg(long, value_name = "NAME", default_value = DEFAULT_SECRET_NAME)]
    secret_name: String,
    /// The DAG repository's SSH URL (dags.gitSync.repo), like git@github.com:me/dags.git.
    #[arg(long, value_name = "URL")]
    repo: Option<String>,
    /// The branch to sync; also set as dags.gitSync.ref for git-sync v4.
    #[arg(long, value_name = "B")]
    branch: Option<String>,
    /// The DAG folder inside the repository (dags.gitSync.subPath).
    #[arg(long, value_name = "P")]
    sub_path: Option<String>,
    /// Write the key as a Kubernetes Secret manifest to FILE (mode 0600; `-`: stdout, and then
    /// the values are not printed) instead of into the values and the Helm release.
    #[arg(long, value_name = "FILE")]
    as_manifest: Option<PathBuf>,
    /// metadata.namespace of the manifest.
    #[arg(long, short = 'n', value_name = "NS")]
    namespace: Option<String>,
    /// Use this existing private key (validated, then copied into DIR) instead of generating one.
    #[arg(long, value_name = "FILE")]
    key: Option<PathBuf>,
    /// Move an existing pair aside (renamed, never deleted) and use a new key.
    #[arg(long)]
    rotate: bool,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::DeployKey(args)) => run_deploy_key(args),
        None => run_secrets(cli.secrets),
    };
    cli::finish(TOOL, result)
}

fn run_secrets(args: SecretsArgs) -> Result<ExitCode, Error> {
    let config = SecretsConfig {
        airflow: args
            .airflow
            .as_deref()
            .map(|major| if major == "3" { AirflowMajor::Three } else { AirflowMajor::Two }),
        credentials: args.credentials,
        rotate: args.rotate.iter().map(|name| Rotate::parse(name)).collect::<Result<_, _>>()?,
    };
    config.validate()?;
    let input = input(args.input.as_deref());
    if args.from_cluster || args.from_secrets.is_some() {
        return run_from_cluster(args, &config, &input);
    }
    let mut document = Document::read(&input)?;
    let notes = secret_gen::add_secrets(&mut document.root, &config)?;
    let yaml = document.to_yaml();
    for note in notes {
        cli::say(TOOL, &note);
    }
    cli::write_stdout(&yaml)?;
    Ok(ExitCode::Success)
}

/// `--from-cluster` / `--from-secrets`: pin the live values, then (only with `--fill`) add
/// what is still missing. Everything is checked and read before anything is printed.
fn run_from_cluster(args: SecretsArgs, config: &SecretsConfig, input: &Input) -> Result<ExitCode, Error> {
    from_cluster::validate(args.fill, config)?;
    let secrets_file =
        args.from_secrets.map(|path| if path.as_os_str() == "-" { Input::Stdin } else { Input::Path(path) });
    if secrets_file == Some(Input::Stdin) && *input == Input::Stdin {
        return Err(Error::bad_input("`--from-secrets -` and the values document cannot both come from stdin")
            .with_hint("name the values file as an argument, or give the Secret list as a file"));
    }
    // Where the live Secrets come from, resolved (kubectl found) before any input is read.
    let source = match secrets_file {
        Some(file) => Source::File(file),
        None => Source::Kubectl(ClusterConfig {
            namespace: args.namespace.clone(),
            kubeconfig: args.kubeconfig,
            context: args.context,
            program: from_cluster::find_kubectl(args.microk8s, airflow_kit_core::process::find_on_path)?,
            timeout: KUBECTL_TIMEOUT,
        }),
    };
    let mut document = Document::read(input)?;
    let live = match &source {
        Source::File(Input::Path(path)) => {
            let text = airflow_kit_core::yaml::read_text_file(path)?;
            LiveSecrets::parse(text.as_bytes(), &format!("`{}`", path.display()))?
        }
        Source::File(Input::Stdin) => LiveSecrets::parse(cli::read_stdin("a Secret list (JSON)")?.as_bytes(), "stdin")?,
        Source::Kubectl(cluster) => from_cluster::read_live_secrets(cluster)?,
    };
    let pinned = from_cluster::pin_from_cluster(&mut document.root, &live, &args.release, config.airflow)?;
    let mut notes = pinned.notes;
    if args.fill {
        notes.extend(secret_gen::add_secrets(&mut document.root, config)?);
    }
    let yaml = document.to_yaml();
    for line in notes.iter().chain(pinned.warnings.iter()) {
        cli::say(TOOL, line);
    }
    cli::write_stdout(&yaml)?;
    Ok(ExitCode::Success)
}

fn run_deploy_key(args: DeployKeyArgs) -> Result<ExitCode, Error> {
    let config = DeployKeyConfig {
        dir: args.dir,
        name: args.name,
        key_type: args.key_type.map(|key_type| match key_type {
            TypeArg::Ed25519 => KeyType::Ed25519,
            TypeArg::Rsa => KeyType::Rsa,
        }),
        bits: args.bits,
        comment: args.comment,
        secret_name: args.secret_name,
        repo: args.repo,
        branch: args.branch,
        sub_path: args.sub_path,
        manifest: args.as_manifest,
        namespace: args.namespace,
        key: args.key,
        rotate: args.rotate,
    };
    config.validate()?;
    let mut document = Document::read(&input(args.input.as_deref()))?;
    deploy_key::check_document(&document.root, &config)?;
    let in_document = deploy_key::key_in_document(&document.root, &config.secret_name)?;

    let pair = deploy_key::ensure_key_pair(&config, in_document.as_deref())?;
    let mut notes = pair.notes.clone();
    notes.extend(deploy_key::apply_to_values(&mut document.root, &config, &pair.private_bytes)?);
    let yaml = document.to_yaml();
    let mut print_values = true;
    match &config.manifest {
        None => deploy_key::self_test(&yaml, &config, &pair.private_path)?,
        Some(path) => {
            let manifest = deploy_key::manifest(&config.secret_name, config.namespace.as_deref(), &pair.private_bytes)?;
            deploy_key::self_test_manifest(&manifest, &pair.private_path)?;
            if path.as_os_str() == "-" {
                cli::write_stdout(&manifest)?;
                print_values = false;
                notes.push(
                    "printed the Secret manifest; the values were not printed (give `--as-manifest FILE` to get both)"
                        .to_string(),
                );
            } else {
                airflow_kit_core::fs::write_atomic(path, manifest.as_bytes(), 0o600)?;
                notes.push(format!(
                    "wrote the Secret manifest `{}`: apply it with `kubectl apply -f {}` before the Helm upgrade",
                    path.display(),
                    path.display()
                ));
            }
        }
    }
    for note in notes.iter().chain(
        deploy_key::paste_instructions(
            config.repo.as_deref().or_else(|| {
                document.root.get_path(&["dags", "gitSync", "repo"]).and_then(airflow_kit_core::Node::as_str)
            }),
            &pair,
        )
        .iter(),
    ) {
        cli::say(TOOL, note);
    }
    if print_values {
        cli::write_stdout(&yaml)?;
    }
    Ok(ExitCode::Success)
}

fn input(arg: Option<&str>) -> Input {
    arg.map(Input::from_arg).unwrap_or(Input::Stdin)
}
