//! known-hosts against the real programs: ssh-keyscan of a real sshd, fingerprints compared
//! with what `ssh-keygen -lf` prints, a real `git clone` with strict host checking judging the
//! block we emit, and real Helm rendering it back byte for byte.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use airflow_kit_core::{Document, Node};
use airflow_kit_tests::bins::{run_command, shared_dir, workspace_root};
use airflow_kit_tests::sshd::{Sshd, free_port, git_clone};
use airflow_kit_tests::tools::helms;
use airflow_kit_tests::{Run, Tool, require_tool, run_tool};

const TOOL: &str = "known-hosts";

fn fixture(name: &str) -> PathBuf {
    workspace_root().join("tests/fixtures/known-hosts").join(name)
}

/// The published known_hosts lines of host-keys.md (every code block), in file order.
fn published_lines() -> String {
    let text = std::fs::read_to_string(shared_dir().join("reference/host-keys.md")).expect("host-keys.md");
    let mut lines = String::new();
    let mut in_block = false;
    for line in text.lines() {
        if line.starts_with("```") {
            in_block = !in_block;
        } else if in_block {
            lines.push_str(line);
            lines.push('\n');
        }
    }
    assert_eq!(lines.lines().count(), 9, "host-keys.md should list 3 lines for each of 3 providers");
    lines
}

/// The lines of one provider's host (`github.com `), from host-keys.md.
fn published_lines_of(host: &str) -> String {
    published_lines()
        .lines()
        .filter(|line| line.starts_with(&format!("{host} ")))
        .map(|line| format!("{line}\n"))
        .collect()
}

/// What the real `ssh-keygen -lf` prints as fingerprints for a file, in order.
fn ssh_keygen_fingerprints(path: &Path) -> Vec<String> {
    let keygen = Tool::SshKeygen.find().expect("ssh-keygen");
    let output = Command::new(keygen).arg("-lf").arg(path).output().expect("ssh-keygen runs");
    assert!(output.status.success(), "ssh-keygen -lf {}: {}", path.display(), String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| line.split_whitespace().nth(1).expect("fingerprint field").to_string())
        .collect()
}

fn known_hosts_of(run: &Run) -> String {
    let document = Document::parse(&run.stdout, "stdout").unwrap_or_else(|error| panic!("{error}\n{run}"));
    document
        .root
        .get_path(&["dags", "gitSync", "knownHosts"])
        .and_then(Node::as_str)
        .unwrap_or_else(|| panic!("no knownHosts string\n{run}"))
        .to_string()
}

fn report_of(run: &Run) -> serde_json::Value {
    Document::parse(&run.stdout, "report").unwrap_or_else(|error| panic!("{error}\n{run}")).root.to_json()
}

fn client_key(dir: &Path) -> PathBuf {
    let key = dir.join("id_ed25519");
    let status = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&key)
        .status()
        .expect("ssh-keygen runs");
    assert!(status.success());
    key
}

#[test]
fn local_sshd_unknown_keys_are_refused_with_the_fingerprints_ssh_keygen_prints() {
    let test = "local_sshd_unknown_keys_are_refused_with_the_fingerprints_ssh_keygen_prints";
    let Some(server) = Sshd::start(test) else { return };
    if require_tool(Tool::SshKeyscan, test).is_none() {
        return;
    }
    let work = tempfile::tempdir().expect("temp dir");
    let run = run_tool(TOOL, &["--repo", &server.repo_url(), "--timeout", "10s"], Some("a: 1\n"), work.path());
    run.expect_code(4).expect_stderr_contains("match no published or expected fingerprint");
    run.expect_stderr_contains("--expect-fingerprint");
    assert!(run.stdout.is_empty(), "nothing may be written when refusing\n{run}");
    for kind in ["ed25519", "ecdsa", "rsa"] {
        let fingerprints = ssh_keygen_fingerprints(&server.host_public_key(kind));
        assert_eq!(fingerprints.len(), 1);
        run.expect_stderr_contains(&fingerprints[0]);
    }
}

