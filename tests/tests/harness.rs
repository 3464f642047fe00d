//! The harness itself: a real sshd serves a repository that a real key can clone and a
//! wrong key cannot, so tests built on it can fail for the right reasons.

use std::process::Command;

use airflow_kit_tests::sshd::{Sshd, git_clone};

#[test]
fn sshd_serves_git_to_an_authorized_key_only() {
    let Some(server) = Sshd::start("sshd_serves_git_to_an_authorized_key_only") else { return };
    let work = tempfile::tempdir().expect("temp dir");
    let key = work.path().join("id");
    let status =
        Command::new("ssh-keygen").args(["-q", "-t", "ed25519", "-N", "", "-f"]).arg(&key).status().expect("keygen");
    assert!(status.success());
    let host_key = std::fs::read_to_string(server.host_public_key("ed25519")).expect("host key");
    let host_key_fields: Vec<&str> = host_key.split_whitespace().take(2).collect();
    let known_hosts = work.path().join("known_hosts");
    std::fs::write(&known_hosts, format!("[127.0.0.1]:{} {}\n", server.port, host_key_fields.join(" ")))
        .expect("write");

    let (ok, stderr) = git_clone(&server.repo_url(), &key, &known_hosts, &work.path().join("denied"));
    assert!(!ok, "an unauthorized key must not clone");
    assert!(stderr.contains("Permission denied (publickey)"), "{stderr}");

    server.authorize(&std::fs::read_to_string(key.with_extension("pub")).expect("pub"));
    let (ok, stderr) = git_clone(&server.repo_url(), &key, &known_hosts, &work.path().join("clone"));
    assert!(ok, "{stderr}");
    assert!(work.path().join("clone/dags/example_dag.py").exists());
}
