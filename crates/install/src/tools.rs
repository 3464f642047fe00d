//! Our five binaries as the install runs them: argv from each tool's own typed builder, the
//! values document on stdin, the tool's stderr passed through as it comes (its own
//! `tool: ...` lines), stdout captured, a timeout on every call, and the tool's exit code
//! kept in the error.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use airflow_kit_core::process::{self, Command};
use airflow_kit_core::{Error, ExitCode};

/// Where the built tools are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tools {
    pub bin: PathBuf,
}

/// The five tools, by name.
pub const NAMES: [&str; 5] = ["values-merge", "secret-gen", "known-hosts", "helm-run", "pod-inspect"];

/// A filter or query that finishes quickly (everything but the upgrade and the wait).
pub const QUICK: Duration = Duration::from_secs(300);

impl Tools {
    pub fn new(bin: impl Into<PathBuf>) -> Tools {
        Tools { bin: bin.into() }
    }

    pub fn path(&self, tool: &str) -> PathBuf {
        self.bin.join(tool)
    }

    /// Every tool is there and executable, or an error naming the missing one.
    pub fn check(&self) -> Result<(), Error> {
        for name in NAMES {
            let path = self.path(name);
            if process::find_on_path(&path.display().to_string()).is_none() {
                return Err(Error::external(format!("`{}` is missing", path.display())).with_hint(
                    "build the tools: `cargo build --workspace --bins` (cargo xtask install does it for you)",
                ));
            }
        }
        Ok(())
    }

    /// Runs `tool` with `args`, `stdin` piped in; returns its stdout. A failure keeps the
    /// tool's exit code; the tool has already said why on stderr.
    pub fn run(
        &self,
        tool: &str,
        args: Vec<OsString>,
        stdin: Option<&str>,
        timeout: Duration,
    ) -> Result<String, Error> {
        let mut command = Command::new(self.path(tool)).args(args).timeout(timeout);
        if let Some(text) = stdin {
            command = command.stdin(text.as_bytes().to_vec());
        }
        let output = process::run_streaming(&command, crate::interrupt::watch);
        crate::interrupt::unwatch()?;
        let output = output?;
        if output.success() {
            return Ok(output.stdout_text());
        }
        Err(tool_failed(tool, &command, output.code))
    }
}

fn tool_failed(tool: &str, command: &Command, code: Option<i32>) -> Error {
    let exit = match code {
        Some(1) => ExitCode::No,
        Some(2) => ExitCode::BadInput,
        Some(4) => ExitCode::Refused,
        // 3, a signal (128+n, or none) or anything unknown: the tool or what it ran failed.
        _ => ExitCode::External,
    };
    let subcommand = command.args.first().map(|arg| match arg {
        process::Arg::Plain(text) | process::Arg::Secret(text) => text.to_string_lossy().into_owned(),
    });
    let name = match subcommand.filter(|word| !word.starts_with('-')) {
        Some(word) => format!("{tool} {word}"),
        None => tool.to_string(),
    };
    let status = match code {
        Some(code) => format!("exit code {code}"),
        None => "killed by a signal".into(),
    };
    Error::new(exit, format!("`{name}` failed ({status})"))
        .with_hint("its message above says why; fix that and run the same command again (finished steps are kept)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tools_exit_code_is_kept() {
        let dir = tempfile::tempdir().expect("temp dir");
        let script = dir.path().join("secret-gen");
        std::fs::write(&script, "#!/bin/sh\ncat >/dev/null\necho 'secret-gen: refused' >&2\nexit 4\n").expect("script");
        std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).expect("chmod");
        let tools = Tools::new(dir.path());
        let error = tools
            .run("secret-gen", vec!["deploy-key".into()], Some("a: 1\n"), Duration::from_secs(10))
            .expect_err("fails");
        assert_eq!(error.code, ExitCode::Refused);
        assert_eq!(error.message, "`secret-gen deploy-key` failed (exit code 4)");
        assert!(tools.check().is_err(), "four tools are missing");
    }
}