#[test]
fn pinned_block_lets_real_git_clone_and_a_block_for_another_key_fails() {
    let test = "pinned_block_lets_real_git_clone_and_a_block_for_another_key_fails";
    let Some(server) = Sshd::start(test) else { return };
    if require_tool(Tool::SshKeyscan, test).is_none() {
        return;
    }
    let work = tempfile::tempdir().expect("temp dir");
    let mut args = vec!["--repo".to_string(), server.repo_url()];
    for kind in ["ed25519", "ecdsa", "rsa"] {
        args.push("--expect-fingerprint".into());
        args.push(ssh_keygen_fingerprints(&server.host_public_key(kind)).remove(0));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let document = "dags:\n  gitSync:\n    enabled: true\n    branch: main\nother: 'yes'\n";
    let run = run_tool(TOOL, &args, Some(document), work.path());
    run.expect_success();
    let block = known_hosts_of(&run);
    let field = format!("[127.0.0.1]:{}", server.port);
    assert_eq!(block.lines().count(), 3, "{run}");
    assert!(block.lines().all(|line| line.starts_with(&format!("{field} "))), "{run}");
    assert!(run.stdout.contains("    knownHosts: |\n      [127.0.0.1]:"), "a literal block scalar\n{run}");
    assert!(run.stdout.starts_with("dags:\n  gitSync:\n    enabled: true\n    branch: main\n"), "{run}");
    assert!(run.stdout.ends_with("other: 'yes'\n"), "other keys untouched\n{run}");

    let key = client_key(work.path());
    server.authorize(&std::fs::read_to_string(key.with_extension("pub")).expect("pub"));
    let known_hosts = work.path().join("known_hosts");
    std::fs::write(&known_hosts, &block).expect("write known_hosts");
    let (ok, stderr) = git_clone(&server.repo_url(), &key, &known_hosts, &work.path().join("clone"));
    assert!(ok, "git clone with our block failed: {stderr}");
    assert!(work.path().join("clone/dags/example_dag.py").exists());

    // A block pinned (by us, with its fingerprint) to another server's key for the same host
    // field: ssh must refuse the real server.
    let other = work.path().join("other_host_key");
    let status = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&other)
        .status()
        .expect("ssh-keygen");
    assert!(status.success());
    let other_public = std::fs::read_to_string(other.with_extension("pub")).expect("pub");
    let other_fields: Vec<&str> = other_public.split_whitespace().take(2).collect();
    let from = work.path().join("other_lines");
    std::fs::write(&from, format!("{field} {}\n", other_fields.join(" "))).expect("write");
    let other_fingerprint = ssh_keygen_fingerprints(&other.with_extension("pub")).remove(0);
    let from_arg = from.display().to_string();
    let run = run_tool(
        TOOL,
        &["--repo", &server.repo_url(), "--from", &from_arg, "--expect-fingerprint", &other_fingerprint],
        Some(""),
        work.path(),
    );
    run.expect_success();
    let wrong_block = known_hosts_of(&run);
    assert!(wrong_block.starts_with(&format!("{field} ssh-ed25519 ")), "{run}");
    std::fs::write(&known_hosts, &wrong_block).expect("write known_hosts");
    let (ok, stderr) = git_clone(&server.repo_url(), &key, &known_hosts, &work.path().join("refused"));
    assert!(!ok, "a clone against the wrong host key must fail");
    assert!(stderr.contains("Host key verification failed"), "{stderr}");
}

/// The `[host]:port TYPE BASE64` line of one of the server's host keys, as it must be pinned.
fn host_key_line(server: &Sshd, kind: &str) -> String {
    let public = std::fs::read_to_string(server.host_public_key(kind)).expect("host key");
    let fields: Vec<&str> = public.split_whitespace().take(2).collect();
    format!("[127.0.0.1]:{} {}\n", server.port, fields.join(" "))
}

