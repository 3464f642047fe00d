//! The real programs the tests are judged by. `cargo xtask ci` installs them and names them in
//! AIRFLOW_KIT_* variables; under CI a missing tool fails the test, elsewhere it skips loudly.

use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    Helm3,
    Helm4,
    Kubectl,
    Sshd,
    SshKeygen,
    SshKeyscan,
    Git,
    Python,
}

impl Tool {
    fn variable(self) -> Option<&'static str> {
        match self {
            Tool::Helm3 => Some("AIRFLOW_KIT_HELM3"),
            Tool::Helm4 => Some("AIRFLOW_KIT_HELM4"),
            Tool::Kubectl => Some("AIRFLOW_KIT_KUBECTL"),
            Tool::Sshd => Some("AIRFLOW_KIT_SSHD"),
            _ => None,
        }
    }

    fn default_name(self) -> &'static str {
        match self {
            Tool::Helm3 => "helm3",
            Tool::Helm4 => "helm4",
            Tool::Kubectl => "kubectl",
            Tool::Sshd => "/usr/sbin/sshd",
            Tool::SshKeygen => "ssh-keygen",
            Tool::SshKeyscan => "ssh-keyscan",
            Tool::Git => "git",
            Tool::Python => "python3",
        }
    }

    /// Where the tool is: its variable, else the test-tools directory, else PATH.
    pub fn find(self) -> Option<PathBuf> {
        if let Some(variable) = self.variable() {
            if let Some(path) = std::env::var_os(variable) {
                let path = PathBuf::from(path);
                return path.exists().then_some(path);
            }
            let installed = crate::bins::workspace_root().join("target/test-tools/bin").join(self.default_name());
            if installed.exists() {
                return Some(installed);
            }
        }
        airflow_kit_core::process::find_on_path(self.default_name())
    }
}

/// The tool's path, or None with a loud "skipped" line. Under CI (`CI` set) a missing tool
/// is a failure: CI installs every tool, so missing means the install is broken.
#[track_caller]
pub fn require_tool(tool: Tool, test: &str) -> Option<PathBuf> {
    match tool.find() {
        Some(path) => Some(path),
        None if std::env::var_os("CI").is_some() => {
            panic!("{test}: {tool:?} is not installed; run scripts/install-test-tools.sh")
        }
        None => {
            eprintln!("SKIPPED {test}: {tool:?} is not installed (run `cargo xtask ci`, which installs it)");
            None
        }
    }
}

/// Both Helm majors, for tests that must hold with each.
pub fn helms(test: &str) -> Vec<(&'static str, PathBuf)> {
    let mut found = Vec::new();
    if let Some(path) = require_tool(Tool::Helm3, test) {
        found.push(("helm3", path));
    }
    if let Some(path) = require_tool(Tool::Helm4, test) {
        found.push(("helm4", path));
    }
    found
}
