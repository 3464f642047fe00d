//! pod-inspect: read an Airflow release on Kubernetes through `kubectl` and answer plainly:
//! is it healthy, are the DAGs there, what broke and how to fix it. The library never reads
//! argv or env, never touches stdin/stdout, never exits; `main.rs` does those.
//!
//! Every report is a type, written with core's `report::to_yaml` and read back with
//! `report::from_yaml`: [`status::StatusReport`], [`wait::WaitReport`],
//! [`dags::DagsReport`], [`diagnose::DiagnosisReport`], [`fix::FixReport`],
//! [`fernet::FernetKeyReport`], [`ui::UiReport`]. The argv that runs a subcommand comes from
//! [`cli::Cli::to_args`] (in `invoke`).

pub mod cli;
pub mod dags;
pub mod diagnose;
pub mod fernet;
pub mod fix;
pub mod invoke;
pub mod kubectl;
pub mod model;
pub mod redact;
pub mod status;
pub mod ui;
pub mod wait;

pub use kubectl::Kubectl;
