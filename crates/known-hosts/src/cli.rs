//! The `known-hosts` command line as clap sees it: flags, help and examples. `main.rs` parses
//! with it; `cargo xtask dist` renders the man pages and shell completions from it.

use std::path::PathBuf;
use std::time::Duration;

use airflow_kit_core::error::EXIT_CODES_HELP;
use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};

use crate::KeyKind;

/// The name every stderr line starts with.
pub const TOOL: &str = "known-hosts";

const AFTER_HELP: &str = "\
Examples:
  secret-gen deploy-key ... | known-hosts | values-merge --in-place values.yaml -
  known-hosts --repo ssh://git@ssh.github.com:443/me/dags.git < values.yaml
  known-hosts git.example.com:2222 --expect-fingerprint SHA256:... < values.yaml
  known-hosts --from github_known_hosts < values.yaml      (offline)
  known-hosts verify values.yaml";

#[derive(Parser, Clone, Debug, PartialEq)]
#[command(
    name = TOOL,
    version,
    about = "Scan a Git host's SSH keys, accept only published or pinned fingerprints, and write them to dags.gitSync.knownHosts",
    long_about = "Reads a values document on stdin (or -f FILE), finds the Git host from dags.gitSync.repo \
                  (or --repo, or a HOST[:PORT] argument), scans it with ssh-keyscan, accepts a key only when its \
                  SHA256 fingerprint is published by GitHub, GitLab or Bitbucket or given with \
                  --expect-fingerprint, refuses rotated keys by name, and writes the whole document with \
                  dags.gitSync.knownHosts set to the verified lines. Keys neither published nor expected are \
                  left out and named on stderr; with none verified nothing is written (exit 4). An https:// or \
                  http:// repository has no SSH host key: the document passes through unchanged.",
    after_help = format!("{AFTER_HELP}\n\n{EXIT_CODES_HELP}"),
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub pin: PinArgs,
}

#[derive(Subcommand, Clone, Debug, PartialEq)]
pub enum Command {
    /// Check a values document's knownHosts, or a known_hosts file, line by line; print a YAML report.
    #[command(after_help = format!("Example:\n  known-hosts verify values.yaml\n  known-hosts verify --repo git@github.com:me/dags.git known_hosts\n\n{EXIT_CODES_HELP}"))]
    Verify(VerifyCommand),
}

/// The filter's flags (no subcommand). `invoke` writes them back as argv.
#[derive(Args, Clone, Debug, PartialEq)]
pub struct PinArgs {
    /// The SSH server to pin, `HOST` or `HOST:PORT` (default: the host of dags.gitSync.repo).
    #[arg(value_name = "HOST[:PORT]")]
    pub host: Option<String>,
    /// Take the host and port from this git URL instead of dags.gitSync.repo.
    #[arg(long, value_name = "URL", conflicts_with = "host")]
    pub repo: Option<String>,
    /// Read the values document from FILE instead of stdin (`-` is stdin).
    #[arg(short = 'f', long = "values", value_name = "FILE")]
    pub values: Option<String>,
    /// Read known_hosts lines from FILE instead of scanning (offline use; `-` is not allowed).
    #[arg(long, value_name = "FILE")]
    pub from: Option<PathBuf>,
    /// Only these key types (repeatable or comma-separated; default: all three).
    #[arg(long = "type", value_name = "TYPE", value_enum, value_delimiter = ',')]
    pub types: Vec<KindArg>,
    /// Also accept a key with this fingerprint (repeatable), after checking it out of band.
    /// Offered keys matching neither a published nor an expected fingerprint are left out
    /// (and named on stderr); with none verified, nothing is written.
    #[arg(long, value_name = "SHA256:...")]
    pub expect_fingerprint: Vec<String>,
    /// Give up on an unreachable host after this long (`10s`, `500ms`, `1m`).
    #[arg(long, default_value = "10s", value_name = "DURATION", value_parser = airflow_kit_core::duration::parse_arg)]
    pub timeout: Duration,
    /// The ssh-keyscan program to run.
    #[arg(long, default_value = "ssh-keyscan", value_name = "PROGRAM", hide = true)]
    pub ssh_keyscan: String,
}

/// `known-hosts verify` as parsed: its input and fingerprints (`VerifyArgs`) and the
/// repository whose host every line must be for. Two structs so that code building a
/// `VerifyArgs` keeps compiling; `invoke` writes both back as argv.
#[derive(Args, Clone, Debug, PartialEq)]
pub struct VerifyCommand {
    #[command(flatten)]
    pub args: VerifyArgs,
    /// Every line must be for this repository's SSH host (the exact host field ssh looks up,
    /// `[host]:port` off port 22) [default: the document's dags.gitSync.repo; a plain
    /// known_hosts file without it is checked line by line against each line's own host].
    #[arg(long, value_name = "URL")]
    pub repo: Option<String>,
}

/// The input and fingerprints of `known-hosts verify`. `invoke` writes it back as argv.
#[derive(Args, Clone, Debug, PartialEq)]
pub struct VerifyArgs {
    /// A values document or a known_hosts file (`-` or none: stdin).
    #[arg(value_name = "FILE|-")]
    pub file: Option<String>,
    /// Also accept a key with this fingerprint (repeatable).
    #[arg(long, value_name = "SHA256:...")]
    pub expect_fingerprint: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum KindArg {
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

/// The whole command line, for man pages and completions.
pub fn command() -> clap::Command {
    Cli::command()
}

#[cfg(test)]
mod tests {
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
