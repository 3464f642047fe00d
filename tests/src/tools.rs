//! The real programs the tests are judged by. `cargo xtask ci` installs them and names them in
//! AIRFLOW_KIT_* variables; under CI a missing tool fails the test, elsewhere the test is
//! skipped through [`crate::skip`], so the skip shows in the run's output and summary.

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
        self.locate().ok()
    }

    /// Where the tool is, or why it was not found (the reason a skip or a CI failure gives).
    pub fn locate(self) -> Result<PathBuf, String> {
        if let Some(variable) = self.variable() {
            if let Some(path) = std::env::var_os(variable).filter(|value| !value.is_empty()) {
                let path = PathBuf::from(path);
                // A variable naming nothing is a broken setup, not a reason to pick another
                // helm from PATH and judge our output with the wrong major.
                return if path.exists() {
                    Ok(path)
                } else {
                    Err(format!(
                        "{tool:?} not found: {variable} names `{}`, which does not exist",
                        path.display(),
                        tool = self
                    ))
                };
            }
            // Where scripts/install-test-tools.sh puts them: AIRFLOW_KIT_TOOLS_DIR, else the
            // checkout's target/test-tools (not CARGO_TARGET_DIR: the script does not read it).
            let tools_dir = std::env::var_os("AIRFLOW_KIT_TOOLS_DIR")
                .filter(|value| !value.is_empty())
                .map(PathBuf::from)
                .unwrap_or_else(|| crate::bins::workspace_root().join("target/test-tools"));
            let installed = tools_dir.join("bin").join(self.default_name());
            if installed.exists() {
                return Ok(installed);
            }
        }
        airflow_kit_core::process::find_on_path(self.default_name()).ok_or_else(|| match self.variable() {
            Some(variable) => format!(
                "{self:?} not found: {variable} is not set and `{}` is neither in target/test-tools/bin nor on PATH",
                self.default_name()
            ),
            None => format!("{self:?} not found: `{}` is not on PATH", self.default_name()),
        })
    }
}

/// The tool's path, or None after a visible skip ([`crate::skip::skip`]). Under CI (`CI` set)
/// a missing tool is a failure: CI installs every tool, so missing means the install is broken.
#[track_caller]
pub fn require_tool(tool: Tool, test: &str) -> Option<PathBuf> {
    require_found(tool.locate(), test)
}

/// [`require_tool`] for a program found some other way (`git http-backend` is found through
/// `git --exec-path`): the path, or the reason it is missing, which fails the test under CI
/// and skips it visibly elsewhere.
#[track_caller]
pub fn require_found(found: Result<PathBuf, String>, test: &str) -> Option<PathBuf> {
    match found {
        Ok(path) => Some(path),
        Err(reason) if crate::skip::under_ci() => {
            panic!(
                "{test}: {reason}\n\nhint: under CI every test tool must be installed; run scripts/install-test-tools.sh"
            )
        }
        Err(reason) => {
            crate::skip::skip(
                test,
                &format!("{reason} (`cargo xtask ci` installs it; under CI this test fails instead)"),
            );
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
