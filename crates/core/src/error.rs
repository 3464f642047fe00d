//! The one error type of every tool, the exit-code table, and how an error is shown.

use std::fmt;

/// The exit codes of every airflow-kit tool (conventions.md). Query tools use `No` for "the check
/// ran and the answer is no"; filters never do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    Success = 0,
    No = 1,
    BadInput = 2,
    External = 3,
    Refused = 4,
}

impl ExitCode {
    pub fn code(self) -> u8 {
        self as u8
    }
}

/// The table repeated at the end of each tool's `--help`.
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  success
  1  the check ran and the answer is \"no\" (query tools only)
  2  bad usage or bad input; nothing was written
  3  an external program (helm, kubectl, ssh-keyscan, git) failed; its stderr is shown
  4  refused for safety (an unverified host key, a secret that would be overwritten)";

/// Where in an input something went wrong. Lines and columns count from 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: String,
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}`: line {}, column {}", self.file, self.line, self.column)
    }
}

/// What went wrong, what to do about it (`hint`), and the exit code it maps to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub code: ExitCode,
    pub message: String,
    pub location: Option<Location>,
    pub hint: Option<String>,
    /// Lines an external program printed on stderr, shown under the message.
    pub detail: Option<String>,
}

impl Error {
    pub fn new(code: ExitCode, message: impl Into<String>) -> Error {
        Error { code, message: message.into(), location: None, hint: None, detail: None }
    }

    /// Bad usage or bad input: exit 2.
    pub fn bad_input(message: impl Into<String>) -> Error {
        Error::new(ExitCode::BadInput, message)
    }

    /// An external program failed or could not be run: exit 3.
    pub fn external(message: impl Into<String>) -> Error {
        Error::new(ExitCode::External, message)
    }

    /// Refused for safety: exit 4.
    pub fn refused(message: impl Into<String>) -> Error {
        Error::new(ExitCode::Refused, message)
    }

    /// The check ran and the answer is no: exit 1.
    pub fn no(message: impl Into<String>) -> Error {
        Error::new(ExitCode::No, message)
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Error {
        self.hint = Some(hint.into());
        self
    }

    pub fn with_location(mut self, location: Location) -> Error {
        self.location = Some(location);
        self
    }

    pub fn with_detail(mut self, detail: impl Into<String>) -> Error {
        let detail = detail.into();
        if !detail.trim().is_empty() {
            self.detail = Some(detail);
        }
        self
    }

    /// The text printed on stderr: every line prefixed with the tool's name, the hint last.
    pub fn render(&self, tool: &str) -> String {
        let mut out = String::new();
        match &self.location {
            Some(location) => out.push_str(&format!("{tool}: {}: {}\n", location, self.message)),
            None => out.push_str(&format!("{tool}: {}\n", self.message)),
        }
        if let Some(detail) = &self.detail {
            for line in detail.trim_end().lines() {
                out.push_str(&format!("{tool}:   {line}\n"));
            }
        }
        if let Some(hint) = &self.hint {
            out.push('\n');
            for (index, line) in hint.lines().enumerate() {
                if index == 0 {
                    out.push_str(&format!("hint: {line}\n"));
                } else {
                    out.push_str(&format!("      {line}\n"));
                }
            }
        }
        out
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            Some(location) => write!(f, "{}: {}", location, self.message),
            None => write!(f, "{}", self.message),
        }
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_puts_location_first_and_hint_last() {
        let error = Error::bad_input("mapping values are not allowed here")
            .with_location(Location { file: "prod.yaml".into(), line: 12, column: 3 })
            .with_hint("check the indentation of the line above");
        assert_eq!(
            error.render("values-merge"),
            "values-merge: `prod.yaml`: line 12, column 3: mapping values are not allowed here\n\nhint: check the indentation of the line above\n"
        );
    }

    #[test]
    fn render_indents_detail_lines() {
        let error = Error::external("`helm` failed").with_detail("Error: boom\nmore\n");
        assert_eq!(error.render("helm-run"), "helm-run: `helm` failed\nhelm-run:   Error: boom\nhelm-run:   more\n");
        assert_eq!(error.code.code(), 3);
    }
}
