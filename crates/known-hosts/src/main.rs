//! The `known-hosts` command line: flags into a config, the document in, the document (or a
//! verify report) out, errors to exit codes.

use std::path::PathBuf;

use airflow_kit_core::error::EXIT_CODES_HELP;
use airflow_kit_core::{Document, Error, ExitCode, Input, cli, json_to_yaml};
use clap::{Args, Parser, Subcommand, ValueEnum};
use known_hosts::{KeyKind, KeySource, PinConfig, TargetChoice, VerifyConfig};

const TOOL: &str = "known-hosts";

const AFTER_HELP: &str = "\
Examples:
  secret-gen deploy-key ... | known-hosts | values-merge --in-place values.yaml -
  known-hosts --repo ssh://git@ssh.github.com:443/me/dags.git < values.yaml
  known-hosts git.example.com:2222 --expect-fingerprint SHA256:... < values.yaml
  known-hosts --from github_known_hosts < values.yaml      (offline)
  known-hosts verify values.yaml";

#[derive(Parser)]
#[command(
    name = TOOL,
    version,
    about = "Scan a Git host's SSH keys, accept only published or pinned fingerprints, and write them to dags.gitSync.knownHosts",
    long_about = "Reads a values document on stdin (or -f FILE), finds the Git host from dags.gitSync.repo \
                  (or --repo, or a HOST[:PORT] argument), scans it with ssh-keyscan, accepts a key only when its \
                  SHA256 fingerprint is published by GitHub, GitLab or Bitbucket or given with \
                  --expect-fingerprint, refuses rotated keys by name, and writes the whole document with \
                  dags.gitSync.knownHosts set to the verified lines.",
    after_help = format!("{AFTER_HELP}\n\n{EXIT_CODES_HELP}"),
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    pin: PinArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Check a values document's knownHosts, or a known_hosts file, line by line; print a YAML report.
    #[command(after_help = format!("Example:\n  known-hosts verify values.yaml\n  known-hosts verify ~/.ssh/known_hosts\n\n{EXIT_CODES_HELP}"))]
    Verify(VerifyArgs),
}

#[derive(Args)]
struct PinArgs {
    /// The SSH server to pin, `HOST` or `HOST:PORT` (default: the host of dags.gitSync.repo).
    #[arg(value_name = "HOST[:PORT]")]
    host: Option<String>,
    /// Take the host and port from this git URL instead of dags.gitSync.repo.
    #[arg(long, value_name = "URL", conflicts_with = "host")]
    repo: Option<String>,
    /// Read the values document from FILE instead of stdin (`-` is stdin).
    #[arg(short = 'f', long = "values", value_name = "FILE")]
    values: Option<String>,
    /// Read known_hosts lines from FILE instead of scanning (offline use; `-` is not allowed).
    #[arg(long, value_name = "FILE")]
    from: Option<PathBuf>,
    /// Only these key types (repeatable or comma-separated; default: all three).
    #[arg(long = "type", value_name = "TYPE", value_enum, value_delimiter = ',')]
    types: Vec<KindArg>,
    /// Also accept a key with this fingerprint (repeatable), after checking it out of band.
    #[arg(long, value_name = "SHA256:...")]
    expect_fingerprint: Vec<String>,
    /// Give up on an unreachable host after this long (`10s`, `500ms`, `1m`).
    #[arg(long, default_value = "10s", value_name = "DURATION")]
    timeout: String,
    /// The ssh-keyscan program to run.
    #[arg(long, default_value = "ssh-keyscan", value_name = "PROGRAM", hide = true)]
    ssh_keyscan: String,
}

#[derive(Args)]
struct VerifyArgs {
    /// A values document or a known_hosts file (`-` or none: stdin).
    #[arg(value_name = "FILE|-")]
    file: Option<String>,
    /// Also accept a key with this fingerprint (repeatable).
    #[arg(long, value_name = "SHA256:...")]
    expect_fingerprint: Vec<String>,
}

#[derive(Clone, Copy, ValueEnum)]
enum KindArg {
    Ed25519,
    Ecdsa,
    Rsa,
}

