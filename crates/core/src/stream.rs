//! The runner for a long call whose stderr a person must see as it comes AND the caller must
//! keep (helm-run's `helm upgrade`: the progress is shown, and a failure is classified from
//! the same text); stdout is captured. Like `process::run`, the child leads its own process
//! group, so a timeout or a forwarded Ctrl-C reaches its children too.

use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::process::{Arg, Command, Output, signal_group};
use crate::{Error, fs};

/// Runs `command`; `on_start` gets the child's pid (for forwarding signals), `on_line` each
/// line the child writes on stderr.
pub fn run_teeing_stderr(
    command: &Command,
    on_start: impl FnOnce(&[u32]),
    on_line: &(dyn Fn(&str) + Sync),
) -> Result<Output, Error> {
    let mut child = std::process::Command::new(&command.program);
    for arg in &command.args {
        match arg {
            Arg::Plain(text) | Arg::Secret(text) => child.arg(text),
        };
    }
    for (name, value) in &command.env {
        child.env(name, value);
    }
    for name in &command.env_remove {
        child.env_remove(name);
    }
    if let Some(dir) = &command.dir {
        child.current_dir(dir);
    }
    child.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).process_group(0);
    let mut child = child.spawn().map_err(|error| {
        let name = command.program_name();
        if error.kind() == std::io::ErrorKind::NotFound {
            return Error::external(format!("`{name}` was not found"))
                .with_hint(format!("install `{name}` or put it on PATH"));
        }
        Error::external(format!("cannot run `{name}`: {}", fs::plain_io_error(&error)))
    })?;
    let pid = child.id();
    on_start(&[pid]);
    let mut stdout_pipe = child.stdout.take();
    let stderr_pipe = child.stderr.take();
    let deadline = command.timeout.map(|timeout| Instant::now() + timeout);
    std::thread::scope(|scope| {
        let stdout_reader = scope.spawn(move || {
            let mut bytes = Vec::new();
            if let Some(pipe) = stdout_pipe.as_mut() {
                let _ = pipe.read_to_end(&mut bytes);
            }
            bytes
        });
        let stderr_reader = scope.spawn(move || {
            let mut kept = Vec::new();
            if let Some(pipe) = stderr_pipe {
                for line in BufReader::new(pipe).split(b'\n').map_while(Result::ok) {
                    on_line(&String::from_utf8_lossy(&line));
                    kept.extend_from_slice(&line);
                    kept.push(b'\n');
                }
            }
            kept
        });
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break Ok(status),
                Ok(None) => {}
                Err(error) => break Err(Error::external(format!("`{}` failed: {error}", command.program_name()))),
            }
            if deadline.is_some_and(|deadline| Instant::now() >= deadline) {
                signal_group(pid, libc::SIGKILL);
                let _ = child.wait();
                let seconds = command.timeout.map(|t| t.as_secs()).unwrap_or_default();
                break Err(crate::process::timed_out(command, &format!("within {seconds}s")));
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        // A grandchild holding the pipes open would keep the readers waiting; it belongs to
        // helm's group, which is done now.
        signal_group(pid, libc::SIGKILL);
        let stdout = stdout_reader.join().unwrap_or_default();
        let stderr = stderr_reader.join().unwrap_or_default();
        status.map(|status| Output { code: status.code(), stdout, stderr })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stderr_is_passed_on_and_kept() {
        let seen = std::sync::Mutex::new(Vec::new());
        let on_line = |line: &str| seen.lock().expect("lock").push(line.to_string());
        let command = Command::new("sh").arg("-c").arg("echo out; echo one >&2; echo two >&2; exit 4");
        let output = run_teeing_stderr(&command, |_| {}, &on_line).expect("runs");
        assert_eq!(output.code, Some(4));
        assert_eq!(output.stdout_text(), "out\n");
        assert_eq!(output.stderr_text(), "one\ntwo\n");
        assert_eq!(*seen.lock().expect("lock"), ["one", "two"]);
    }

    #[test]
    fn timeout_stops_the_group() {
        let started = Instant::now();
        let command = Command::new("sh").arg("-c").arg("sleep 30 & sleep 30").timeout(Duration::from_millis(300));
        let error = run_teeing_stderr(&command, |_| {}, &|_: &str| {}).expect_err("times out");
        assert!(error.message.contains("did not finish"), "{}", error.message);
        assert!(started.elapsed() < Duration::from_secs(10));
    }
}