/// Defect 12: the manual procedure verifies ONE key type out of band. A server offering three
/// keys, one of which matches `--expect-fingerprint`, gets exactly that key pinned (the others
/// named on stderr and left out), and a real `git clone` with strict host checking and only
/// that line in its known_hosts works: OpenSSH prefers the host key algorithms it holds a
/// known_hosts line for, so no `HostKeyAlgorithms` option is needed (git-sync cannot pass one).
#[test]
fn one_expected_fingerprint_pins_only_that_key_and_a_real_clone_works() {
    let test = "one_expected_fingerprint_pins_only_that_key_and_a_real_clone_works";
    let Some(server) = Sshd::start(test) else { return };
    if require_tool(Tool::SshKeyscan, test).is_none() {
        return;
    }
    let work = tempfile::tempdir().expect("temp dir");
    let key = client_key(work.path());
    server.authorize(&std::fs::read_to_string(key.with_extension("pub")).expect("pub"));
    let fingerprints = server.host_fingerprints();
    // ed25519 is what the procedure checks; rsa comes last in ssh's default preference, so
    // a clone that works with only the rsa line proves the ordering by known_hosts.
    for (index, kind) in [(0, "ed25519"), (2, "rsa")] {
        let run = run_tool(
            TOOL,
            &["--repo", &server.repo_url(), "--expect-fingerprint", &fingerprints[index]],
            Some("dags:\n  gitSync:\n    enabled: true\n"),
            work.path(),
        );
        run.expect_success();
        let block = known_hosts_of(&run);
        assert_eq!(block, host_key_line(&server, kind), "exactly the verified key\n{run}");
        // Each key left out is named on stderr, with its type, fingerprint and why.
        for (other, other_kind) in fingerprints.iter().zip(["ed25519", "ecdsa", "rsa"]) {
            if other_kind == kind {
                continue;
            }
            let line = run.stderr.lines().find(|line| line.contains(other.as_str()));
            assert!(
                line.is_some_and(|line| line.contains("left out")
                    && line.contains("not published")
                    && line.contains("not expected")),
                "{other_kind} must be named as left out\n{run}"
            );
        }

        let known_hosts = work.path().join(format!("known_hosts_{kind}"));
        std::fs::write(&known_hosts, &block).expect("write known_hosts");
        let clone = work.path().join(format!("clone_{kind}"));
        let (ok, stderr) = git_clone(&server.repo_url(), &key, &known_hosts, &clone);
        assert!(ok, "git clone with only the {kind} line failed: {stderr}");
        assert!(clone.join("dags/example_dag.py").exists());
    }
}

/// Defect 17: an HTTPS (or HTTP) repository has no SSH host key. The filter passes the
/// document through unchanged (an existing knownHosts too) and says why, exit 0; so does a
/// HOST argument that is an https URL. Nothing is scanned (no ssh-keyscan is needed).
#[test]
fn an_https_repository_needs_no_known_hosts_and_passes_through() {
    let work = tempfile::tempdir().expect("temp dir");
    let document = "# kept\ndags:\n  gitSync:\n    repo: https://github.com/me/dags.git\n    knownHosts: |\n      github.com ssh-ed25519 AAAA\nz: yes\n";
    let no_keyscan = ["--ssh-keyscan", "/nonexistent/ssh-keyscan"];
    for args in [
        vec![],
        vec!["--repo", "http://127.0.0.1:9/dags.git"],
        vec!["https://user@gitlab.example.com:8443/group/sub/dags"],
    ] {
        let args: Vec<&str> = args.into_iter().chain(no_keyscan).collect();
        let run = run_tool(TOOL, &args, Some(document), work.path());
        run.expect_success().expect_stderr_contains("no knownHosts is needed for an HTTP");
        assert_eq!(run.stdout, document, "the document passes through unchanged\n{run}");
        assert_eq!(run.stderr.lines().count(), 1, "one stderr line\n{run}");
    }
}

/// A values document for `repo` whose knownHosts block is `lines`.
fn values_with_known_hosts(repo: &str, lines: &[String]) -> String {
    let block: String = lines.iter().map(|line| format!("      {}\n", line.trim_end())).collect();
    format!("dags:\n  gitSync:\n    enabled: true\n    repo: {repo}\n    knownHosts: |\n{block}")
}

