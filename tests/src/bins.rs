//! Builds the workspace's binaries once and runs them the way a user would: stdin in,
//! stdout, stderr and exit code out, with the whole command shown when an assertion fails.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// The directory holding our built binaries (`target/debug`), built once per test process.
/// Cargo does not build other packages' binaries for this package's tests, so we ask it to,
/// as ripgrep's test utilities do: into the very directory this test executable sits in
/// (`--target-dir` and `--profile` taken from its path), so `CARGO_TARGET_DIR`, `--target-dir`
/// and `--release` runs find fresh binaries beside the test, never stale ones elsewhere.
pub fn bin_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = profile_dir().expect("the test executable sits in <target>/<profile>/deps");
        cargo_build(&dir, &["--workspace", "--bins", "--exclude", "xtask"]);
        dir
    })
}

/// The xtask binary, built once per test process (the workspace build above excludes it).
pub fn xtask_bin() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let dir = bin_dir();
        cargo_build(dir, &["-p", "xtask"]);
        dir.join("xtask")
    })
}

/// `<target>/<profile>`: the directory of this test executable's `deps/` folder, where cargo
/// puts the binaries of the same build. None if the executable is not where cargo puts tests.
pub fn profile_dir() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let deps = exe.parent()?;
    (deps.file_name()? == "deps").then(|| deps.parent().map(Path::to_path_buf))?
}

/// The target directory this test executable was built into (`target`, or `CARGO_TARGET_DIR`).
pub fn target_dir() -> Option<PathBuf> {
    profile_dir()?.parent().map(Path::to_path_buf)
}

/// The arguments that make `cargo build` write into `profile_dir` (`<target>/<profile>`).
pub fn build_location_args(profile_dir: &Path) -> Vec<std::ffi::OsString> {
    let mut args = Vec::new();
    if let Some(target) = profile_dir.parent() {
        args.push("--target-dir".into());
        args.push(target.as_os_str().to_os_string());
    }
    // Cargo names the dev (and test) profile's directory `debug`; every other profile's
    // directory is the profile's own name.
    let profile = match profile_dir.file_name().and_then(|name| name.to_str()) {
        Some("debug") | None => "dev",
        Some(name) => name,
    };
    args.push("--profile".into());
    args.push(profile.into());
    args
}

fn cargo_build(profile_dir: &Path, what: &[&str]) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let status = Command::new(&cargo)
        .args(["build", "--quiet"])
        .args(what)
        .args(build_location_args(profile_dir))
        .current_dir(workspace_root())
        .status()
        .unwrap_or_else(|error| panic!("cannot run `{cargo} build`: {error}"));
    assert!(status.success(), "`cargo build {}` failed (its errors are above)", what.join(" "));
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

/// Names the shared test-data folder; default `../shared` beside the checkout.
pub const SHARED_VARIABLE: &str = "AIRFLOW_KIT_SHARED";

/// The shared test-data folder: the real Airflow charts (`airflow-chart/<version>/`, values,
/// schema and templates) and the reference tables (`reference/host-keys.md`, ...). It is not
/// part of the repository; a test that needs it fails, naming [`SHARED_VARIABLE`], when it is
/// not there, rather than passing without having looked.
#[track_caller]
pub fn shared_dir() -> PathBuf {
    let default = workspace_root().parent().map(|parent| parent.join("shared"));
    match locate_shared(std::env::var_os(SHARED_VARIABLE), default) {
        Ok(dir) => dir,
        Err(message) => panic!("{message}"),
    }
}

/// What the shared folder holds, for the error a test without it fails with.
const SHARED_HOLDS: &str = "the real Airflow charts (airflow-chart/1.15.0, 1.20.0, ...: values.yaml, \
values.schema.json, templates) and the reference tables (reference/host-keys.md, ...)";

