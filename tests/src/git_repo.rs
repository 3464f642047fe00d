//! Test Git repositories: a bare repository holding DAGs, as the sshd and the Git HTTP server
//! serve it, and a way to add commits to it. Every git here runs with the user's and the
//! system's git config shut out, so a developer's helpers, hooks or `init.defaultBranch`
//! cannot change what a test sees.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The branch every test repository starts with.
pub const BRANCH: &str = "main";

/// The DAG file the first commit holds, under `dags/`.
pub const FIRST_DAG: &str = "dags/example_dag.py";

/// A bare repository on disk, with its `main` branch.
#[derive(Debug, Clone)]
pub struct DagRepo {
    pub git: PathBuf,
    /// The bare repository directory (`.../dags.git`).
    pub path: PathBuf,
}

impl DagRepo {
    /// Creates the bare repository `bare` (its parent must exist) with one commit on `main`
    /// holding `dags/example_dag.py`.
    pub fn create(git: &Path, bare: &Path) -> DagRepo {
        let repo = DagRepo { git: git.to_path_buf(), path: bare.to_path_buf() };
        let status = isolated_git(git)
            .args(["init", "--quiet", "--bare", "--initial-branch", BRANCH])
            .arg(bare)
            .stdout(Stdio::null())
            .status()
            .expect("git runs");
        assert!(status.success(), "git init --bare {}", bare.display());
        repo.commit(BRANCH, &[(FIRST_DAG, "from airflow import DAG\n")], "first DAG");
        repo
    }

    /// The commit `branch` points at.
    pub fn head(&self, branch: &str) -> String {
        let output = isolated_git(&self.git)
            .arg("-C")
            .arg(&self.path)
            .args(["rev-parse", "--verify", "--quiet"])
            .arg(format!("refs/heads/{branch}"))
            .output()
            .expect("git runs");
        assert!(output.status.success(), "no branch `{branch}` in {}", self.path.display());
        String::from_utf8_lossy(&output.stdout).trim().to_string()
    }

    /// Adds one commit to `branch` (created from `main` when it does not exist) writing each
    /// `(path, contents)`; returns the new commit. Goes through a work tree and a push, as a
    /// person's commit would.
    pub fn commit(&self, branch: &str, files: &[(&str, &str)], message: &str) -> String {
        let work = tempfile::tempdir().expect("temp dir");
        let work = work.path().join("work");
        let has_commits = isolated_git(&self.git)
            .arg("-C")
            .arg(&self.path)
            .args(["rev-parse", "--verify", "--quiet", "HEAD"])
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|status| status.success());
        if has_commits {
            self.run(None, [OsStr::new("clone"), OsStr::new("--quiet"), self.path.as_os_str(), work.as_os_str()]);
            let exists = self.run_status(&work, ["rev-parse", "--verify", "--quiet", &format!("origin/{branch}")]);
            let start = if exists { format!("origin/{branch}") } else { format!("origin/{BRANCH}") };
            self.run(Some(&work), ["checkout", "--quiet", "-B", branch, &start]);
        } else {
            self.run(
                None,
                [
                    OsStr::new("init"),
                    OsStr::new("--quiet"),
                    OsStr::new("--initial-branch"),
                    OsStr::new(branch),
                    work.as_os_str(),
                ],
            );
            self.run(
                Some(&work),
                [OsStr::new("remote"), OsStr::new("add"), OsStr::new("origin"), self.path.as_os_str()],
            );
        }
        for (path, contents) in files {
            let file = work.join(path);
            if let Some(parent) = file.parent() {
                std::fs::create_dir_all(parent).expect("work tree folder");
            }
            std::fs::write(&file, contents).expect("work tree file");
        }
        self.run(Some(&work), ["add", "--all"]);
        self.run(Some(&work), ["commit", "--quiet", "--allow-empty", "-m", message]);
        self.run(Some(&work), ["push", "--quiet", "origin", &format!("HEAD:refs/heads/{branch}")]);
        self.head(branch)
    }

    fn run<I, S>(&self, dir: Option<&Path>, args: I)
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut command = isolated_git(&self.git);
        if let Some(dir) = dir {
            command.current_dir(dir);
        }
        let args: Vec<S> = args.into_iter().collect();
        let output = command.args(&args).output().expect("git runs");
        assert!(
            output.status.success(),
            "git {:?} failed: {}",
            args.iter().map(|arg| arg.as_ref().to_string_lossy().into_owned()).collect::<Vec<_>>(),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    fn run_status(&self, dir: &Path, args: [&str; 4]) -> bool {
        isolated_git(&self.git)
            .current_dir(dir)
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    }
}

/// A git command that reads neither the user's nor the system's config, never prompts, and
/// has a committer identity.
pub fn isolated_git(git: &Path) -> Command {
    let mut command = Command::new(git);
    command
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_AUTHOR_NAME", "test")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "test")
        .env("GIT_COMMITTER_EMAIL", "test@example.com")
        .env_remove("GIT_ASKPASS")
        .env_remove("SSH_ASKPASS")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE");
    command
}