/// Issue 11, item 5: what `verify` accepts is what a real `git clone` with strict host
/// checking of the repository's host can use, and nothing wider. A line pinned (with the
/// right fingerprint) for another host field than the repository's is refused, and the real
/// clone agrees it is useless; a wildcard, a `?` pattern or a negated pattern would make ssh
/// trust the key for hosts nobody checked; `@cert-authority` and `@revoked` lines are not
/// host keys. Each is refused with exit 1 and named by its line, next to a right line that
/// still passes and that a real clone uses.
#[test]
fn verify_refuses_lines_for_another_host_patterns_and_markers_and_a_real_clone_agrees() {
    let test = "verify_refuses_lines_for_another_host_patterns_and_markers_and_a_real_clone_agrees";
    let Some(server) = Sshd::start(test) else { return };
    let work = tempfile::tempdir().expect("temp dir");
    let key = client_key(work.path());
    server.authorize(&std::fs::read_to_string(key.with_extension("pub")).expect("pub"));
    let fingerprint = server.host_fingerprints().remove(0);
    let right = host_key_line(&server, "ed25519");
    let key_fields = right.split_once(' ').map(|(_, rest)| rest.trim_end().to_string()).expect("fields");
    let other_port = free_port();
    let repo = server.repo_url();
    let verify = |document: &str, extra: &[&str]| {
        let args: Vec<&str> =
            ["verify", "--expect-fingerprint", fingerprint.as_str()].into_iter().chain(extra.iter().copied()).collect();
        run_tool(TOOL, &args, Some(document), work.path())
    };
    let clone_with = |block: &str, name: &str| {
        let known_hosts = work.path().join(format!("known_hosts_{name}"));
        std::fs::write(&known_hosts, block).expect("write known_hosts");
        git_clone(&repo, &key, &known_hosts, &work.path().join(format!("clone_{name}")))
    };

    // The right line: verify says yes and the real clone works.
    let run = verify(&values_with_known_hosts(&repo, std::slice::from_ref(&right)), &[]);
    run.expect_success();
    let (ok, stderr) = clone_with(&right, "right");
    assert!(ok, "the verified line must let git clone: {stderr}");

    // The server's own key, pinned for another port: `--expect-fingerprint` matches it, but
    // ssh looks up `[127.0.0.1]:PORT` and finds nothing.
    let elsewhere = format!("[127.0.0.1]:{other_port} {key_fields}");
    let run = verify(&values_with_known_hosts(&repo, std::slice::from_ref(&elsewhere)), &[]);
    run.expect_code(1).expect_stderr_contains("line 1 (document line 6): other-host");
    run.expect_stderr_contains(&format!("`[127.0.0.1]:{}`", server.port));
    assert_eq!(report_of(&run)["verified"], false, "{run}");
    let (ok, stderr) = clone_with(&format!("{elsewhere}\n"), "elsewhere");
    assert!(
        !ok && stderr.contains("Host key verification failed"),
        "ssh must not use a line for another host: {stderr}"
    );

    // GitLab's published key, for gitlab.com, in a document whose repository is elsewhere:
    // published, but not for this repository's host.
    let gitlab = published_lines_of("gitlab.com").lines().next().expect("a GitLab line").to_string();
    let lines = vec![
        right.trim_end().to_string(),
        gitlab,
        format!("* {key_fields}"),
        format!("[127.0.0.?]:{} {key_fields}", server.port),
        format!("[127.0.0.1]:{},!evil.example.com {key_fields}", server.port),
        format!("@cert-authority [127.0.0.1]:{} {key_fields}", server.port),
        format!("@revoked [127.0.0.1]:{} {key_fields}", server.port),
    ];
    let run = verify(&values_with_known_hosts(&repo, &lines), &[]);
    run.expect_code(1);
    for (line, verdict) in
        [(2, "other-host"), (3, "pattern"), (4, "pattern"), (5, "pattern"), (6, "unsupported"), (7, "unsupported")]
    {
        run.expect_stderr_contains(&format!("line {line} (document line {}): {verdict}", line + 5));
    }
    let report = report_of(&run);
    assert_eq!((report["accepted"].as_u64(), report["refused"].as_u64()), (Some(1), Some(6)), "{run}");
    assert_eq!(report["lines"][0]["verdict"], "expected", "{run}");
    // The wildcard line alone is one ssh would use for ANY host: a real clone works with it,
    // which is exactly why it is refused.
    let (ok, stderr) = clone_with(&format!("* {key_fields}\n"), "wildcard");
    assert!(ok, "ssh honours a `*` line (the danger being refused): {stderr}");

    // A plain known_hosts file is checked against `--repo` when it is given ...
    let file = work.path().join("known_hosts");
    std::fs::write(&file, format!("{right}{elsewhere}\n")).expect("write");
    let file_arg = file.to_str().expect("utf-8");
    let run =
        run_tool(TOOL, &["verify", "--expect-fingerprint", &fingerprint, "--repo", &repo, file_arg], None, work.path());
    run.expect_code(1).expect_stderr_contains("line 2: other-host");
    assert_eq!(report_of(&run)["host"], format!("[127.0.0.1]:{}", server.port));
    // ... and `--repo` wins over the document's repository.
    let document = values_with_known_hosts("git@github.com:me/dags.git", std::slice::from_ref(&right));
    run_tool(TOOL, &["verify", "--expect-fingerprint", &fingerprint], Some(&document), work.path())
        .expect_code(1)
        .expect_stderr_contains("line 1 (document line 6): other-host");
    let run = run_tool(
        TOOL,
        &["verify", "--expect-fingerprint", &fingerprint, "--repo", &repo],
        Some(&document),
        work.path(),
    );
    run.expect_success().expect_stderr_contains("`--repo` overrides `dags.gitSync.repo`");
}