/// Finds the shared folder from the variable's value, else the default beside the checkout.
/// A folder without `airflow-chart/` and `reference/` is refused: the variable named the
/// wrong folder, and every test reading it would fail with a confusing missing-file error.
pub fn locate_shared(variable: Option<std::ffi::OsString>, default: Option<PathBuf>) -> Result<PathBuf, String> {
    let (dir, named_by) = match variable.filter(|value| !value.is_empty()) {
        Some(value) => {
            let dir = PathBuf::from(value);
            let named_by = format!("{SHARED_VARIABLE}={}", dir.display());
            (dir, named_by)
        }
        None => match default {
            Some(dir) if dir.is_dir() => {
                let named_by = format!("the default `{}` ({SHARED_VARIABLE} is not set)", dir.display());
                (dir, named_by)
            }
            other => {
                let beside = other.map(|dir| format!(" (`{}` does not exist)", dir.display())).unwrap_or_default();
                return Err(format!(
                    "this test needs the shared test-data folder, which holds {SHARED_HOLDS}; it is not part of \
                     the repository\n\nhint: set {SHARED_VARIABLE} to that folder, or put it at `../shared` beside \
                     the checkout{beside}"
                ));
            }
        },
    };
    if !dir.is_dir() {
        return Err(format!(
            "{named_by} does not exist; it should name the shared test-data folder, which holds {SHARED_HOLDS}\n\n\
             hint: set {SHARED_VARIABLE} to that folder"
        ));
    }
    let missing: Vec<&str> = ["airflow-chart", "reference"].into_iter().filter(|sub| !dir.join(sub).is_dir()).collect();
    if missing.is_empty() {
        return Ok(dir);
    }
    Err(format!(
        "{named_by} is not the shared test-data folder: it lacks {}; that folder holds {SHARED_HOLDS}\n\nhint: set \
         {SHARED_VARIABLE} to the folder that has `airflow-chart/` and `reference/`",
        missing.iter().map(|sub| format!("`{sub}/`")).collect::<Vec<_>>().join(" and ")
    ))
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
pub fn run_command(command: Command, stdin: Option<&[u8]>) -> Run {
    let shown = format!("{command:?}");
    run_command_shown(command, shown, stdin)
}

/// [`run_command`], showing the command as `shown`: for a command whose environment carries a
/// secret, since `{command:?}` prints the variables a test set.
pub fn run_command_shown(mut command: Command, shown: String, stdin: Option<&[u8]>) -> Run {
    use std::io::Write;
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

/// No secret in `secrets` reached any run's stdout or stderr.
#[track_caller]
pub fn assert_no_secret(runs: &[&Run], secrets: &[String]) {
    for run in runs {
        for secret in secrets {
            assert!(
                !run.stdout.contains(secret.as_str()) && !run.stderr.contains(secret.as_str()),
                "a secret leaked\n{run}"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_build_goes_where_the_test_executable_is() {
        let shown = |dir: &str| -> Vec<String> {
            build_location_args(Path::new(dir)).iter().map(|arg| arg.to_string_lossy().into_owned()).collect()
        };
        assert_eq!(shown("/t/debug"), ["--target-dir", "/t", "--profile", "dev"]);
        assert_eq!(shown("/elsewhere/target/release"), ["--target-dir", "/elsewhere/target", "--profile", "release"]);
        assert_eq!(shown("/t/ci-profile"), ["--target-dir", "/t", "--profile", "ci-profile"]);
    }

    #[test]
    fn the_shared_folder_is_the_variable_else_the_default_and_must_hold_the_charts() {
        let dir = tempfile::tempdir().expect("temp dir");
        let good = dir.path().join("shared");
        std::fs::create_dir_all(good.join("airflow-chart")).expect("dir");
        std::fs::create_dir_all(good.join("reference")).expect("dir");
        let missing = dir.path().join("nowhere");

        assert_eq!(locate_shared(Some(good.clone().into()), Some(missing.clone())), Ok(good.clone()));
        assert_eq!(locate_shared(None, Some(good.clone())), Ok(good.clone()));
        // An empty variable is unset, as shells leave it after `AIRFLOW_KIT_SHARED= cargo test`.
        assert_eq!(locate_shared(Some("".into()), Some(good.clone())), Ok(good.clone()));

        let error = locate_shared(None, Some(missing.clone())).expect_err("no folder");
        assert!(error.contains("AIRFLOW_KIT_SHARED"), "{error}");
        assert!(error.contains("airflow-chart") && error.contains("host-keys.md"), "{error}");
        assert!(error.contains(&missing.display().to_string()), "{error}");

        let error = locate_shared(Some(missing.clone().into()), Some(good.clone())).expect_err("named nothing");
        assert!(error.starts_with(&format!("AIRFLOW_KIT_SHARED={} does not exist", missing.display())), "{error}");

        let error = locate_shared(Some(dir.path().as_os_str().to_os_string()), None).expect_err("wrong folder");
        assert!(error.contains(&format!("AIRFLOW_KIT_SHARED={}", dir.path().display())), "{error}");
        assert!(error.contains("lacks `airflow-chart/` and `reference/`"), "{error}");
    }
}
