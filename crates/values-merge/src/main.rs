//! The `values-merge` command line: flags in, `values_merge::run`, document or report out.

use std::path::PathBuf;

use airflow_kit_core::cli::{finish, read_stdin, say, write_stdout};
use airflow_kit_core::error::EXIT_CODES_HELP;
use airflow_kit_core::{Error, ExitCode, Input};
use clap::{ArgAction, CommandFactory, FromArgMatches, Parser};
use values_merge::{Config, HelmMajor, Mode, Output, SetKind};

const TOOL: &str = "values-merge";

const EXAMPLES: &str = "\
Examples:
  # keep the cumulative values file: fold new settings into it, comments kept
  values-merge --in-place values.yaml overrides.yaml --set images.airflow.tag=2.10.5

  # what the chart will see, checked against its schema
  values-merge values.yaml --defaults chart/values.yaml --schema chart/values.schema.json

  # which file set what, and what an upgrade would change (secrets masked)
  values-merge values.yaml new.yaml --explain
  values-merge values.yaml new.yaml --diff values.yaml";

/// Merge Helm values files and --set flags exactly as Helm does.
///
/// Files are folded left to right (a later map merges into an earlier one; anything else
/// replaces it); then all --set-json, --set, --set-string, --set-file and --set-literal, in
/// that order, as Helm applies them. With no FILE, the document is read from stdin.
#[derive(Parser)]
#[command(name = TOOL, version, after_help = format!("{EXAMPLES}\n\n{EXIT_CODES_HELP}"))]
struct Args {
    /// Values files, merged left to right; `-` reads stdin.
    #[arg(value_name = "FILE|-")]
    files: Vec<String>,
    /// Set values like `helm --set` (typed: true/false/null/integers).
    #[arg(long = "set", value_name = "K=V", action = ArgAction::Append)]
    set: Vec<String>,
    /// Set string values like `helm --set-string`.
    #[arg(long, value_name = "K=V", action = ArgAction::Append)]
    set_string: Vec<String>,
    /// Set JSON values like `helm --set-json`.
    #[arg(long, value_name = "K=JSON", action = ArgAction::Append)]
    set_json: Vec<String>,
    /// Set a value to a file's content like `helm --set-file`.
    #[arg(long, value_name = "K=PATH", action = ArgAction::Append)]
    set_file: Vec<String>,
    /// Set one value verbatim like `helm --set-literal`.
    #[arg(long, value_name = "K=V", action = ArgAction::Append)]
    set_literal: Vec<String>,
    /// Write the result to FILE (atomically, mode 0600) instead of stdout.
    #[arg(short, long, value_name = "FILE", conflicts_with = "in_place")]
    output: Option<PathBuf>,
    /// The cumulative values file: read first, then written back in place (comments kept).
    #[arg(long, value_name = "FILE")]
    in_place: Option<PathBuf>,
    /// The chart's values.yaml: print the effective values the chart will see.
    #[arg(long, value_name = "CHART_VALUES")]
    defaults: Option<PathBuf>,
    /// The chart's values.schema.json: refuse values it rejects, listing every error.
    #[arg(long, value_name = "SCHEMA_JSON")]
    schema: Option<PathBuf>,
    /// Print which input set each value instead of the document.
    #[arg(long, conflicts_with = "diff")]
    explain: bool,
    /// Print what the result changes against FILE (secrets masked) instead of the document.
    #[arg(long, value_name = "FILE")]
    diff: Option<PathBuf>,
    /// Follow this Helm major's coalescing for `--defaults` (they differ on nested nulls).
    #[arg(long, value_name = "3|4", default_value = "3", value_parser = ["3", "4"])]
    helm: String,
}

fn main() -> std::process::ExitCode {
    finish(TOOL, run())
}

fn run() -> Result<ExitCode, Error> {
    let matches = Args::command().get_matches();
    let args = Args::from_arg_matches(&matches).map_err(|e| Error::bad_input(e.to_string()))?;
    let config = config_from(args, &matches);
    let outcome = values_merge::run(&config, &|| read_stdin("a values document (YAML)"))?;
    for warning in &outcome.warnings {
        say(TOOL, warning);
    }
    if let Some(path) = &outcome.wrote {
        let what = if outcome.changed { "wrote" } else { "unchanged:" };
        say(TOOL, &format!("{what} {}", path.display()));
    }
    write_stdout(&outcome.stdout)?;
    Ok(ExitCode::Success)
}

fn config_from(args: Args, matches: &clap::ArgMatches) -> Config {
    let mut inputs: Vec<Input> = args.files.iter().map(|arg| Input::from_arg(arg)).collect();
    if inputs.is_empty() && args.in_place.is_none() {
        inputs.push(Input::Stdin);
    }
    // Keep each flag's own order; Helm groups them by kind anyway.
    let mut sets = Vec::new();
    for (id, kind) in [
        ("set", SetKind::Typed),
        ("set_string", SetKind::String),
        ("set_json", SetKind::Json),
        ("set_file", SetKind::File),
        ("set_literal", SetKind::Literal),
    ] {
        if let Some(values) = matches.get_many::<String>(id) {
            sets.extend(values.map(|value| (kind, value.clone())));
        }
    }
    let output = match (args.output, args.in_place) {
        (Some(path), _) => Output::File(path),
        (None, Some(path)) => Output::InPlace(path),
        (None, None) => Output::Stdout,
    };
    let mode = match (args.explain, args.diff) {
        (true, _) => Mode::Explain,
        (false, Some(path)) => Mode::Diff(path),
        (false, None) => Mode::Document,
    };
    let helm = if args.helm == "4" { HelmMajor::Four } else { HelmMajor::Three };
    Config { inputs, sets, output, defaults: args.defaults, schema: args.schema, mode, helm }
}
