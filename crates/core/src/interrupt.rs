//! Ctrl-C, SIGTERM and SIGHUP while a child runs: caught instead of killing us, forwarded to
//! the child's process group (children run in their own group, see `process`, so a terminal's
//! Ctrl-C, or the SIGHUP of an SSH session that drops, never reaches them otherwise), and
//! remembered, so the caller waits for the child, cleans up, and exits 128 + the signal.
//! helm-run forwards to helm, the install to the tool it runs.

use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex};

use crate::error::Error;
use crate::process::signal_group;

/// The signals `Interrupts::install` catches: a person's Ctrl-C, a `kill` or a service
/// manager's stop, and the hangup of a terminal or SSH session that went away.
pub const CAUGHT: [i32; 3] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP];

/// The signal caught, if any, and the process groups it is forwarded to.
#[derive(Clone, Default)]
pub struct Interrupts {
    received: Arc<AtomicI32>,
    children: Arc<Mutex<Vec<u32>>>,
}

impl std::fmt::Debug for Interrupts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Interrupts").field("received", &self.received()).finish()
    }
}

impl Interrupts {
    /// Catches SIGINT, SIGTERM and SIGHUP from now on, for the rest of the process. Without
    /// this (as in unit tests, `Interrupts::default()`) nothing is caught and `received` stays
    /// None.
    pub fn install() -> Result<Interrupts, Error> {
        let interrupts = Interrupts::default();
        let mut signals = signal_hook::iterator::Signals::new(CAUGHT)
            .map_err(|error| Error::external(format!("cannot catch Ctrl-C: {error}")))?;
        let shared = interrupts.clone();
        std::thread::spawn(move || {
            for signal in signals.forever() {
                shared.deliver(signal);
            }
        });
        Ok(interrupts)
    }

    /// The signal caught, if any.
    pub fn received(&self) -> Option<i32> {
        match self.received.load(Ordering::SeqCst) {
            0 => None,
            signal => Some(signal),
        }
    }

    /// Records the running child's pids (each leads its process group) so a later signal
    /// reaches it; forwards at once when a signal came in between starting it and this call.
    pub fn started(&self, pids: &[u32]) {
        if let Ok(mut children) = self.children.lock() {
            children.clear();
            children.extend_from_slice(pids);
        }
        if let Some(signal) = self.received() {
            self.forward(signal);
        }
    }

    /// The child has exited: nothing to forward to any more.
    pub fn finished(&self) {
        if let Ok(mut children) = self.children.lock() {
            children.clear();
        }
    }

    /// An error when a signal came in: the caller stops before its next step.
    pub fn check(&self) -> Result<(), Error> {
        match self.received() {
            None => Ok(()),
            Some(signal) => Err(Error::external(format!("interrupted by {}", signal_name(signal)))),
        }
    }

    /// What the signal thread does with each signal: remember it, pass it on.
    fn deliver(&self, signal: i32) {
        self.received.store(signal, Ordering::SeqCst);
        self.forward(signal);
    }

    fn forward(&self, signal: i32) {
        if let Ok(children) = self.children.lock() {
            for pid in children.iter() {
                signal_group(*pid, signal);
            }
        }
    }
}

/// How messages name a signal: `Ctrl-C` for SIGINT (what a person pressed), else its name.
pub fn signal_name(signal: i32) -> &'static str {
    match signal {
        libc::SIGINT => "Ctrl-C",
        libc::SIGTERM => "SIGTERM",
        libc::SIGHUP => "SIGHUP",
        _ => "a signal",
    }
}

/// The error shown after an interruption that reached `child` (a program's name): it was
/// told to stop and has exited. The caller adds what to check next as the hint.
pub fn interrupted_error(signal: i32, child: &str) -> Error {
    Error::external(format!("interrupted by {}; `{child}` was told to stop and has exited", signal_name(signal)))
}

