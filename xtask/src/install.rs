//! `cargo xtask install` and `cargo xtask adopt`: parse the flags, build the tools (showing
//! cargo's progress, reusing what `cargo xtask ci` built), and call the orchestrator library
//! (crates/install). Every exit code comes from core's table; a user's mistake is a message
//! with a hint, never a backtrace.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use airflow_kit_core::{Error, ExitCode};
use install::{AdoptArgs, InstallArgs, Prompt, Tools};

/// `cargo xtask install` flags: the orchestrator's, plus where the tools come from.
#[derive(clap::Args, Debug)]
pub struct InstallCommand {
    #[command(flatten)]
    pub args: InstallArgs,
    /// Use already built tools from this directory instead of building them (tests).
    #[arg(long, value_name = "DIR", hide = true)]
    pub bin_dir: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
pub struct AdoptCommand {
    #[command(flatten)]
    pub args: AdoptArgs,
    /// Use already built tools from this directory instead of building them (tests).
    #[arg(long, value_name = "DIR", hide = true)]
    pub bin_dir: Option<PathBuf>,
}

pub fn install(command: &InstallCommand) -> std::process::ExitCode {
    finish(run_install(command))
}

pub fn adopt(command: &AdoptCommand) -> std::process::ExitCode {
    finish(run_adopt(command))
}

fn run_install(command: &InstallCommand) -> Result<(), Error> {
    let interactive = std::io::stdin().is_terminal() && !command.args.yes;
    let mut ask = |question: &str| ask_line(question);
    let settings = install::resolve(&command.args, if interactive { Some(&mut ask) } else { None })?;
    let tools = tools(command.bin_dir.as_deref())?;
    install::interrupt::install()?;
    let mut prompt = Terminal { interactive };
    let outcome = install::install(&settings, &tools, &mut prompt)?;
    install::summary(&settings, &outcome, &tools);
    Ok(())
}

fn run_adopt(command: &AdoptCommand) -> Result<(), Error> {
    let tools = tools(command.bin_dir.as_deref())?;
    install::interrupt::install()?;
    let settings = install::AdoptSettings::from_args(&command.args);
    airflow_kit_core::fs::create_private_dir(&settings.state_dir, 0o700)?;
    let _lock = install::run::lock_state(&settings.state_dir)?;
    install::run::sweep_stale_scratch(&settings.state_dir);
    let work = tempfile::Builder::new().prefix(".run-").tempdir_in(&settings.state_dir).map_err(|error| {
        Error::external(format!("cannot make a private directory in `{}`: {error}", settings.state_dir.display()))
    })?;
    let adopted = install::adopt(&settings, &tools, work.path())?;
    let values = settings.state_dir.join("values.yaml");
    if adopted.problems.is_empty() {
        eprintln!("\nadopt: `{}` is now managed from {}", settings.cluster.release, values.display());
        return Ok(());
    }
    let mut list = String::new();
    for problem in &adopted.problems {
        list.push_str(&format!("- {problem}\n"));
    }
    Err(Error::no(format!(
        "the values are adopted into {}, with {} problem(s) to fix",
        values.display(),
        adopted.problems.len()
    ))
    .with_detail(list))
}

fn finish(result: Result<(), Error>) -> std::process::ExitCode {
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprint!("\n{}", error.render("install"));
            // Stopped by a signal: the shell's status for it (130 for Ctrl-C, 143 for SIGTERM),
            // after the run's scratch directory was removed on the way out.
            match install::interrupt::received() {
                Some(signal) => std::process::ExitCode::from(airflow_kit_core::interrupt::exit_status(signal)),
                None => std::process::ExitCode::from(error.code.code()),
            }
        }
    }
}

struct Terminal {
    interactive: bool,
}

impl Prompt for Terminal {
    fn interactive(&self) -> bool {
        self.interactive
    }

    fn wait_for_enter(&mut self, message: &str) -> Result<(), Error> {
        eprint!("{message}");
        std::io::stderr().flush().ok();
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|error| Error::external(format!("cannot read the terminal: {error}")))?;
        Ok(())
    }
}

fn ask_line(question: &str) -> Option<String> {
    eprint!("{question}: ");
    std::io::stderr().flush().ok();
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).ok()?;
    Some(line.trim().to_string())
}

/// The tools: `--bin-dir`, else built now in the dev profile (what `cargo xtask ci` builds,
/// so a run after it compiles nothing), with cargo's own progress on stderr. The paths come
/// from cargo's build messages, so `CARGO_TARGET_DIR` and `--target-dir` are honoured.
fn tools(bin_dir: Option<&Path>) -> Result<Tools, Error> {
    if let Some(dir) = bin_dir {
        return Ok(Tools::new(dir));
    }
    eprintln!("==> build the tools (cargo build; the first time takes a few minutes)");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command.current_dir(crate::project_root()).args(["build", "--message-format=json-render-diagnostics"]);
    for tool in install::tools::NAMES {
        command.args(["-p", tool]);
    }
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|error| Error::external(format!("cannot run `cargo build`: {error}")))?;
    let mut bin: Option<PathBuf> = None;
    if let Some(stdout) = child.stdout.take() {
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(path) = executable_of(&line)
                && path.file_name().is_some_and(|name| name == "pod-inspect")
            {
                bin = path.parent().map(Path::to_path_buf);
            }
        }
    }
    let status = child.wait().map_err(|error| Error::external(format!("`cargo build` failed: {error}")))?;
    if !status.success() {
        return Err(
            Error::new(ExitCode::External, "`cargo build` of the tools failed").with_hint("its errors are above")
        );
    }
    let bin = bin.ok_or_else(|| Error::external("`cargo build` named no pod-inspect executable"))?;
    Ok(Tools::new(bin))
}

/// The executable of one of cargo's `compiler-artifact` messages.
fn executable_of(line: &str) -> Option<PathBuf> {
    #[derive(serde::Deserialize)]
    struct Message {
        reason: String,
        executable: Option<PathBuf>,
    }
    let message: Message = serde_json::from_str(line).ok()?;
    (message.reason == "compiler-artifact").then_some(message.executable).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn executables_from_cargo_messages() {
        let line =
            r#"{"reason":"compiler-artifact","package_id":"x","executable":"/t/debug/pod-inspect","fresh":true}"#;
        assert_eq!(executable_of(line), Some(PathBuf::from("/t/debug/pod-inspect")));
        assert_eq!(executable_of(r#"{"reason":"build-finished","success":true}"#), None);
        assert_eq!(executable_of("not json"), None);
    }
}
