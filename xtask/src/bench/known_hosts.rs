//! known-hosts: scanning a local sshd (three host key types) against `ssh-keyscan` alone
//! doing the same scan, the target being within 1.2x; plus peak memory.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use super::{Bench, hyperfine, peak_rss_mib, print_ratio};

pub fn run(bench: &Bench) -> anyhow::Result<()> {
    let dir = bench.scratch.join("known-hosts");
    std::fs::create_dir_all(&dir)?;
    let server = LocalSshd::start(&dir)?;
    let port = server.port;
    let mut fingerprints = Vec::new();
    for kind in ["ed25519", "ecdsa", "rsa"] {
        fingerprints.push(fingerprint(&dir.join(format!("host_{kind}.pub")))?);
    }
    let expect: String = fingerprints.iter().map(|fp| format!(" --expect-fingerprint {fp}")).collect();
    let ours = format!(
        "{} --repo ssh://root@127.0.0.1:{port}/srv/dags.git --timeout 5s{expect}",
        bench.bin.join("known-hosts").display()
    );
    let theirs = format!("ssh-keyscan -T 5 -p {port} -t ed25519,ecdsa,rsa 127.0.0.1");
    // A check that ours works at all before timing it: a refusal would be fast and wrong.
    let check = Command::new("bash").arg("-c").arg(format!("{ours} </dev/null")).output()?;
    if !check.status.success() {
        bail!("known-hosts failed against the local sshd: {}", String::from_utf8_lossy(&check.stderr));
    }
    let medians = hyperfine(bench, "known-hosts-scan", &[("known-hosts", ours.clone()), ("ssh-keyscan", theirs)])?;
    print_ratio("known-hosts scan of a local sshd vs ssh-keyscan", medians[0], medians[1], "target: within 1.2x");
    eprintln!("known-hosts / ssh-keyscan: {:.2}x (target <= 1.20)", medians[0] / medians[1]);
    eprintln!("known-hosts peak RSS: {:.1} MiB", peak_rss_mib(&format!("{ours} </dev/null"))?);
    Ok(())
}

/// `ssh-keygen -lf` of one public key file: the `SHA256:...` field.
fn fingerprint(path: &Path) -> anyhow::Result<String> {
    let output = Command::new("ssh-keygen").arg("-lf").arg(path).output().context("ssh-keygen runs")?;
    let text = String::from_utf8_lossy(&output.stdout);
    text.split_whitespace().nth(1).map(str::to_string).context("ssh-keygen printed a fingerprint")
}

/// An sshd on 127.0.0.1 with fresh ed25519, ecdsa and rsa host keys, stopped on drop.
struct LocalSshd {
    port: u16,
    child: Child,
}

impl LocalSshd {
    fn start(dir: &Path) -> anyhow::Result<LocalSshd> {
        let sshd = std::env::var_os("AIRFLOW_KIT_SSHD").map(PathBuf::from).unwrap_or_else(|| "/usr/sbin/sshd".into());
        for kind in ["ed25519", "ecdsa", "rsa"] {
            let key = dir.join(format!("host_{kind}"));
            let _ = std::fs::remove_file(&key);
            let _ = std::fs::remove_file(key.with_extension("pub"));
            let status = Command::new("ssh-keygen").args(["-q", "-t", kind, "-N", "", "-f"]).arg(&key).status()?;
            if !status.success() {
                bail!("ssh-keygen -t {kind} failed");
            }
        }
        std::fs::create_dir_all("/run/sshd").ok();
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let root = dir.display();
        let config = format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {root}/host_ed25519\nHostKey {root}/host_ecdsa\n\
             HostKey {root}/host_rsa\nPidFile {root}/sshd.pid\nStrictModes no\nUsePAM no\nPasswordAuthentication no\n\
             KbdInteractiveAuthentication no\nMaxStartups 100\nLogLevel ERROR\n"
        );
        let config_path = dir.join("sshd_config");
        std::fs::write(&config_path, config)?;
        let child = Command::new(&sshd)
            .args(["-D", "-e", "-f"])
            .arg(&config_path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("start {}", sshd.display()))?;
        let server = LocalSshd { port, child };
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                bail!("sshd did not listen on port {port}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(server)
    }
}

impl Drop for LocalSshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
