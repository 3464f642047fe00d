//! secret-gen: pins every secret the Airflow chart would randomize on each render, and writes
//! an SSH deploy key for git-sync that provably decodes back to the key file.

pub mod args;
pub mod cli;
pub mod deploy_key;
pub mod from_cluster;
pub mod input;
pub mod openssh_key;
pub mod random;
pub mod secrets;

pub use deploy_key::{DeployKeyConfig, KeyPair, KeyType};
pub use from_cluster::{ClusterConfig, LiveSecrets, Pinned, pin_from_cluster};
pub use secrets::{AirflowMajor, Rotate, SecretsConfig, add_secrets};

/// The name every stderr line starts with.
pub const TOOL: &str = "secret-gen";