#[test]
fn verify_accepts_every_published_line_with_ssh_keygen_fingerprints() {
    let work = tempfile::tempdir().expect("temp dir");
    let path = work.path().join("published_known_hosts");
    std::fs::write(&path, published_lines()).expect("write");
    let run = run_tool(TOOL, &["verify", path.to_str().expect("utf-8")], None, work.path());
    run.expect_success();
    let report = report_of(&run);
    assert_eq!(report["format"], "known_hosts");
    assert_eq!(report["verified"], true);
    let lines = report["lines"].as_array().expect("lines");
    assert_eq!(lines.len(), 9);
    assert!(lines.iter().all(|line| line["verdict"] == "published"), "{run}");
    if require_tool(Tool::SshKeygen, "verify_accepts_every_published_line_with_ssh_keygen_fingerprints").is_some() {
        let ours: Vec<&str> = lines.iter().map(|line| line["fingerprint"].as_str().expect("fingerprint")).collect();
        assert_eq!(ours, ssh_keygen_fingerprints(&path), "our fingerprints must be ssh-keygen's");
    }
}

#[test]
fn verify_refuses_the_rotated_rsa_keys_by_name() {
    let work = tempfile::tempdir().expect("temp dir");
    let run = run_tool(TOOL, &["verify", fixture("rotated_known_hosts").to_str().expect("utf-8")], None, work.path());
    run.expect_code(1);
    run.expect_stderr_contains("line 3: rotated: refused: GitHub's old 2048-bit RSA host key, rotated on 2023-03-24");
    run.expect_stderr_contains(
        "line 4: rotated: refused: Bitbucket's old 2048-bit RSA host key, rotated on 2023-06-20",
    );
    let report = report_of(&run);
    assert_eq!(report["refused"], 2);
    assert_eq!(report["lines"][0]["fingerprint"], "SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8");
    assert_eq!(report["lines"][1]["fingerprint"], "SHA256:zzXQOXSRBEiUtuE8AikJYKwbHaxvSc0ojez9YXaGp1A");

    // In a values document too, and the filter refuses to pin it from `--from`.
    let block: String = std::fs::read_to_string(fixture("rotated_known_hosts"))
        .expect("fixture")
        .lines()
        .filter(|line| line.starts_with("github.com"))
        .map(|line| format!("      {line}\n"))
        .collect();
    let document = format!("dags:\n  gitSync:\n    repo: git@github.com:me/dags.git\n    knownHosts: |\n{block}");
    run_tool(TOOL, &["verify"], Some(&document), work.path()).expect_code(1).expect_stderr_contains("2023-03-24");
    let run = run_tool(
        TOOL,
        &["--from", fixture("rotated_known_hosts").to_str().expect("utf-8"), "--type", "rsa"],
        Some(&document),
        work.path(),
    );
    run.expect_code(4).expect_stderr_contains("rotated on 2023-03-24");
}

#[test]
fn verify_refuses_a_corrupted_line_that_ssh_keygen_skips_silently() {
    let work = tempfile::tempdir().expect("temp dir");
    let github = published_lines_of("github.com");
    let first = github.lines().next().expect("a line");
    let truncated = &first[..first.len() - 5];
    let text = format!("# GitHub\n{first}\n{truncated}\n");
    let path = work.path().join("known_hosts");
    std::fs::write(&path, &text).expect("write");
    let run = run_tool(TOOL, &["verify", path.to_str().expect("utf-8")], None, work.path());
    run.expect_code(1).expect_stderr_contains("line 3: unreadable");
    let report = report_of(&run);
    assert_eq!(report["lines"][1]["line"], 3);
    assert_eq!(report["lines"][1]["verdict"], "unreadable");
    if require_tool(Tool::SshKeygen, "verify_refuses_a_corrupted_line_that_ssh_keygen_skips_silently").is_some() {
        // The reason we parse every line ourselves.
        assert_eq!(ssh_keygen_fingerprints(&path).len(), 1, "ssh-keygen -lf skips the corrupted line");
    }
}

