//! What every tool's thin `main.rs` does the same way: show errors, map them to exit codes,
//! write stdout without panicking on a closed pipe, and refuse to wait on a terminal.

use std::io::{self, IsTerminal, Write};

use crate::error::{Error, ExitCode};

/// Runs a tool's body and turns its result into the process exit code. Errors go to stderr
/// in the shared format (`<tool>: message`, then `hint: ...`).
pub fn finish(tool: &str, result: Result<ExitCode, Error>) -> std::process::ExitCode {
    match result {
        Ok(code) => std::process::ExitCode::from(code.code()),
        Err(error) => {
            let _ = io::stderr().write_all(error.render(tool).as_bytes());
            std::process::ExitCode::from(error.code.code())
        }
    }
}

/// Writes the document or report to stdout. A reader that went away (`| head`) is a quiet
/// success, not a panic.
pub fn write_stdout(text: &str) -> Result<(), Error> {
    let mut stdout = io::stdout().lock();
    match stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        Err(error) => Err(Error::external(format!("cannot write to stdout: {error}"))),
    }
}

/// Prints one line to stderr, prefixed with the tool's name.
pub fn say(tool: &str, message: &str) {
    let mut stderr = io::stderr().lock();
    for line in message.lines() {
        let _ = writeln!(stderr, "{tool}: {line}");
    }
}

/// Reads all of stdin, unless it is a terminal: then nobody is piping a document in, and
/// waiting would only look like a hang. `what` names the expected input for the message.
pub fn read_stdin(what: &str) -> Result<String, Error> {
    let stdin = io::stdin();
    if stdin.is_terminal() {
        return Err(Error::bad_input(format!("expected {what} on stdin, but stdin is a terminal"))
            .with_hint("pipe a document in (`... | tool`), or name a file; use `-` to read stdin explicitly"));
    }
    let mut bytes = Vec::new();
    io::Read::read_to_end(&mut stdin.lock(), &mut bytes)
        .map_err(|error| Error::bad_input(format!("cannot read stdin: {error}")))?;
    String::from_utf8(bytes).map_err(|error| {
        Error::bad_input(format!(
            "stdin is not UTF-8 text (invalid byte at offset {})",
            error.utf8_error().valid_up_to()
        ))
        .with_hint("values documents are YAML text; check that the right file is piped in")
    })
}

/// True when stdin is a terminal (nothing piped in).
pub fn stdin_is_terminal() -> bool {
    io::stdin().is_terminal()
}
