//! The `secret-gen` command line: flags in, a values document out on stdout, notes on stderr.

use std::time::Duration;

use airflow_kit_core::{Document, Error, ExitCode, Input, cli};
use clap::Parser;
use secret_gen::cli::{AirflowArg, Cli, Command, DeployKeyArgs, SecretsArgs, TypeArg};
use secret_gen::deploy_key;
use secret_gen::from_cluster::{self, ClusterConfig, LiveSecrets};
use secret_gen::input::{input_from_arg, read_values};
use secret_gen::{AirflowMajor, DeployKeyConfig, KeyType, Rotate, SecretsConfig, TOOL};

/// Where `--from-cluster` reads the live Secrets: a file (`--from-secrets`) or kubectl.
enum Source {
    File(Input),
    Kubectl(ClusterConfig),
}

/// How long the one `kubectl get secrets` may take before it is stopped.
const KUBECTL_TIMEOUT: Duration = Duration::from_secs(60);

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
        airflow: args.airflow.map(|major| match major {
            AirflowArg::Two => AirflowMajor::Two,
            AirflowArg::Three => AirflowMajor::Three,
        }),
        credentials: args.credentials,
        rotate: args.rotate.iter().map(|name| Rotate::parse(name)).collect::<Result<_, _>>()?,
    };
    config.validate()?;
    let input = input_from_arg(args.input.as_deref());
    if args.from_cluster || args.from_secrets.is_some() {
        return run_from_cluster(args, &config, &input);
    }
    let mut document = read_document(&input)?;
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
            namespace: args.cluster.namespace.clone(),
            kubeconfig: args.cluster.kubeconfig.clone(),
            context: args.cluster.kube_context.clone(),
            program: airflow_kit_core::process::find_kubectl(
                args.cluster.microk8s,
                airflow_kit_core::process::find_on_path,
            )
                .map_err(|error| {
                    let hint = error.hint.clone().unwrap_or_default();
                    error.with_hint(format!(
                        "{hint}\noffline, give the Secrets as a file: `kubectl get secrets -n NAMESPACE -o json > secrets.json`, then `--from-secrets secrets.json`"
                    ))
                })?,
            timeout: KUBECTL_TIMEOUT,
        }),
    };
    let mut document = read_document(input)?;
    // A file the user gave is bad input (exit 2) when it is not a Secret list; kubectl's own
    // output stays external (exit 3).
    let from_file = |error: Error| Error { code: ExitCode::BadInput, ..error };
    let live = match &source {
        Source::File(Input::Path(path)) => {
            let text = airflow_kit_core::yaml::read_text_file(path)?;
            LiveSecrets::parse(text.as_bytes(), &path.display().to_string()).map_err(from_file)?
        }
        Source::File(Input::Stdin) => {
            LiveSecrets::parse(cli::read_stdin("a Secret list (JSON)")?.as_bytes(), "stdin").map_err(from_file)?
        }
        Source::Kubectl(cluster) => from_cluster::read_live_secrets(cluster)?,
    };
    let pinned = from_cluster::pin_from_cluster(&mut document.root, &live, &args.cluster.release, config.airflow)?;
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
    let mut document = read_document(&input_from_arg(args.input.as_deref()))?;
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

/// The values document; the note that a FILE did not exist yet goes out at once, so it is
/// said exactly once whatever happens next.
fn read_document(input: &Input) -> Result<Document, Error> {
    let read = read_values(input)?;
    if let Some(note) = &read.note {
        cli::say(TOOL, note);
    }
    Ok(read.document)
}
