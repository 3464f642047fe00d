//! The access check: a real `git ls-remote` with exactly what git-sync will get in the cluster
//! (only this deploy key and this known_hosts with strict checking; or no credentials at all;
//! or this user and token), then a shallow, blob-less fetch of the branch to prove the DAG
//! folder exists. Nothing of the user's own git or ssh configuration takes part, since
//! git-sync in the cluster has none of it, and no secret is ever in a child's argv.

use std::path::{Path, PathBuf};
use std::time::Duration;

use airflow_kit_core::process::{self, Command};
use airflow_kit_core::{Error, ExitCode};

/// How to authenticate, as git-sync will.
#[derive(Debug, Clone)]
pub enum GitAuth {
    /// The deploy key and the pinned known_hosts lines.
    Ssh { key: PathBuf, known_hosts: String },
    /// A public repository over HTTPS.
    Anonymous,
    /// HTTPS with a user and the token in `token_file` (read here, never shown).
    Token { user: String, token_file: PathBuf },
}

/// Why the repository could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// `Permission denied (publickey)`: the deploy key is not registered (F4).
    KeyNotRegistered,
    /// `Host key verification failed`: knownHosts does not match the host (F1).
    HostKey(String),
    /// The repository has no such branch.
    NoBranch,
    /// HTTPS credentials were needed and not given, or were refused.
    Credentials(String),
    /// Anything else git said.
    Other(String),
}

const LS_REMOTE_TIMEOUT: Duration = Duration::from_secs(60);
const FETCH_TIMEOUT: Duration = Duration::from_secs(180);

/// `git ls-remote URL refs/heads/BRANCH`: the branch head's commit. `work` is the run's
/// private directory (0700, inside the state directory) for the known_hosts file or the
/// credentials file.
pub fn ls_remote(repo: &str, branch: &str, auth: &GitAuth, work: &Path) -> Result<String, Failure> {
    let command = git(auth, work)?.args(["ls-remote", "--", repo]).arg(format!("refs/heads/{branch}"));
    let output =
        process::run(&command.timeout(LS_REMOTE_TIMEOUT)).map_err(|error| Failure::Other(error.render("git")))?;
    if !output.success() {
        return Err(classify(&output.stderr_text()));
    }
    output.stdout_text().split_whitespace().next().map(str::to_string).ok_or(Failure::NoBranch)
}

/// Whether `sub_path` is a folder at the branch head: a depth-1, blob-less fetch (trees only,
/// no file contents), then `git ls-tree`. Returns the folders at the top level when it is not
/// there, for the hint.
pub fn sub_path_exists(
    repo: &str,
    branch: &str,
    sub_path: &str,
    auth: &GitAuth,
    work: &Path,
) -> Result<Result<(), Vec<String>>, Failure> {
    let init =
        Command::new("git").args(["init", "--quiet", "--bare", "probe.git"]).dir(work).env("GIT_CONFIG_NOSYSTEM", "1");
    process::run_checked(&init.timeout(LS_REMOTE_TIMEOUT)).map_err(|error| Failure::Other(error.render("git")))?;
    let fetch = git(auth, work)?
        .arg("--git-dir=probe.git")
        .args(["fetch", "--quiet", "--depth", "1", "--filter=blob:none", "--no-tags", "--", repo])
        .arg(format!("refs/heads/{branch}"));
    let output = process::run(&fetch.timeout(FETCH_TIMEOUT)).map_err(|error| Failure::Other(error.render("git")))?;
    if !output.success() {
        return Err(classify(&output.stderr_text()));
    }
    if sub_path.is_empty() {
        return Ok(Ok(()));
    }
    let tree = |path: Option<&str>| {
        let mut command = Command::new("git")
            .arg("--git-dir=probe.git")
            .args(["ls-tree", "-d", "--name-only", "FETCH_HEAD"])
            .dir(work);
        if let Some(path) = path {
            command = command.arg("--").arg(path);
        }
        process::run_checked(&command.timeout(LS_REMOTE_TIMEOUT))
            .map(|output| output.stdout_text().lines().map(str::to_string).collect::<Vec<_>>())
            .map_err(|error| Failure::Other(error.render("git")))
    };
    if tree(Some(sub_path))?.iter().any(|line| line == sub_path) {
        return Ok(Ok(()));
    }
    Ok(Err(tree(None)?))
}

