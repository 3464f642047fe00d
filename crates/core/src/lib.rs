//! What two or more airflow-kit tools share: the values document, errors and exit codes,
//! child processes and atomic writes. Nothing here reads argv or env, or exits the process.

pub mod cli;
pub mod cluster;
pub mod defaults;
pub mod duration;
pub mod error;
pub mod fs;
pub mod git_url;
pub mod interrupt;
pub mod kube_secret;
pub mod lock;
pub mod process;
pub mod report;
pub mod report_node;
pub mod secrets;
pub mod stream;
pub mod suggest;
pub mod values_path;
pub mod yaml;

pub use error::{Error, ExitCode, Location};
pub use yaml::{Document, Input, Mapping, Node, NodeKind, Scalar, ScalarStyle, from_json, json_to_yaml};
