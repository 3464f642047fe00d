//! Running external programs (helm, kubectl, ssh-keyscan, git) through duct: output captured,
//! a timeout that kills the child's whole process group, and a printable command line in which
//! arguments marked secret never appear.

use std::ffi::{OsStr, OsString};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::time::Duration;

use crate::error::Error;

/// One argument; a `Secret` one is shown as `<redacted>` wherever the command is displayed.
/// Prefer files or stdin for secrets: argv is readable by every user through /proc.
#[derive(Debug, Clone)]
pub enum Arg {
    Plain(OsString),
    Secret(OsString),
}

/// A command to run, built up like `std::process::Command`.
#[derive(Debug, Clone)]
pub struct Command {
    pub program: OsString,
    pub args: Vec<Arg>,
    pub env: Vec<(OsString, OsString)>,
    pub env_remove: Vec<OsString>,
    pub dir: Option<PathBuf>,
    pub stdin: Option<Vec<u8>>,
    pub timeout: Option<Duration>,
}

/// What a finished command left: exit code (None when killed by a signal) and its output.
#[derive(Debug, Clone)]
pub struct Output {
    pub code: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl Output {
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }

    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
}

impl Command {
    pub fn new(program: impl AsRef<OsStr>) -> Command {
        Command {
            program: program.as_ref().to_owned(),
            args: Vec::new(),
            env: Vec::new(),
            env_remove: Vec::new(),
            dir: None,
            stdin: None,
            timeout: None,
        }
    }

    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Command {
        self.args.push(Arg::Plain(arg.as_ref().to_owned()));
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args.extend(args.into_iter().map(|arg| Arg::Plain(arg.as_ref().to_owned())));
        self
    }

    /// An argument that must never be displayed (it is still visible in /proc while running).
    pub fn secret_arg(mut self, arg: impl AsRef<OsStr>) -> Command {
        self.args.push(Arg::Secret(arg.as_ref().to_owned()));
        self
    }

