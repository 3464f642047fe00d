//! The shared harness of the end-to-end tests: find and run our built binaries, find the real
//! test tools (helm 3 and 4, kubectl, sshd), and start servers they talk to.

pub mod bins;
pub mod helm;
pub mod http;
pub mod sshd;
pub mod tools;

pub use bins::{Run, run_tool, tool_command};
pub use tools::{Tool, require_tool};