/// `git` with nothing of this machine's configuration, never prompting, authenticated as
/// git-sync will be. It runs in `work`, where the files it needs have plain names, so no
/// path of the user's (a state directory with a space, a `%` or shell syntax in its name)
/// is ever parsed by a shell or by ssh's own option syntax.
fn git(auth: &GitAuth, work: &Path) -> Result<Command, Failure> {
    // No repository is looked for above the run directory: inside a work tree git would move to
    // its top, away from the files named here.
    let ceiling = absolute(work).parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("/"));
    let mut command = Command::new("git")
        .dir(work)
        .env("GIT_CEILING_DIRECTORIES", ceiling)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env_remove("GIT_ASKPASS")
        .env_remove("SSH_ASKPASS")
        .env_remove("GIT_SSH")
        .env_remove("SSH_AUTH_SOCK");
    match auth {
        GitAuth::Ssh { key, known_hosts } => {
            airflow_kit_core::fs::write_atomic(&work.join(KNOWN_HOSTS), known_hosts.as_bytes(), 0o600)
                .map_err(|error| Failure::Other(error.render("install")))?;
            let link = work.join(DEPLOY_KEY);
            let _ = std::fs::remove_file(&link);
            std::os::unix::fs::symlink(absolute(key), &link).map_err(|error| {
                Failure::Other(format!("cannot link the deploy key into `{}`: {error}", work.display()))
            })?;
            command = command.env("GIT_SSH_COMMAND", ssh_command());
        }
        GitAuth::Anonymous => {}
        GitAuth::Token { user, token_file } => {
            let token = std::fs::read_to_string(token_file).map_err(|error| {
                Failure::Other(format!(
                    "cannot read the token file `{}`: {}",
                    token_file.display(),
                    airflow_kit_core::fs::plain_io_error(&error)
                ))
            })?;
            let text = format!("username={user}\npassword={}\n", token.trim());
            airflow_kit_core::fs::write_atomic(&work.join(CREDENTIALS), text.as_bytes(), 0o600)
                .map_err(|error| Failure::Other(error.render("install")))?;
            // A credential helper that prints the file: the token reaches git through a pipe,
            // never through argv or the environment. The empty first value clears any helper
            // configured elsewhere.
            command = command
                .env("GIT_CONFIG_COUNT", "2")
                .env("GIT_CONFIG_KEY_0", "credential.helper")
                .env("GIT_CONFIG_VALUE_0", "")
                .env("GIT_CONFIG_KEY_1", "credential.helper")
                .env("GIT_CONFIG_VALUE_1", format!("!f() {{ cat {CREDENTIALS}; }}; f"));
        }
    }
    Ok(command)
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// The names of the files git and ssh read in the run directory.
const KNOWN_HOSTS: &str = "known_hosts";
const DEPLOY_KEY: &str = "deploy_key";
const CREDENTIALS: &str = "git-credentials";

/// The ssh command git-sync's own amounts to: only this key, only this known_hosts, strict
/// checking, no agent, no prompt, no user config. Both files are named relative to the run
/// directory git runs in, with plain names that neither the shell git runs this through nor
/// ssh's option parser (which splits `UserKnownHostsFile` on spaces and expands `%`) can
/// misread.
pub fn ssh_command() -> String {
    format!(
        "ssh -F /dev/null -i {DEPLOY_KEY} -o IdentitiesOnly=yes -o IdentityAgent=none -o UserKnownHostsFile={KNOWN_HOSTS} -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes -o BatchMode=yes -o ConnectTimeout=15"
    )
}

