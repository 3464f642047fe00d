//! Ctrl-C during a run: forwarded to the tool that is running (children run in their own
//! process group, so a terminal's Ctrl-C would not reach them), through core's one forwarder.

use std::sync::OnceLock;

use airflow_kit_core::Error;
use airflow_kit_core::interrupt::Interrupts;

static INTERRUPTS: OnceLock<Interrupts> = OnceLock::new();

/// Catches SIGINT and SIGTERM for the rest of the run (the entry point calls it once).
pub fn install() -> Result<(), Error> {
    if INTERRUPTS.get().is_none() {
        let interrupts = Interrupts::install()?;
        let _ = INTERRUPTS.set(interrupts);
    }
    Ok(())
}

/// A tool started: a signal from now on goes to its process group.
pub fn watch(pids: &[u32]) {
    if let Some(interrupts) = INTERRUPTS.get() {
        interrupts.started(pids);
    }
}

/// The tool exited. Returns the interruption as an error when a signal came in, so the run
/// stops before its next step.
pub fn unwatch() -> Result<(), Error> {
    match INTERRUPTS.get() {
        Some(interrupts) => {
            interrupts.finished();
            interrupts.check()
        }
        None => Ok(()),
    }
}

/// An error when a signal came in since the run began.
pub fn check() -> Result<(), Error> {
    match INTERRUPTS.get() {
        Some(interrupts) => interrupts.check(),
        None => Ok(()),
    }
}

/// The signal that stopped the run, if one did.
pub fn received() -> Option<i32> {
    INTERRUPTS.get().and_then(Interrupts::received)
}
