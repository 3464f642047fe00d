//! Which helm to run (`--helm`, `--microk8s`, `helm` on PATH, or MicroK8s' bundled
//! `microk8s helm3` when there is no helm), its version, and the command line every call
//! starts from.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use airflow_kit_core::Error;
use airflow_kit_core::process::{self, Command};

use crate::Environment;
use crate::report::HelmUsed;

/// The oldest Helm the Airflow chart supports. Older ones lack flags the pipeline relies on.
pub const MINIMUM_VERSION: Version = Version { major: 3, minor: 10, patch: 0 };

/// How long a local helm call (version, template, repo) may take before we give up on it.
pub const LOCAL_TIMEOUT: Duration = Duration::from_secs(120);

/// A helm we can run: a program plus the words that select helm inside it (`microk8s helm3`).
#[derive(Debug, Clone)]
pub struct Helm {
    pub program: PathBuf,
    pub prefix: Vec<String>,
    /// Where it came from, for the report: `--helm`, `PATH`, `--microk8s` (asked for), or
    /// `microk8s` (no helm on PATH).
    pub source: &'static str,
}

/// The connection flags every cluster call carries (helm's own spelling).
#[derive(Debug, Clone, Default)]
pub struct ClusterFlags {
    pub kubeconfig: Option<PathBuf>,
    pub kube_context: Option<String>,
}

/// A semantic version as `helm version --short` prints it (`v3.17.3+ge4da497`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

impl Helm {
    /// A command running this helm with `args` (no cluster flags).
    pub fn command<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        Command::new(&self.program).args(&self.prefix).args(args).timeout(LOCAL_TIMEOUT)
    }

    /// A command for a call that talks to the cluster: `--kubeconfig` and `--kube-context` are
    /// appended when the user gave them, so helm resolves the rest exactly as it always does.
    pub fn cluster_command<I, S>(&self, args: I, flags: &ClusterFlags) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let mut command = self.command(args);
        if let Some(kubeconfig) = &flags.kubeconfig {
            command = command.arg("--kubeconfig").arg(kubeconfig);
        }
        if let Some(context) = &flags.kube_context {
            command = command.arg("--kube-context").arg(context);
        }
        command
    }

    /// How the report names this helm: `helm`, `/opt/helm`, `microk8s helm3`.
    pub fn shown(&self) -> String {
        let mut words = vec![self.program.display().to_string()];
        words.extend(self.prefix.iter().cloned());
        words.join(" ")
    }

    /// MicroK8s' bundled helm, which brings its own kubeconfig.
    pub fn is_microk8s(&self) -> bool {
        matches!(self.source, "microk8s" | "--microk8s")
    }

    /// The report's `helm` field.
    pub fn used(&self, version: Version) -> HelmUsed {
        HelmUsed { command: self.shown(), version: version.to_string(), found_by: self.source.to_string() }
    }
}

/// Finds helm: `--helm PATH` when given; else with `--microk8s` MicroK8s' `microk8s helm3`
/// (then `microk8s helm`) even when a `helm` is on PATH; else `helm` on PATH, else MicroK8s'
/// helm, which is what a MicroK8s-only server has.
pub fn locate(explicit: Option<&Path>, microk8s: bool, env: &Environment) -> Result<Helm, Error> {
    if let Some(path) = explicit {
        let found = if path.components().count() > 1 {
            is_executable(path).then(|| path.to_path_buf())
        } else {
            find_on(env.path.as_ref(), &path.to_string_lossy())
        };
        return match found {
            Some(program) => Ok(Helm { program, prefix: Vec::new(), source: "--helm" }),
            None => Err(Error::bad_input(format!("`--helm {}`: no such executable", path.display()))
                .with_hint("give the path of a helm binary, e.g. `--helm /usr/local/bin/helm`")),
        };
    }
    if !microk8s && let Some(program) = find_on(env.path.as_ref(), "helm") {
        return Ok(Helm { program, prefix: Vec::new(), source: "PATH" });
    }
    let source = if microk8s { "--microk8s" } else { "microk8s" };
    let Some(program) = find_on(env.path.as_ref(), "microk8s") else {
        if microk8s {
            return Err(Error::bad_input("`--microk8s`: there is no `microk8s` on PATH").with_hint(
                "install MicroK8s (`sudo snap install microk8s --classic`), or leave out `--microk8s` to use `helm` on PATH",
            ));
        }
        return Err(Error::external("`helm` was not found on PATH, and there is no `microk8s` to ask instead")
            .with_hint("install helm >= 3.10 (https://helm.sh/docs/intro/install/), or pass `--helm /path/to/helm`"));
    };
    for word in ["helm3", "helm"] {
        let helm = Helm { program: program.clone(), prefix: vec![word.to_string()], source };
        // `microk8s helm3` exists on every MicroK8s that ships Helm 3; older snaps only have
        // `microk8s helm`, so ask each whether it answers `version`.
        if process::run(&helm.command(["version", "--short"])).is_ok_and(|output| output.success()) {
            return Ok(helm);
        }
    }
    Err(Error::external(format!(
        "`{} helm3` and `{} helm` do not answer `version`: this MicroK8s has no helm",
        program.display(),
        program.display()
    ))
    .with_hint("enable it with `microk8s enable helm3`, or pass `--helm /path/to/helm`"))
}

