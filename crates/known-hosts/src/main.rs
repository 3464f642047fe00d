//! The `known-hosts` command line: flags into a config, the document in, the document (or a
//! verify report) out, errors to exit codes.

use airflow_kit_core::{Document, Error, ExitCode, Input, cli, report};
use clap::Parser;
use known_hosts::cli::{Cli, Command, PinArgs, TOOL, VerifyCommand};
use known_hosts::{KeyKind, KeySource, PinConfig, PinOutcome, TargetChoice, VerifyConfig};

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::Verify(args)) => run_verify(args),
        None => run_pin(cli.pin),
    };
    cli::finish(TOOL, result)
}

fn run_pin(args: PinArgs) -> Result<ExitCode, Error> {
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
        timeout: args.timeout,
    };
    let pinned = match known_hosts::pin(&config, &mut document.root)? {
        PinOutcome::Pinned(pinned) => pinned,
        PinOutcome::NoHostKey { note, .. } => {
            // Byte for byte what came in: nothing of ours to set, nothing to reformat.
            cli::say(TOOL, &note);
            cli::write_stdout(&document.text)?;
            return Ok(ExitCode::Success);
        }
    };
    for note in &pinned.notes {
        cli::say(TOOL, note);
    }
    for (key, verdict) in &pinned.keys {
        cli::say(TOOL, &format!("{} {} {}: {}", pinned.host_field, key.key_type, key.fingerprint, verdict.reason()));
    }
    for (key, verdict) in &pinned.left_out {
        cli::say(
            TOOL,
            &format!("{}: left out {} {}: {}", pinned.host_field, key.key_type, key.fingerprint, verdict.reason()),
        );
    }
    cli::write_stdout(&document.to_yaml())?;
    Ok(ExitCode::Success)
}

fn run_verify(command: VerifyCommand) -> Result<ExitCode, Error> {
    let args = command.args;
    let input = Input::from_arg(args.file.as_deref().unwrap_or("-"));
    let text = match &input {
        Input::Stdin => cli::read_stdin("a values document or known_hosts lines")?,
        Input::Path(path) => airflow_kit_core::yaml::read_text_file(path)?,
    };
    let config = VerifyConfig { expected: args.expect_fingerprint, repo: command.repo };
    let report = known_hosts::verify(&text, &input.name(), &config)?;
    if let Some(problem) = &report.problem {
        cli::say(TOOL, problem);
    }
    if let Some(note) = &report.note {
        cli::say(TOOL, note);
    }
    for line in report.lines.iter().filter(|line| !line.verdict.accepted()) {
        let at = match line.document_line {
            Some(document_line) => format!("line {} (document line {document_line})", line.line),
            None => format!("line {}", line.line),
        };
        cli::say(TOOL, &format!("{}: {at}: {}: {}", report.source, line.verdict, line.reason));
    }
    cli::write_stdout(&report::to_yaml(&report)?)?;
    Ok(report.exit_code())
}
