//! The shared harness of the end-to-end tests: find and run our built binaries, find the real
//! test tools (helm 3 and 4, kubectl, sshd, git), reach the real test cluster (`cluster`),
//! start servers they talk to (sshd, Git over HTTP, a small HTTP server), and make every skip
//! visible.

pub mod bins;
pub mod cluster;
pub mod git_http;
pub mod git_repo;
pub mod helm;
pub mod http;
pub mod skip;
pub mod sshd;
pub mod tools;

pub use bins::{Run, run_tool, tool_command};
pub use tools::{Tool, require_tool};
