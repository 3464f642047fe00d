//! Ctrl-C and SIGTERM while helm runs: caught instead of killing us, forwarded to helm's
//! process group (children run in their own group, so the terminal's Ctrl-C never reaches
//! them), and remembered, so the caller waits for helm, cleans up and exits 130.

use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex};

use airflow_kit_core::Error;
use airflow_kit_core::process::signal_group;

/// The signals caught and the helm process groups they are forwarded to.
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
    /// Catches SIGINT and SIGTERM from now on. Without this (as in unit tests) nothing is
    /// caught and `received` stays None.
    pub fn install() -> Result<Interrupts, Error> {
        use signal_hook::consts::{SIGINT, SIGTERM};
        let interrupts = Interrupts::default();
        let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM])
            .map_err(|error| Error::external(format!("cannot catch Ctrl-C: {error}")))?;
        let shared = interrupts.clone();
        std::thread::spawn(move || {
            for signal in signals.forever() {
                shared.received.store(signal, Ordering::SeqCst);
                shared.forward(signal);
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

    /// Records helm's pids so a later signal reaches it; forwards at once when a signal came
    /// in between starting helm and this call.
    pub fn started(&self, pids: &[u32]) {
        if let Ok(mut children) = self.children.lock() {
            children.clear();
            children.extend_from_slice(pids);
        }
        if let Some(signal) = self.received() {
            self.forward(signal);
        }
    }

    /// Helm has exited: nothing to forward to any more.
    pub fn finished(&self) {
        if let Ok(mut children) = self.children.lock() {
            children.clear();
        }
    }

    /// An error when a signal came in: the caller stops before the next step.
    pub fn check(&self) -> Result<(), Error> {
        match self.received() {
            None => Ok(()),
            Some(signal) => Err(interrupted_error(signal)),
        }
    }

    fn forward(&self, signal: i32) {
        if let Ok(children) = self.children.lock() {
            for pid in children.iter() {
                signal_group(*pid, signal);
            }
        }
    }
}

/// The error shown after an interruption (the exit code is 128 + signal, set by main).
pub fn interrupted_error(signal: i32) -> Error {
    let name = if signal == libc::SIGTERM { "SIGTERM" } else { "Ctrl-C" };
    Error::external(format!("interrupted by {name}; helm was told to stop and has exited"))
        .with_hint("run `helm-run status` to see the release; a release left `pending-*` needs `helm rollback`")
}
