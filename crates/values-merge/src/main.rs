//! The `values-merge` command line: flags in, `values_merge::run`, document or report out.

use airflow_kit_core::cli::{finish, read_stdin, say, write_stdout};
use airflow_kit_core::{Error, ExitCode, Input};
use clap::FromArgMatches;
use values_merge::cli::{Args, TOOL};
use values_merge::{Config, HelmMajor, Mode, Output, SetKind};

fn main() -> std::process::ExitCode {
    finish(TOOL, run())
}

fn run() -> Result<ExitCode, Error> {
    let matches = values_merge::cli::command().get_matches();
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