#[test]
fn verify_refuses_hashed_lines_made_by_ssh_keygen() {
    let test = "verify_refuses_hashed_lines_made_by_ssh_keygen";
    let Some(keygen) = require_tool(Tool::SshKeygen, test) else { return };
    let work = tempfile::tempdir().expect("temp dir");
    let path = work.path().join("known_hosts");
    std::fs::write(&path, published_lines_of("gitlab.com")).expect("write");
    let output = Command::new(keygen).arg("-H").arg("-f").arg(&path).output().expect("ssh-keygen -H");
    assert!(output.status.success());
    let hashed = std::fs::read_to_string(&path).expect("read");
    assert!(hashed.starts_with("|1|"), "{hashed}");
    let run = run_tool(TOOL, &["verify", "-"], Some(&hashed), work.path());
    run.expect_code(1).expect_stderr_contains("hashed");
    let report = report_of(&run);
    let verdicts: Vec<&str> =
        report["lines"].as_array().expect("lines").iter().map(|line| line["verdict"].as_str().expect("v")).collect();
    assert_eq!(verdicts, vec!["hashed"; 3]);
}

#[test]
fn from_published_lines_emits_a_block_verify_accepts() {
    let work = tempfile::tempdir().expect("temp dir");
    let from = work.path().join("all_published");
    std::fs::write(&from, published_lines()).expect("write");
    let from_arg = from.to_str().expect("utf-8");
    for (repo, field) in [
        ("git@github.com:me/dags.git", "github.com"),
        ("ssh://git@ssh.github.com:443/me/dags.git", "[ssh.github.com]:443"),
        ("git@gitlab.com:me/dags.git", "gitlab.com"),
        ("git@bitbucket.org:me/dags.git", "bitbucket.org"),
    ] {
        let document = format!("dags:\n  gitSync:\n    repo: {repo}\n");
        let run = run_tool(TOOL, &["--from", from_arg], Some(&document), work.path());
        run.expect_success();
        let block = known_hosts_of(&run);
        assert_eq!(block.lines().count(), 3, "{run}");
        assert!(block.lines().all(|line| line.starts_with(&format!("{field} "))), "{run}");
        let verified = run_tool(TOOL, &["verify"], Some(&run.stdout), work.path());
        verified.expect_success();
        assert_eq!(report_of(&verified)["accepted"], 3);
        // Idempotent: the filter run again on its own output changes nothing.
        run_tool(TOOL, &["--from", from_arg], Some(&run.stdout), work.path()).expect_success();
    }
}

#[test]
fn emitted_block_survives_values_merge_and_helm_byte_for_byte() {
    let test = "emitted_block_survives_values_merge_and_helm_byte_for_byte";
    let helms = helms(test);
    if helms.is_empty() {
        return;
    }
    let work = tempfile::tempdir().expect("temp dir");
    let from = work.path().join("github");
    std::fs::write(&from, published_lines_of("github.com")).expect("write");
    let cumulative = work.path().join("values.yaml");
    std::fs::write(
        &cumulative,
        "# kept\nexecutor: CeleryExecutor\ndags:\n  gitSync:\n    knownHosts: |\n      old line\n",
    )
    .expect("write");
    let run = run_tool(
        TOOL,
        &["--repo", "git@github.com:me/dags.git", "--from", from.to_str().expect("utf-8")],
        Some("dags:\n  gitSync:\n    enabled: true\n"),
        work.path(),
    );
    run.expect_success();
    let block = known_hosts_of(&run);
    assert_eq!(block, published_lines_of("github.com").lines().map(|line| format!("{line}\n")).collect::<String>());

    let merged = run_tool(
        "values-merge",
        &["--in-place", cumulative.to_str().expect("utf-8"), "-"],
        Some(&run.stdout),
        work.path(),
    );
    merged.expect_success();
    let merged_text = std::fs::read_to_string(&cumulative).expect("cumulative");
    assert!(merged_text.contains("executor: CeleryExecutor"), "{merged_text}");

    for (name, helm) in helms {
        let mut command = Command::new(&helm);
        command.args(["template", "roundtrip"]).arg(fixture("chart")).arg("-f").arg(&cumulative);
        let rendered = run_command(command, None);
        rendered.expect_success();
        let configmap = Document::parse(&rendered.stdout, "rendered").unwrap_or_else(|error| panic!("{name}: {error}"));
        let encoded = configmap
            .root
            .get_path(&["data", "knownHostsBase64"])
            .and_then(Node::as_str)
            .unwrap_or_else(|| panic!("{name}: no data\n{rendered}"));
        let decoded = base64_decode(encoded);
        assert_eq!(decoded, block, "{name}: knownHosts changed on its way through values-merge and helm");
        let mounted = configmap.root.get_path(&["data", "known_hosts"]).and_then(Node::as_str).expect("known_hosts");
        assert_eq!(mounted.trim_end(), block.trim_end(), "{name}");
    }
}

