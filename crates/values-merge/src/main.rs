//! The `values-merge` command line: flags in, `values_merge::run`, document or report out.

use airflow_kit_core::cli::{finish, read_stdin, say, write_stdout};
use airflow_kit_core::{Error, ExitCode};
use clap::FromArgMatches;
use values_merge::Config;
use values_merge::cli::{Args, TOOL};

fn main() -> std::process::ExitCode {
    finish(TOOL, run())
}

fn run() -> Result<ExitCode, Error> {
    let matches = values_merge::cli::command().get_matches();
    let args = Args::from_arg_matches(&matches).map_err(|e| Error::bad_input(e.to_string()))?;
    let config = Config::from_args(&args)?;
    let outcome = values_merge::run(&config, &|| read_stdin("a values document (YAML)"), &|note| say(TOOL, note))?;
    for warning in &outcome.warnings {
        say(TOOL, warning);
    }
    if let Some(path) = &outcome.wrote {
        let what = if outcome.changed { "wrote" } else { "unchanged:" };
        match &outcome.through_link {
            Some(target) => {
                say(TOOL, &format!("{what} {} (the link's target, `{}`)", path.display(), target.display()))
            }
            None => say(TOOL, &format!("{what} {}", path.display())),
        }
    }
    write_stdout(&outcome.stdout)?;
    Ok(ExitCode::Success)
}