/// The shell's exit status for "stopped by signal N": 128 + N (130 for Ctrl-C, 143 for
/// SIGTERM, 129 for SIGHUP).
pub fn exit_status(signal: i32) -> u8 {
    u8::try_from(128 + signal).unwrap_or(u8::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::CommandExt;
    use std::time::{Duration, Instant};

    /// A shell in its own process group (as `process` starts children) that writes `got TERM`
    /// (or `got HUP`) to its stdout and exits 7 when that signal reaches it, else sleeps out
    /// 30 seconds. Short
    /// sleeps in the foreground, not one long one in the background: a signal that lands
    /// between a fork and its exec is lost to that child, and a 30-second sleep that missed it
    /// would hold the pipe open.
    fn trapping_child(dir: &std::path::Path) -> (std::process::Child, std::path::PathBuf) {
        let ready = dir.join("ready");
        let script = format!(
            "trap 'echo got TERM; exit 7' TERM; trap 'echo got HUP; exit 7' HUP; : > '{}'; i=0; while [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done; echo slept",
            ready.display()
        );
        let child = std::process::Command::new("sh")
            .arg("-c")
            .arg(script)
            .stdout(std::process::Stdio::piped())
            .process_group(0)
            .spawn()
            .expect("sh starts");
        let deadline = Instant::now() + Duration::from_secs(10);
        while !ready.exists() {
            assert!(Instant::now() < deadline, "the child never set its trap");
            std::thread::sleep(Duration::from_millis(10));
        }
        (child, ready)
    }

    fn check_stopped_by_term(child: std::process::Child, started: Instant) {
        check_stopped_by(child, started, "TERM");
    }

    fn check_stopped_by(child: std::process::Child, started: Instant, signal: &str) {
        let output = child.wait_with_output().expect("wait");
        assert_eq!(String::from_utf8_lossy(&output.stdout), format!("got {signal}\n"));
        assert_eq!(output.status.code(), Some(7));
        assert!(started.elapsed() < Duration::from_secs(10), "the child slept instead of getting the signal");
    }

    #[test]
    fn a_signal_that_came_before_the_child_started_reaches_it_at_once() {
        let dir = tempfile::tempdir().expect("temp dir");
        let interrupts = Interrupts::default();
        assert_eq!(interrupts.received(), None);
        assert!(interrupts.check().is_ok());
        interrupts.deliver(libc::SIGTERM);
        assert_eq!(interrupts.received(), Some(libc::SIGTERM));
        let error = interrupts.check().expect_err("interrupted");
        assert_eq!(error.message, "interrupted by SIGTERM");

        let started = Instant::now();
        let (child, _) = trapping_child(dir.path());
        interrupts.started(&[child.id()]);
        check_stopped_by_term(child, started);
        interrupts.finished();
    }

    /// SIGTERM, then SIGHUP (an SSH session that drops): each caught and forwarded to the
    /// child's group, and we live on. One test, one after the other: a signal raised to this
    /// process reaches every handler installed in it, so two such tests side by side would
    /// see each other's signals.
    #[test]
    fn a_caught_sigterm_or_sighup_is_forwarded_to_the_childs_group_and_we_live_on() {
        let dir = tempfile::tempdir().expect("temp dir");
        for (signal, name) in [(libc::SIGTERM, "TERM"), (libc::SIGHUP, "HUP")] {
            // A fresh set per signal: one that has recorded SIGTERM forwards it at once to any
            // child started later (as it should), which would beat the SIGHUP to the second.
            let interrupts = Interrupts::install().expect("installs");
            let started = Instant::now();
            let _ = std::fs::remove_file(dir.path().join("ready"));
            let (child, _) = trapping_child(dir.path());
            interrupts.started(&[child.id()]);
            // To ourselves, as `kill` or a terminal would: caught, so this test process lives.
            // SAFETY: raise(3) has no memory-safety preconditions.
            unsafe {
                libc::raise(signal);
            }
            check_stopped_by(child, started, name);
            let deadline = Instant::now() + Duration::from_secs(10);
            while interrupts.received() != Some(signal) {
                assert!(Instant::now() < deadline, "{name} was never recorded");
                std::thread::sleep(Duration::from_millis(10));
            }
            interrupts.finished();
        }
    }

    #[test]
    fn names_and_exit_statuses() {
        assert_eq!(signal_name(libc::SIGINT), "Ctrl-C");
        assert_eq!(signal_name(libc::SIGHUP), "SIGHUP");
        assert!(CAUGHT.contains(&libc::SIGHUP));
        assert_eq!(exit_status(libc::SIGINT), 130);
        assert_eq!(exit_status(libc::SIGTERM), 143);
        assert_eq!(exit_status(libc::SIGHUP), 129);
        assert_eq!(
            interrupted_error(libc::SIGINT, "helm").message,
            "interrupted by Ctrl-C; `helm` was told to stop and has exited"
        );
    }
}
