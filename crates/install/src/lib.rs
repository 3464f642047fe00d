//! The orchestrator: `cargo xtask install` and `adopt` as a library over the five tools. It
//! resolves and validates the settings, plans the steps, runs each tool with argv from that
//! tool's own types, reads the tools' reports into their own types, and returns core's
//! `Error` (exit code and hint) when a step stops the run. The xtask entry points only parse
//! flags, build the tools and call this.

pub mod access;
pub mod adopt;
pub mod chart;
pub mod config;
pub mod exposure;
pub mod interrupt;
pub mod invoke;
pub mod plan;
pub mod run;
pub mod tools;

pub use adopt::{AdoptArgs, AdoptSettings, adopt};
pub use config::{InstallArgs, Settings, resolve};
pub use run::{Outcome, Prompt, install, summary};
pub use tools::Tools;