/// Runs `helm version --short` and parses it.
pub fn version(helm: &Helm) -> Result<(Command, Version), Error> {
    let command = helm.command(["version", "--short"]);
    let output = process::run_checked(&command)?;
    let text = output.stdout_text();
    let version = parse_version(&text).ok_or_else(|| {
        Error::external(format!("cannot read helm's version from `{}`", text.trim()))
            .with_hint("check that `--helm` names a helm binary")
    })?;
    Ok((command, version))
}

/// Refuses a helm older than 3.10, naming a flag it lacks (F15: `unknown flag: --set-json`).
pub fn check_version(helm: &Helm, version: Version) -> Result<(), Error> {
    if version >= MINIMUM_VERSION {
        return Ok(());
    }
    let via = if helm.is_microk8s() { " (MicroK8s' bundled helm)" } else { "" };
    Err(Error::bad_input(format!(
        "`{}` is helm {version}{via}, older than {MINIMUM_VERSION}: the Airflow chart needs helm >= 3.10, and \
         `--set-json` fails there with `unknown flag: --set-json`",
        helm.shown()
    ))
    .with_hint(
        "install a current helm (https://helm.sh/docs/intro/install/) and pass `--helm /path/to/helm`;\n\
         with MicroK8s, also run `microk8s config > ~/.kube/config` so it finds the cluster",
    ))
}

/// `v3.17.3+ge4da497` or `v4.1.4` or `3.9.4` to a version.
pub fn parse_version(text: &str) -> Option<Version> {
    let word =
        text.split_whitespace().find(|word| word.trim_start_matches('v').starts_with(|c: char| c.is_ascii_digit()))?;
    let core = word.trim_start_matches('v').split(['+', '-']).next()?;
    let mut numbers = core.split('.').map(|part| part.parse::<u64>().ok());
    Some(Version {
        major: numbers.next()??,
        minor: numbers.next().flatten().unwrap_or(0),
        patch: numbers.next().flatten().unwrap_or(0),
    })
}

fn find_on(path_var: Option<&OsString>, program: &str) -> Option<PathBuf> {
    std::env::split_paths(path_var?).map(|dir| dir.join(program)).find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0).unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, expected: Option<(u64, u64, u64)>) {
        let got = parse_version(text).map(|v| (v.major, v.minor, v.patch));
        assert_eq!(got, expected, "{text}");
    }

    #[test]
    fn versions_as_helm_prints_them() {
        check("v3.17.3+ge4da497\n", Some((3, 17, 3)));
        check("v4.1.4+g05fa379", Some((4, 1, 4)));
        check("v3.9.4", Some((3, 9, 4)));
        check("3.10", Some((3, 10, 0)));
        check("garbage", None);
    }

    #[test]
    fn old_helm_is_refused_naming_the_flag() {
        let helm = Helm { program: "microk8s".into(), prefix: vec!["helm3".into()], source: "microk8s" };
        let error = check_version(&helm, Version { major: 3, minor: 9, patch: 4 }).expect_err("too old");
        assert_eq!(error.code.code(), 2);
        assert!(error.message.contains("--set-json"), "{}", error.message);
        assert!(check_version(&helm, Version { major: 3, minor: 10, patch: 0 }).is_ok());
        assert!(check_version(&helm, Version { major: 4, minor: 0, patch: 0 }).is_ok());
    }
}