    pub fn env(mut self, name: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Command {
        self.env.push((name.as_ref().to_owned(), value.as_ref().to_owned()));
        self
    }

    pub fn env_remove(mut self, name: impl AsRef<OsStr>) -> Command {
        self.env_remove.push(name.as_ref().to_owned());
        self
    }

    pub fn dir(mut self, dir: impl Into<PathBuf>) -> Command {
        self.dir = Some(dir.into());
        self
    }

    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Command {
        self.stdin = Some(bytes.into());
        self
    }

    pub fn timeout(mut self, timeout: Duration) -> Command {
        self.timeout = Some(timeout);
        self
    }

    /// The command line as a person would type it, secrets redacted, for reports and errors.
    pub fn display(&self) -> String {
        let mut words = vec![shell_quote(&self.program.to_string_lossy())];
        for arg in &self.args {
            match arg {
                Arg::Plain(text) => words.push(shell_quote(&text.to_string_lossy())),
                Arg::Secret(_) => words.push("<redacted>".to_string()),
            }
        }
        words.join(" ")
    }

    /// The program's name as shown in messages (`helm`, not `/usr/local/bin/helm`).
    pub fn program_name(&self) -> String {
        PathBuf::from(&self.program)
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_else(|| self.program.to_string_lossy().into_owned())
    }

    fn expression(&self) -> duct::Expression {
        let args: Vec<OsString> = self
            .args
            .iter()
            .map(|arg| match arg {
                Arg::Plain(text) | Arg::Secret(text) => text.clone(),
            })
            .collect();
        let mut expression = duct::cmd(&self.program, args).unchecked();
        for (name, value) in &self.env {
            expression = expression.env(name, value);
        }
        for name in &self.env_remove {
            expression = expression.env_remove(name);
        }
        if let Some(dir) = &self.dir {
            expression = expression.dir(dir);
        }
        expression = match &self.stdin {
            Some(bytes) => expression.stdin_bytes(bytes.clone()),
            None => expression.stdin_null(),
        };
        // Its own process group, so a timeout can kill grandchildren too: a grandchild that
        // holds our pipes open would otherwise keep the wait from ever returning.
        expression.before_spawn(|command| {
            command.process_group(0);
            Ok(())
        })
    }
}

/// Runs the command to completion with stdout and stderr captured. A program that cannot be
/// started, or that outlives its timeout, is an `External` error; a non-zero exit is NOT an
/// error here (callers decide what a failure means), see [`run_checked`].
pub fn run(command: &Command) -> Result<Output, Error> {
    let handle =
        command.expression().stdout_capture().stderr_capture().start().map_err(|error| spawn_error(command, &error))?;
    let finished = match command.timeout {
        Some(timeout) => handle.wait_timeout(timeout),
        None => handle.wait().map(Some),
    }
    .map_err(|error| Error::external(format!("`{}` failed: {}", command.program_name(), error)))?;
    match finished.map(|output| output.status.code()) {
        Some(code) => {
            // The child has exited, so this only hands over the captured bytes: no copy of
            // what may be megabytes of output (a `kubectl get pods -o json` of a big namespace).
            let output = handle
                .into_output()
                .map_err(|error| Error::external(format!("`{}` failed: {}", command.program_name(), error)))?;
            Ok(Output { code, stdout: output.stdout, stderr: output.stderr })
        }
        None => {
            kill_group(&handle);
            let _ = handle.wait();
            let seconds = command.timeout.map(|t| t.as_secs_f64()).unwrap_or_default();
            Err(timed_out(command, &format!("within {seconds:.0}s")))
        }
    }
}

/// Like [`run`], but a non-zero exit becomes an `External` error carrying the program's stderr.
pub fn run_checked(command: &Command) -> Result<Output, Error> {
    let output = run(command)?;
    if output.success() {
        return Ok(output);
    }
    Err(failed(command, &output))
}

/// The error for a command that ran and failed: its name, exit code and stderr.
pub fn failed(command: &Command, output: &Output) -> Error {
    let status = match output.code {
        Some(code) => format!("exit code {code}"),
        None => "killed by a signal".to_string(),
    };
    Error::external(format!("`{}` failed ({status})", command.display())).with_detail(output.stderr_text())
}

/// Runs the command with stderr passed through (so a person sees progress as it comes) and
/// stdout captured. `on_start` receives the child's process ids, e.g. to forward Ctrl-C.
pub fn run_streaming(command: &Command, on_start: impl FnOnce(&[u32])) -> Result<Output, Error> {
    let handle = command.expression().stdout_capture().start().map_err(|error| spawn_error(command, &error))?;
    on_start(&handle.pids());
    let finished = match command.timeout {
        Some(timeout) => handle.wait_timeout(timeout),
        None => handle.wait().map(Some),
    }
    .map_err(|error| Error::external(format!("`{}` failed: {}", command.program_name(), error)))?;
    match finished {
        Some(output) => Ok(Output { code: output.status.code(), stdout: output.stdout.clone(), stderr: Vec::new() }),
        None => {
            kill_group(&handle);
            let _ = handle.wait();
            Err(timed_out(command, "in time"))
        }
    }
}

/// Sends `signal` to the process group led by `pid` (children run in their own group).
pub fn signal_group(pid: u32, signal: i32) {
    // SAFETY: kill(2) has no memory-safety preconditions; a stale pid only yields ESRCH.
    unsafe {
        libc::kill(-(pid as i32), signal);
    }
}

/// Looks `program` up on PATH the way a shell would; None when absent.
pub fn find_on_path(program: &str) -> Option<PathBuf> {
    if program.contains('/') {
        let path = PathBuf::from(program);
        return is_executable(&path).then_some(path);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(program)).find(|candidate| is_executable(candidate))
}

/// Which kubectl to run: `kubectl` on PATH, else `microk8s kubectl` (MicroK8s ships kubectl
/// only as a subcommand); with `microk8s`, MicroK8s' own. Returns the program words. The caller
/// passes the PATH lookup, so no library reads the environment.
pub fn find_kubectl(microk8s: bool, find_on_path: impl Fn(&str) -> Option<PathBuf>) -> Result<Vec<OsString>, Error> {
    if !microk8s && let Some(path) = find_on_path("kubectl") {
        return Ok(vec![path.into_os_string()]);
    }
    if let Some(path) = find_on_path("microk8s") {
        return Ok(vec![path.into_os_string(), OsString::from("kubectl")]);
    }
    let message =
        if microk8s { "`microk8s` was not found on PATH" } else { "`kubectl` was not found on PATH (nor `microk8s`)" };
    Err(Error::external(message).with_hint(
        "install kubectl (https://kubernetes.io/docs/tasks/tools/), or with MicroK8s put `/snap/bin` on PATH\n\
         so `microk8s kubectl` is found (or run `sudo snap alias microk8s.kubectl kubectl`)",
    ))
}

/// `kubectl` (the words [`find_kubectl`] returned) with the global flags first:
/// `kubectl [--kubeconfig K] [--context C] --namespace N`, ready for a verb.
pub fn kubectl_command(
    program: &[OsString],
    kubeconfig: Option<&std::path::Path>,
    context: Option<&str>,
    namespace: &str,
) -> Command {
    let mut words = program.iter();
    let mut command = Command::new(words.next().cloned().unwrap_or_else(|| OsString::from("kubectl")));
    for word in words {
        command = command.arg(word);
    }
    if let Some(kubeconfig) = kubeconfig {
        command = command.arg("--kubeconfig").arg(kubeconfig);
    }
    if let Some(context) = context {
        command = command.arg("--context").arg(context);
    }
    command.arg("--namespace").arg(namespace)
}

fn is_executable(path: &std::path::Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0).unwrap_or(false)
}