#[test]
fn closed_port_fails_with_exit_3_before_the_timeout() {
    if require_tool(Tool::SshKeyscan, "closed_port_fails_with_exit_3_before_the_timeout").is_none() {
        return;
    }
    let work = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let started = Instant::now();
    let run = run_tool(TOOL, &[&format!("127.0.0.1:{port}"), "--timeout", "5s"], Some(""), work.path());
    let elapsed = started.elapsed();
    run.expect_code(3).expect_stderr_contains("refused").expect_stderr_contains("hint:");
    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}\n{run}");
}

#[test]
fn unmatched_fingerprints_are_refused_with_exit_4() {
    let work = tempfile::tempdir().expect("temp dir");
    // GitLab's key offered as github.com's: published, but by someone else.
    let from = work.path().join("lines");
    std::fs::write(&from, published_lines_of("gitlab.com").replace("gitlab.com ", "github.com ")).expect("write");
    let run = run_tool(TOOL, &["github.com", "--from", from.to_str().expect("utf-8")], Some(""), work.path());
    run.expect_code(4).expect_stderr_contains("GitLab's key").expect_stderr_contains("do not pin");
    assert!(run.stdout.is_empty());
}

#[test]
fn bad_input_is_exit_2_with_a_hint() {
    let work = tempfile::tempdir().expect("temp dir");
    let garbage = work.path().join("garbage");
    std::fs::write(&garbage, "github.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\nnot a known_hosts line\n")
        .expect("write");
    let garbage = garbage.to_str().expect("utf-8");
    let cases: Vec<(Vec<&str>, &str, &str)> = vec![
        (vec!["github.com"], "- a\n- b\n", "is a list"),
        (vec!["--repo", "ssh:///srv/dags.git"], "", "names no host"),
        (vec!["--repo", "git@:me/dags.git"], "", "names no host"),
        (vec!["--repo", "ftp://github.com/me/dags.git"], "", "`ftp://` URL"),
        (vec!["--from", garbage, "github.com"], "", "line 2"),
        (vec![], "a: 1\n", "`dags.gitSync.repo` is not set"),
        (vec!["github.com", "--expect-fingerprint", "16:27:ac:a5"], "", "not a SHA256"),
        (vec!["github.com", "--timeout", "soon"], "", "not a duration"),
        (vec!["github.com"], "dags: [1]\n", "not a mapping"),
    ];
    for (args, stdin, needle) in cases {
        let run = run_tool(TOOL, &args, Some(stdin), work.path());
        run.expect_code(2).expect_stderr_contains(needle).expect_stderr_contains("hint:");
        assert!(run.stdout.is_empty(), "{run}");
    }
}

#[test]
fn help_lists_exit_codes_and_an_example() {
    let work = tempfile::tempdir().expect("temp dir");
    for args in [vec!["--help"], vec!["verify", "--help"]] {
        let run = run_tool(TOOL, &args, None, work.path());
        run.expect_success().expect_stdout_contains("Exit codes:").expect_stdout_contains("known-hosts verify");
    }
}

fn base64_decode(text: &str) -> String {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD.decode(text).expect("base64 from helm");
    String::from_utf8(bytes).expect("utf-8")
}