impl From<KindArg> for KeyKind {
    fn from(kind: KindArg) -> KeyKind {
        match kind {
            KindArg::Ed25519 => KeyKind::Ed25519,
            KindArg::Ecdsa => KeyKind::Ecdsa,
            KindArg::Rsa => KeyKind::Rsa,
        }
    }
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::Verify(args)) => run_verify(args),
        None => run_pin(cli.pin),
    };
    cli::finish(TOOL, result)
}

fn run_pin(args: PinArgs) -> Result<ExitCode, Error> {
    let timeout = known_hosts::parse_duration(&args.timeout)?;
    known_hosts::check_expected_fingerprints(&args.expect_fingerprint)?;
    let target = match (args.host, args.repo) {
        (Some(host), _) => TargetChoice::Host(host),
        (None, Some(repo)) => TargetChoice::Repo(repo),
        (None, None) => TargetChoice::Document,
    };
    let keys = match &args.from {
        Some(path) if path.as_os_str() == "-" => {
            return Err(Error::bad_input("`--from -` is not supported: stdin carries the values document")
                .with_hint("save the known_hosts lines to a file and pass `--from FILE`"));
        }
        Some(path) => {
            KeySource::Lines { name: path.display().to_string(), text: airflow_kit_core::yaml::read_text_file(path)? }
        }
        None => KeySource::Scan,
    };
    // A person typing `known-hosts github.com` in a terminal has no document to pipe in;
    // start from an empty one instead of refusing.
    let mut document = match args.values.as_deref() {
        Some(file) => Document::read(&Input::from_arg(file))?,
        None if cli::stdin_is_terminal() && target != TargetChoice::Document => Document::parse("", "<empty>")?,
        None => Document::read(&Input::Stdin)?,
    };
    let config = PinConfig {
        target,
        keys,
        kinds: args.types.into_iter().map(KeyKind::from).collect(),
        expected: args.expect_fingerprint,
        keyscan_program: args.ssh_keyscan.into(),
        timeout,
    };
    let pinned = known_hosts::pin(&config, &mut document.root)?;
    for note in &pinned.notes {
        cli::say(TOOL, note);
    }
    for (key, verdict) in &pinned.keys {
        cli::say(TOOL, &format!("{} {} {}: {}", pinned.host_field, key.key_type, key.fingerprint, verdict.reason()));
    }
    cli::write_stdout(&document.to_yaml())?;
    Ok(ExitCode::Success)
}

fn run_verify(args: VerifyArgs) -> Result<ExitCode, Error> {
    let input = Input::from_arg(args.file.as_deref().unwrap_or("-"));
    let text = match &input {
        Input::Stdin => cli::read_stdin("a values document or known_hosts lines")?,
        Input::Path(path) => airflow_kit_core::yaml::read_text_file(path)?,
    };
    let config = VerifyConfig { expected: args.expect_fingerprint };
    let report = known_hosts::verify(&text, &input.name(), &config)?;
    if let Some(problem) = &report.problem {
        cli::say(TOOL, problem);
    }
    for line in report.lines.iter().filter(|line| !line.accepted) {
        let at = match line.document_line {
            Some(document_line) => format!("line {} (document line {document_line})", line.line),
            None => format!("line {}", line.line),
        };
        cli::say(TOOL, &format!("{}: {at}: {}: {}", report.source, line.verdict, line.reason));
    }
    cli::write_stdout(&json_to_yaml(&report.to_json()))?;
    Ok(report.exit_code())
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn command_line_is_consistent_and_help_ends_with_exit_codes() {
        Cli::command().debug_assert();
        let help = Cli::command().render_long_help().to_string();
        assert!(
            help.trim_end()
                .ends_with("refused for safety (an unverified host key, a secret that would be overwritten)")
        );
        assert!(help.contains("Examples:"));
    }

    #[test]
    fn a_host_named_like_nothing_special_is_the_target() {
        let cli = Cli::try_parse_from(["known-hosts", "github.com", "--type", "ed25519,rsa"]).expect("parses");
        assert!(cli.command.is_none());
        assert_eq!(cli.pin.host.as_deref(), Some("github.com"));
        assert_eq!(cli.pin.types.len(), 2);
        assert!(Cli::try_parse_from(["known-hosts", "github.com", "--repo", "git@github.com:a/b"]).is_err());
    }
}