fn kill_group(handle: &duct::Handle) {
    for pid in handle.pids() {
        signal_group(pid, libc::SIGKILL);
    }
}

fn spawn_error(command: &Command, error: &std::io::Error) -> Error {
    let name = command.program_name();
    if error.kind() == std::io::ErrorKind::NotFound {
        return Error::external(format!("`{name}` was not found"))
            .with_hint(format!("install `{name}` or put it on PATH"));
    }
    Error::external(format!("cannot run `{name}`: {}", crate::fs::plain_io_error(error)))
        .with_hint(format!("check that `{name}` is an executable you may run"))
}

/// A child stopped at its timeout, with its whole process group. The usual cause is a host
/// or cluster that does not answer; the hint says where to look.
pub fn timed_out(command: &Command, within: &str) -> Error {
    let name = command.program_name();
    Error::external(format!("`{name}` did not finish {within} and was stopped")).with_hint(format!(
        "check that what `{name}` talks to is reachable (network, DNS, the cluster's API), then try again"
    ))
}

/// Quotes a word for display in a POSIX shell, only when it needs it.
pub fn shell_quote(word: &str) -> String {
    let safe = !word.is_empty() && word.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=:,@%+[]".contains(c));
    if safe { word.to_string() } else { format!("'{}'", word.replace('\'', "'\\''")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captures_output_and_exit_code() {
        let output = run(&Command::new("sh").arg("-c").arg("echo out; echo err >&2; exit 3")).expect("runs");
        assert_eq!(output.code, Some(3));
        assert_eq!(output.stdout_text(), "out\n");
        assert_eq!(output.stderr_text(), "err\n");
    }

    #[test]
    fn run_checked_attaches_stderr() {
        let error =
            run_checked(&Command::new("sh").arg("-c").arg("echo 'Error: nope' >&2; exit 1")).expect_err("fails");
        assert_eq!(error.code, crate::ExitCode::External);
        assert_eq!(error.detail.as_deref(), Some("Error: nope\n"));
    }

    #[test]
    fn timeout_kills_grandchildren_holding_the_pipes() {
        let started = std::time::Instant::now();
        // The background `sleep` inherits stdout: without killing the group, wait would block.
        let command = Command::new("sh").arg("-c").arg("sleep 30 & sleep 30").timeout(Duration::from_millis(300));
        let error = run(&command).expect_err("must time out");
        assert!(error.message.contains("did not finish"), "{}", error.message);
        assert!(error.hint.is_some_and(|hint| hint.contains("reachable")), "a timeout says where to look");
        assert!(started.elapsed() < Duration::from_secs(10), "took {:?}", started.elapsed());
    }

    #[test]
    fn missing_program_is_external_with_hint() {
        let error = run(&Command::new("definitely-not-a-program-here")).expect_err("fails");
        assert_eq!(error.code, crate::ExitCode::External);
        assert!(error.hint.expect("hint").contains("install"));
    }

    #[test]
    fn display_redacts_secret_arguments() {
        let command = Command::new("/usr/bin/helm").arg("upgrade").secret_arg("password=hunter2").arg("a b");
        assert_eq!(command.display(), "/usr/bin/helm upgrade <redacted> 'a b'");
        assert_eq!(command.program_name(), "helm");
    }

    #[test]
    fn kubectl_then_microk8s_kubectl() {
        let on_path = |names: &'static [&'static str]| {
            move |name: &str| names.contains(&name).then(|| PathBuf::from(format!("/bin/{name}")))
        };
        assert_eq!(
            find_kubectl(false, on_path(&["kubectl", "microk8s"])).expect("found"),
            [OsString::from("/bin/kubectl")]
        );
        let microk8s = [OsString::from("/bin/microk8s"), OsString::from("kubectl")];
        assert_eq!(find_kubectl(false, on_path(&["microk8s"])).expect("found"), microk8s);
        assert_eq!(find_kubectl(true, on_path(&["kubectl", "microk8s"])).expect("found"), microk8s);
        let error = find_kubectl(false, on_path(&[])).expect_err("none");
        assert_eq!(error.code, crate::ExitCode::External);
        assert!(error.hint.expect("hint").contains("microk8s"));
    }

    #[test]
    fn stdin_is_fed() {
        let output = run(&Command::new("cat").stdin("hello")).expect("runs");
        assert_eq!(output.stdout_text(), "hello");
    }
}