fn classify(stderr: &str) -> Failure {
    if stderr.contains("Host key verification failed") || stderr.contains("REMOTE HOST IDENTIFICATION HAS CHANGED") {
        Failure::HostKey(stderr.to_string())
    } else if stderr.contains("Permission denied (publickey") {
        Failure::KeyNotRegistered
    } else if stderr.contains("couldn't find remote ref") || stderr.contains("not found in upstream") {
        Failure::NoBranch
    } else if stderr.contains("could not read Username")
        || stderr.contains("Authentication failed")
        || stderr.contains("terminal prompts disabled")
        || stderr.contains("The requested URL returned error: 401")
        || stderr.contains("The requested URL returned error: 403")
    {
        Failure::Credentials(stderr.to_string())
    } else {
        Failure::Other(stderr.to_string())
    }
}

impl Failure {
    /// The error that stops the run.
    pub fn into_error(self, repo: &str, branch: &str) -> Error {
        match self {
            Failure::KeyNotRegistered => Error::no(format!("the deploy key cannot read `{repo}` (Permission denied (publickey))"))
                .with_hint("add the public key printed above as a read-only deploy key of the repository (F4), then run again"),
            Failure::HostKey(stderr) => Error::refused(format!("the Git host's key does not match the pinned knownHosts for `{repo}` (F1)"))
                .with_detail(stderr)
                .with_hint("if the provider announced a new host key, re-pin it: remove `dags.gitSync.knownHosts` from the cumulative file (`values-merge --in-place FILE --unset dags.gitSync.knownHosts`) and run again"),
            Failure::NoBranch => Error::bad_input(format!("the repository `{repo}` has no branch `{branch}`"))
                .with_hint("check `--branch` (`git ls-remote --heads URL` lists the branches)"),
            Failure::Credentials(stderr) => Error::no(format!("`{repo}` needs credentials, or refused the ones given"))
                .with_detail(stderr)
                .with_hint("a private HTTPS repository needs `--token-file FILE` (a token with read access); check that the token is valid and not expired"),
            Failure::Other(stderr) => Error::new(ExitCode::External, format!("`git` cannot read `{repo}`"))
                .with_detail(stderr)
                .with_hint("check the URL and that the Git host is reachable from here"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssh_command_names_no_path_of_the_users() {
        let command = ssh_command();
        assert!(command.contains("-i deploy_key") && command.contains("UserKnownHostsFile=known_hosts"), "{command}");
        assert!(command.contains("StrictHostKeyChecking=yes") && command.contains("-F /dev/null"));
        assert!(command.chars().all(|c| c.is_ascii_alphanumeric() || " -=/_".contains(c)), "{command}");
    }

    #[test]
    fn failures_from_git_stderr() {
        assert_eq!(
            classify("git@github.com: Permission denied (publickey).\nfatal: Could not read"),
            Failure::KeyNotRegistered
        );
        assert!(matches!(classify("Host key verification failed.\n"), Failure::HostKey(_)));
        assert_eq!(classify("fatal: couldn't find remote ref refs/heads/nope\n"), Failure::NoBranch);
        assert!(matches!(
            classify("fatal: could not read Username for 'https://github.com': terminal prompts disabled"),
            Failure::Credentials(_)
        ));
        assert!(matches!(
            classify("fatal: Authentication failed for 'http://127.0.0.1:1/r.git/'"),
            Failure::Credentials(_)
        ));
        assert!(matches!(classify("fatal: unable to access: Could not resolve host"), Failure::Other(_)));
    }

    #[test]
    fn each_failure_has_its_exit_code_and_a_hint() {
        for (failure, code) in [
            (Failure::KeyNotRegistered, ExitCode::No),
            (Failure::HostKey(String::new()), ExitCode::Refused),
            (Failure::NoBranch, ExitCode::BadInput),
            (Failure::Credentials(String::new()), ExitCode::No),
            (Failure::Other(String::new()), ExitCode::External),
        ] {
            let error = failure.into_error("git@github.com:me/dags.git", "main");
            assert_eq!(error.code, code);
            assert!(error.hint.is_some());
        }
    }
}
