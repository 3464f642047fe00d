//! A real OpenSSH server on 127.0.0.1 serving a bare git repository, so keys and known_hosts
//! lines we emit are judged by a real `git clone` over SSH, exactly as git-sync runs it.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::git_repo::DagRepo;
use crate::tools::{Tool, require_tool};

/// A running sshd with its own host keys and `authorized_keys`, stopped on drop.
pub struct Sshd {
    pub port: u16,
    pub dir: tempfile::TempDir,
    /// The bare repository, clonable as `ssh://root@127.0.0.1:PORT/<repo_path>`.
    pub repo_path: PathBuf,
    /// The same repository, to add commits or branches to.
    pub repo: DagRepo,
    child: Child,
}

impl Sshd {
    /// Starts sshd with fresh ed25519, ecdsa and rsa host keys. None (with a skip line) when
    /// sshd is not installed outside CI.
    pub fn start(test: &str) -> Option<Sshd> {
        let sshd = require_tool(Tool::Sshd, test)?;
        let keygen = require_tool(Tool::SshKeygen, test)?;
        let git = require_tool(Tool::Git, test)?;
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path();
        std::fs::create_dir_all("/run/sshd").ok();
        for kind in ["ed25519", "ecdsa", "rsa"] {
            let path = root.join(format!("host_{kind}"));
            let mut command = Command::new(&keygen);
            command.args(["-q", "-t", kind, "-N", "", "-f"]).arg(&path);
            if kind == "rsa" {
                command.args(["-b", "3072"]);
            }
            assert!(command.status().expect("ssh-keygen runs").success(), "host key {kind}");
        }
        std::fs::write(root.join("authorized_keys"), "").expect("authorized_keys");
        let repo_path = root.join("dags.git");
        let repo = DagRepo::create(&git, &repo_path);
        let port = free_port();
        let config = format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {root}/host_ed25519\nHostKey {root}/host_ecdsa\nHostKey {root}/host_rsa\n\
             AuthorizedKeysFile {root}/authorized_keys\nPidFile {root}/sshd.pid\nStrictModes no\nUsePAM no\n\
             PasswordAuthentication no\nKbdInteractiveAuthentication no\nPubkeyAuthentication yes\nPermitRootLogin yes\n\
             AllowUsers root\nLogLevel ERROR\n",
            root = root.display()
        );
        std::fs::write(root.join("sshd_config"), config).expect("sshd_config");
        let child = Command::new(&sshd)
            .args(["-D", "-e", "-f"])
            .arg(root.join("sshd_config"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("sshd starts");
        let server = Sshd { port, dir, repo_path, repo, child };
        server.wait_until_listening();
        Some(server)
    }

    /// The host key file of one type (`ed25519`, `ecdsa`, `rsa`), public half.
    pub fn host_public_key(&self, kind: &str) -> PathBuf {
        self.dir.path().join(format!("host_{kind}.pub"))
    }

    /// The SHA256 fingerprints of the three host keys, as `ssh-keygen -lf` prints them: what
    /// a person checks out of band before passing `--expect-fingerprint`.
    pub fn host_fingerprints(&self) -> Vec<String> {
        ["ed25519", "ecdsa", "rsa"]
            .iter()
            .map(|kind| {
                let output =
                    Command::new("ssh-keygen").arg("-lf").arg(self.host_public_key(kind)).output().expect("ssh-keygen");
                String::from_utf8_lossy(&output.stdout).split_whitespace().nth(1).expect("fingerprint").to_string()
            })
            .collect()
    }

    /// Lets `public_key` (an OpenSSH `.pub` line) log in.
    pub fn authorize(&self, public_key: &str) {
        let path = self.dir.path().join("authorized_keys");
        let mut keys = std::fs::read_to_string(&path).unwrap_or_default();
        keys.push_str(public_key.trim_end());
        keys.push('\n');
        std::fs::write(path, keys).expect("authorized_keys");
    }

    /// Removes every authorized key.
    pub fn deauthorize_all(&self) {
        std::fs::write(self.dir.path().join("authorized_keys"), "").expect("authorized_keys");
    }

    /// `ssh://root@127.0.0.1:PORT/path/to/dags.git`
    pub fn repo_url(&self) -> String {
        format!("ssh://root@127.0.0.1:{}{}", self.port, self.repo_path.display())
    }

    /// The head commit of the served repository's `main` branch.
    pub fn head_commit(&self) -> String {
        self.repo.head(crate::git_repo::BRANCH)
    }

    fn wait_until_listening(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("sshd did not start listening on port {}", self.port);
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `git clone` over SSH the way git-sync does it: only this key, only this known_hosts file,
/// strict host checking, never a prompt. Returns (success, stderr).
pub fn git_clone(url: &str, key: &Path, known_hosts: &Path, into: &Path) -> (bool, String) {
    let ssh = format!(
        "ssh -i {} -o IdentitiesOnly=yes -o UserKnownHostsFile={} -o StrictHostKeyChecking=yes -o BatchMode=yes -o GlobalKnownHostsFile=/dev/null -F /dev/null",
        key.display(),
        known_hosts.display()
    );
    let output = Command::new("git")
        .args(["clone", "--quiet", url])
        .arg(into)
        .env("GIT_SSH_COMMAND", ssh)
        .env("GIT_TERMINAL_PROMPT", "0")
        .output()
        .expect("git runs");
    (output.status.success(), String::from_utf8_lossy(&output.stderr).into_owned())
}

/// A free TCP port on 127.0.0.1 (bound and released; good enough for a test server).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}
