//! The `values-merge` command line as clap sees it: flags, help and examples. `main.rs` parses
//! with it; `cargo xtask dist` renders the man page and shell completions from it.

use std::path::PathBuf;

use airflow_kit_core::error::EXIT_CODES_HELP;
use clap::{ArgAction, CommandFactory, Parser};

use crate::merge::HelmMajor;

/// The name every stderr line starts with.
pub const TOOL: &str = "values-merge";

const EXAMPLES: &str = "\
Examples:
  # keep the cumulative values file: fold new settings into it, comments kept
  values-merge --in-place values.yaml overrides.yaml --set images.airflow.tag=2.10.5

  # what the chart will see, checked against its schema
  values-merge values.yaml --defaults chart/values.yaml --schema chart/values.schema.json

  # take a key out of the cumulative file again (its comment lines go with it)
  values-merge --in-place values.yaml --unset apiServer.service.type --unset apiServer.service.ports

  # which file set what, and what an upgrade would change (secrets masked)
  values-merge values.yaml new.yaml --explain
  values-merge values.yaml new.yaml --diff values.yaml";

/// Merge Helm values files and --set flags exactly as Helm does.
///
/// Files are folded left to right (a later map merges into an earlier one; anything else
/// replaces it); then all --set-json, --set, --set-string, --set-file and --set-literal, in
/// that order, as Helm applies them; then every --unset. With no FILE, the document is read
/// from stdin.
// `Default` is the command line with no arguments, so a caller names only what it sets.
#[derive(Parser, Clone, Debug, PartialEq, Default)]
#[command(name = TOOL, version, after_help = format!("{EXAMPLES}\n\n{EXIT_CODES_HELP}"))]
pub struct Args {
    /// Values files, merged left to right; `-` reads stdin.
    #[arg(value_name = "FILE|-")]
    pub files: Vec<String>,
    /// Set values like `helm --set` (typed: true/false/null/integers).
    #[arg(long = "set", value_name = "K=V", action = ArgAction::Append)]
    pub set: Vec<String>,
    /// Set string values like `helm --set-string`.
    #[arg(long, value_name = "K=V", action = ArgAction::Append)]
    pub set_string: Vec<String>,
    /// Set JSON values like `helm --set-json`.
    #[arg(long, value_name = "K=JSON", action = ArgAction::Append)]
    pub set_json: Vec<String>,
    /// Set a value to a file's content like `helm --set-file`.
    #[arg(long, value_name = "K=PATH", action = ArgAction::Append)]
    pub set_file: Vec<String>,
    /// Set one value verbatim like `helm --set-literal`.
    #[arg(long, value_name = "K=V", action = ArgAction::Append)]
    pub set_literal: Vec<String>,
    /// Remove a key from the result, after every input and --set (repeatable). PATH is dotted;
    /// a dot inside a key is `\.`. A mapping left empty goes too; a PATH not set is a warning.
    #[arg(long, value_name = "PATH", action = ArgAction::Append)]
    pub unset: Vec<String>,
    /// Write the result to FILE (atomically, mode 0600) instead of stdout.
    #[arg(short, long, value_name = "FILE", conflicts_with = "in_place")]
    pub output: Option<PathBuf>,
    /// The cumulative values file: read first, then written back in place (comments kept).
    /// One writer at a time: a second run waits for the lock on FILE.lock and says for whom.
    /// A symbolic link is followed and the file it points to is written.
    #[arg(long, value_name = "FILE")]
    pub in_place: Option<PathBuf>,
    /// The chart's values.yaml: print the effective values the chart will see.
    #[arg(long, value_name = "CHART_VALUES")]
    pub defaults: Option<PathBuf>,
    /// The chart's values.schema.json: refuse values it rejects, listing every error.
    #[arg(long, value_name = "SCHEMA_JSON")]
    pub schema: Option<PathBuf>,
    /// Print which input set each value instead of the document.
    #[arg(long, conflicts_with = "diff")]
    pub explain: bool,
    /// Print what the result changes against FILE (secrets masked) instead of the document.
    #[arg(long, value_name = "FILE")]
    pub diff: Option<PathBuf>,
    /// Follow this Helm major's coalescing for `--defaults` (they differ on nested nulls).
    // `--helm` was this flag's first spelling; it stays as a hidden alias for old scripts.
    #[arg(long, value_name = "3|4", value_enum, default_value = "3", alias = "helm")]
    pub helm_major: HelmMajor,
}

/// The whole command line, for parsing with matches and for man pages and completions.
pub fn command() -> clap::Command {
    Args::command()
}
