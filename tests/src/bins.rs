//! Builds the workspace's binaries once and runs them the way a user would: stdin in,
//! stdout, stderr and exit code out, with the whole command shown when an assertion fails.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// The directory holding our built binaries (`target/debug`), built once per test process.
/// Cargo does not build other packages' binaries for this package's tests, so we ask it to,
/// as ripgrep's test utilities do.
pub fn bin_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
        let status = Command::new(cargo)
            .args(["build", "--quiet", "--workspace", "--bins", "--exclude", "xtask"])
            .current_dir(workspace_root())
            .status()
            .expect("cargo build runs");
        assert!(status.success(), "building the workspace binaries failed");
        // The test executable is target/debug/deps/<name>; binaries sit one level up.
        let exe = std::env::current_exe().expect("current exe");
        exe.parent().and_then(Path::parent).expect("target/debug").to_path_buf()
    })
}

/// The xtask binary, built once per test process (the workspace build above excludes it).
pub fn xtask_bin() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
        let status = Command::new(cargo)
            .args(["build", "--quiet", "-p", "xtask"])
            .current_dir(workspace_root())
            .status()
            .expect("cargo build runs");
        assert!(status.success(), "building xtask failed");
        bin_dir().join("xtask")
    })
}

/// Every file under `dir` with its bytes, to show a run changed nothing.
pub fn files_under(dir: &Path) -> std::collections::BTreeMap<PathBuf, Vec<u8>> {
    let mut files = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.insert(path.clone(), std::fs::read(&path).expect("read"));
            }
        }
    }
    files
}

/// The workspace root (where Cargo.toml with [workspace] is).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace root").to_path_buf()
}

/// The shared/ folder beside the checkout (chart values and schemas, reference tables).
pub fn shared_dir() -> PathBuf {
    workspace_root().parent().expect("parent of the checkout").join("shared")
}

/// A command for one of our tools, ready for args.
pub fn tool_command(tool: &str) -> Command {
    let path = bin_dir().join(tool);
    assert!(path.exists(), "binary `{}` was not built", path.display());
    Command::new(path)
}

/// The result of running a command, with everything needed to explain a failure.
#[derive(Debug)]
pub struct Run {
    pub command: String,
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Asserts the exit code, printing the command, stdout and stderr when it differs.
    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Run {
        assert_eq!(self.code, code, "unexpected exit code\n{self}");
        self
    }

    #[track_caller]
    pub fn expect_success(&self) -> &Run {
        self.expect_code(0)
    }

    #[track_caller]
    pub fn expect_stderr_contains(&self, needle: &str) -> &Run {
        assert!(self.stderr.contains(needle), "stderr lacks {needle:?}\n{self}");
        self
    }

    #[track_caller]
    pub fn expect_stdout_contains(&self, needle: &str) -> &Run {
        assert!(self.stdout.contains(needle), "stdout lacks {needle:?}\n{self}");
        self
    }
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "command: {}\nexit code: {}\n--- stdout\n{}--- stderr\n{}---",
            self.command, self.code, self.stdout, self.stderr
        )
    }
}

/// Runs a prepared command with `stdin` piped in (None: no stdin at all).
pub fn run_command(mut command: Command, stdin: Option<&[u8]>) -> Run {
    use std::io::Write;
    let shown = format!("{command:?}");
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    command.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
    let mut child = command.spawn().unwrap_or_else(|error| panic!("cannot start {shown}: {error}"));
    if let Some(bytes) = stdin {
        let mut pipe = child.stdin.take().expect("stdin pipe");
        // A tool may exit before reading all of stdin; that is its business, not a test error.
        let _ = pipe.write_all(bytes);
    }
    let output = child.wait_with_output().expect("wait");
    Run {
        command: shown,
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Runs one of our tools with args and stdin, in `dir`.
pub fn run_tool(tool: &str, args: &[&str], stdin: Option<&str>, dir: &Path) -> Run {
    let mut command = tool_command(tool);
    command.args(args).current_dir(dir);
    run_command(command, stdin.map(str::as_bytes))
}
