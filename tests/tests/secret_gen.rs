//! secret-gen end to end, judged by the real programs: ssh-keygen reads our keys, a real sshd
//! lets `git clone` in with the key decoded from our YAML (and not with another key), Python's
//! `cryptography` accepts our Fernet keys, real kubectl makes the same Secret data, and real
//! Helm 3 and 4 validate our output against both charts' values.schema.json.

use std::path::{Path, PathBuf};
use std::process::Command;

use airflow_kit_core::{Document, Node};
use airflow_kit_tests::sshd::{Sshd, git_clone};
use airflow_kit_tests::tools::helms;
use airflow_kit_tests::{Run, Tool, require_tool, run_tool};
use base64::Engine;

const SECRET: &str = "airflow-ssh-secret";

fn secret_gen(args: &[&str], stdin: &str, dir: &Path) -> Run {
    run_tool("secret-gen", args, Some(stdin), dir)
}

fn parse(yaml: &str) -> Node {
    Document::parse(yaml, "secret-gen output").expect("our output parses").root
}

fn text_at(root: &Node, path: &[&str]) -> String {
    root.get_path(path).and_then(Node::as_str).unwrap_or_else(|| panic!("no string at {path:?}")).to_string()
}

/// The private key bytes, decoded from `extraSecrets.<SECRET>.data` of the YAML we emitted,
/// exactly as the chart and then Kubernetes will decode them.
fn key_from_yaml(yaml: &str) -> Vec<u8> {
    let data = text_at(&parse(yaml), &["extraSecrets", SECRET, "data"]);
    let inner = Document::parse(&data, "data").expect("data is YAML").root;
    let encoded = text_at(&inner, &["gitSshKey"]);
    assert!(!encoded.contains(char::is_whitespace), "gitSshKey must be ONE line: {encoded:?}");
    base64::engine::general_purpose::STANDARD.decode(encoded).expect("valid base64")
}

fn fingerprint_on_stderr(run: &Run) -> String {
    run.stderr
        .lines()
        .find_map(|line| line.strip_prefix("secret-gen: fingerprint: "))
        .unwrap_or_else(|| panic!("no fingerprint on stderr\n{run}"))
        .to_string()
}

fn deploy_key(dir: &Path, extra: &[&str], stdin: &str) -> Run {
    let keys = dir.join("keys");
    let mut args = vec!["deploy-key", "--dir", keys.to_str().expect("utf-8")];
    args.extend_from_slice(extra);
    secret_gen(&args, stdin, dir)
}

/// Every secret value in a document we emitted: what must never show up anywhere else.
fn secret_values(yaml: &str) -> Vec<String> {
    let root = parse(yaml);
    let mut found = Vec::new();
    collect_secrets(&root, &mut Vec::new(), &mut found);
    found
}

fn collect_secrets(node: &Node, path: &mut Vec<String>, found: &mut Vec<String>) {
    if let Some(mapping) = node.as_mapping() {
        for (key, value) in mapping.iter() {
            path.push(key.to_string());
            collect_secrets(value, path, found);
            path.pop();
        }
        return;
    }
    let parts: Vec<&str> = path.iter().map(String::as_str).collect();
    if airflow_kit_core::secrets::is_secret_path(&parts)
        && let Some(text) = node.as_str()
    {
        found.push(text.to_string());
    }
}

fn assert_no_secret_in(text: &str, secrets: &[String], what: &str) {
    for secret in secrets {
        for piece in secret.lines().map(str::trim).filter(|piece| piece.len() >= 8) {
            assert!(!text.contains(piece), "a secret leaked into {what}:\n{text}");
        }
    }
}

/// A snapshot with insta filters that redact every generated value and the temp dir, so
/// snapshots are stable and never hold a secret.
fn assert_redacted_snapshot(name: &str, text: &str, tmp: &Path) {
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(&regex_escape(&tmp.display().to_string()), "[TMP]");
    settings.add_filter(
        r"((?:webserverSecretKey|apiSecretKey|jwtSecret|fernetKey|password|postgresPassword|pass|gitSshKey): ).+",
        "$1[redacted]",
    );
    settings.add_filter(r"(fingerprint: )\S+", "$1[redacted]");
    settings.add_filter(r"(ssh-(?:ed25519|rsa) )AAAA\S+", "$1[redacted]");
    settings.add_filter(r"\.rotated-\d+", ".rotated-[time]");
    settings.bind(|| insta::assert_snapshot!(name, text));
}

fn regex_escape(text: &str) -> String {
    text.chars().flat_map(|c| if "\\.+*?()|[]{}^$".contains(c) { vec!['\\', c] } else { vec![c] }).collect()
}

// ---------------------------------------------------------------------------------------
// The filter

#[test]
fn the_filter_pins_secrets_keeps_order_and_is_idempotent() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let input = "# my values\nairflowVersion: 2.9.3\nexecutor: CeleryExecutor\nflag: yes\nwebserver:\n  replicas: 1\n";
    let first = secret_gen(&["--credentials"], input, tmp.path());
    first.expect_success();
    let root = parse(&first.stdout);
    let keys: Vec<&str> = root.as_mapping().expect("mapping").iter().map(|(key, _)| key).collect();
    assert_eq!(
        keys,
        [
            "airflowVersion",
            "executor",
            "flag",
            "webserver",
            "webserverSecretKey",
            "fernetKey",
            "redis",
            "postgresql",
            "data"
        ]
    );
    assert!(first.stdout.contains("flag: yes\n"), "untouched keys keep their writing\n{first}");
    let webserver_key = text_at(&root, &["webserverSecretKey"]);
    assert!(webserver_key.len() == 32 && webserver_key.chars().all(|c| c.is_ascii_hexdigit()), "{webserver_key}");
    assert_eq!(
        text_at(&root, &["postgresql", "auth", "postgresPassword"]),
        text_at(&root, &["data", "metadataConnection", "pass"])
    );
    assert_ne!(text_at(&root, &["webserver", "defaultUser", "password"]), "admin");
    assert_no_secret_in(&first.stderr, &secret_values(&first.stdout), "stderr");

    let second = secret_gen(&["--credentials"], &first.stdout, tmp.path());
    second.expect_success();
    assert_eq!(second.stdout, first.stdout, "a second run must change nothing");

    assert_redacted_snapshot("filter_airflow2_credentials", &first.stdout, tmp.path());
    assert_redacted_snapshot("filter_airflow2_credentials_stderr", &first.stderr, tmp.path());
}

#[test]
fn the_airflow_version_decides_the_keys() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let check = |args: &[&str], input: &str, present: &[&str], absent: &[&str]| {
        let run = secret_gen(args, input, tmp.path());
        run.expect_success();
        let root = parse(&run.stdout);
        for key in present {
            assert!(root.get_path(&[key]).is_some(), "{key} missing\n{run}");
        }
        for key in absent {
            assert!(root.get_path(&[key]).is_none(), "{key} must not be set\n{run}");
        }
    };
    check(&[], "defaultAirflowTag: 3.1.8\n", &["apiSecretKey", "jwtSecret", "fernetKey"], &["webserverSecretKey"]);
    check(&["--airflow", "2"], "", &["webserverSecretKey", "fernetKey"], &["apiSecretKey", "jwtSecret"]);
    check(&[], "", &["webserverSecretKey", "apiSecretKey", "jwtSecret", "fernetKey"], &[]);
    secret_gen(&["--airflow", "3"], "airflowVersion: 2.10.5\n", tmp.path())
        .expect_code(2)
        .expect_stderr_contains("hint:");
}

#[test]
fn rotate_changes_only_what_it_names() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let first = secret_gen(&["--credentials", "--airflow", "3"], "", tmp.path());
    first.expect_success();
    let before = parse(&first.stdout).to_json();
    for (name, path) in [
        ("apiSecretKey", vec!["apiSecretKey"]),
        ("jwtSecret", vec!["jwtSecret"]),
        ("redis.password", vec!["redis", "password"]),
        ("createUserJob.defaultUser.password", vec!["createUserJob", "defaultUser", "password"]),
        ("fernetKey", vec!["fernetKey"]),
    ] {
        let run = secret_gen(&["--credentials", "--airflow", "3", "--rotate", name], &first.stdout, tmp.path());
        run.expect_success();
        let after = parse(&run.stdout).to_json();
        let pointer = format!("/{}", path.join("/"));
        assert_ne!(before.pointer(&pointer), after.pointer(&pointer), "{name} must change\n{run}");
        let mut expected = before.clone();
        *expected.pointer_mut(&pointer).expect("present") = after.pointer(&pointer).expect("present").clone();
        assert_eq!(after, expected, "--rotate {name} changed something else\n{run}");
        assert_no_secret_in(&run.stderr, &secret_values(&run.stdout), "stderr");
    }
    secret_gen(&["--rotate", "postgresql.auth.postgresPassword"], &first.stdout, tmp.path())
        .expect_code(4)
        .expect_stderr_contains("hint:");
}

#[test]
fn the_default_database_password_of_an_existing_install_is_not_replaced() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let input = "postgresql:\n  auth:\n    postgresPassword: postgres\n";
    let run = secret_gen(&["--credentials"], input, tmp.path());
    run.expect_code(4).expect_stderr_contains("hint:").expect_stderr_contains("volume");
    assert!(run.stdout.is_empty(), "nothing may be written\n{run}");
}

#[test]
fn a_document_that_is_not_a_mapping_is_bad_input() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let run = secret_gen(&[], "- a\n- b\n", tmp.path());
    run.expect_code(2).expect_stderr_contains("hint:");
    assert!(run.stdout.is_empty());
    let run = deploy_key(tmp.path(), &[], "just a string\n");
    run.expect_code(2).expect_stderr_contains("hint:");
    assert!(!tmp.path().join("keys").exists(), "no key may be written for bad input\n{run}");
}

#[test]
fn fernet_keys_are_accepted_by_python_cryptography() {
    let Some(python) = require_tool(Tool::Python, "fernet_keys_are_accepted_by_python_cryptography") else { return };
    let tmp = tempfile::tempdir().expect("temp dir");
    let first = secret_gen(&[], "", tmp.path());
    first.expect_success();
    let rotated = secret_gen(&["--rotate", "fernetKey"], &first.stdout, tmp.path());
    rotated.expect_success();
    // The key goes in on stdin, never in argv. A rotated value is `new,old`, as Airflow reads it.
    let script = "import sys\nfrom cryptography.fernet import Fernet, MultiFernet\n\
        keys = sys.stdin.read().strip().split(',')\n\
        old = Fernet(keys[-1]).encrypt(b'conn')\n\
        multi = MultiFernet([Fernet(k) for k in keys])\n\
        assert multi.decrypt(old) == b'conn'\n\
        assert Fernet(keys[0]).decrypt(multi.encrypt(b'x')) == b'x'\n\
        print(len(keys))\n";
    for (run, count) in [(&first, "1"), (&rotated, "2")] {
        let key = text_at(&parse(&run.stdout), &["fernetKey"]);
        let mut command = Command::new(&python);
        command.args(["-c", script]);
        let result = airflow_kit_tests::bins::run_command(command, Some(key.as_bytes()));
        result.expect_success();
        assert_eq!(result.stdout.trim(), count, "{result}");
    }
}

// ---------------------------------------------------------------------------------------
// deploy-key

#[test]
fn ssh_keygen_reads_our_keys_and_agrees_on_the_fingerprint() {
    let Some(keygen) = require_tool(Tool::SshKeygen, "ssh_keygen_reads_our_keys") else { return };
    for key_type in ["ed25519", "rsa"] {
        let tmp = tempfile::tempdir().expect("temp dir");
        let run = deploy_key(tmp.path(), &["--type", key_type, "--comment", "me@example.com"], "");
        run.expect_success();
        let private = tmp.path().join("keys/airflow_deploy_key");
        let public = std::fs::read_to_string(private.with_extension("pub")).expect("pub");
        let derived = Command::new(&keygen).arg("-y").arg("-f").arg(&private).output().expect("ssh-keygen -y");
        assert!(derived.status.success(), "{}", String::from_utf8_lossy(&derived.stderr));
        assert_eq!(String::from_utf8_lossy(&derived.stdout).trim(), public.trim(), "{key_type}: -y differs from .pub");
        assert!(public.trim().ends_with(" me@example.com"));
        let fingerprint = fingerprint_on_stderr(&run);
        for file in [private.clone(), private.with_extension("pub")] {
            let listed = Command::new(&keygen).arg("-lf").arg(&file).output().expect("ssh-keygen -lf");
            let listed = String::from_utf8_lossy(&listed.stdout).into_owned();
            assert!(listed.contains(&fingerprint), "{key_type}: ssh-keygen -lf says {listed}, we said {fingerprint}");
            let bits = if key_type == "rsa" { "4096 " } else { "256 " };
            assert!(listed.starts_with(bits), "{listed}");
        }
        assert_eq!(key_from_yaml(&run.stdout), std::fs::read(&private).expect("key"));
        let modes = |path: &Path| airflow_kit_core::fs::mode_of(path).expect("mode");
        assert_eq!(modes(&tmp.path().join("keys")), 0o700);
        assert_eq!(modes(&private), 0o600);
        assert_eq!(modes(&private.with_extension("pub")), 0o644);
    }
}

#[test]
fn git_clones_over_real_ssh_with_the_key_decoded_from_our_yaml() {
    let Some(server) = Sshd::start("git_clones_over_real_ssh_with_the_key_decoded_from_our_yaml") else { return };
    let url = server.repo_url();
    let host_key = std::fs::read_to_string(server.host_public_key("ed25519")).expect("host key");
    let fields: Vec<&str> = host_key.split_whitespace().take(2).collect();
    for key_type in ["ed25519", "rsa"] {
        server.deauthorize_all();
        let tmp = tempfile::tempdir().expect("temp dir");
        let run =
            deploy_key(tmp.path(), &["--type", key_type, "--repo", &url, "--branch", "main", "--sub-path", "dags"], "");
        run.expect_success();
        let root = parse(&run.stdout);
        assert_eq!(text_at(&root, &["dags", "gitSync", "repo"]), url);
        assert_eq!(text_at(&root, &["dags", "gitSync", "ref"]), "main");
        assert_eq!(text_at(&root, &["dags", "gitSync", "sshKeySecret"]), SECRET);
        assert_eq!(root.get_path(&["dags", "gitSync", "enabled"]).and_then(Node::as_bool), Some(true));

        // What git-sync gets: the key as Kubernetes decodes it from the Secret we emitted.
        let key = write_private(tmp.path(), "mounted-key", &key_from_yaml(&run.stdout));
        let public = std::fs::read_to_string(tmp.path().join("keys/airflow_deploy_key.pub")).expect("pub");
        let known_hosts = tmp.path().join("known_hosts");
        std::fs::write(&known_hosts, format!("[127.0.0.1]:{} {}\n", server.port, fields.join(" ")))
            .expect("known_hosts");

        let (ok, stderr) = git_clone(&url, &key, &known_hosts, &tmp.path().join("before"));
        assert!(!ok && stderr.contains("Permission denied (publickey)"), "{key_type}: not yet authorized: {stderr}");
        server.authorize(&public);
        let (ok, stderr) = git_clone(&url, &key, &known_hosts, &tmp.path().join("clone"));
        assert!(ok, "{key_type}: our key must clone: {stderr}");
        assert!(tmp.path().join("clone/dags/example_dag.py").exists());

        let other = tempfile::tempdir().expect("temp dir");
        let other_run = deploy_key(other.path(), &["--type", key_type], "");
        other_run.expect_success();
        let other_key = write_private(tmp.path(), "other-key", &key_from_yaml(&other_run.stdout));
        let (ok, stderr) = git_clone(&url, &other_key, &known_hosts, &tmp.path().join("other"));
        assert!(!ok, "{key_type}: another key must not clone");
        assert!(stderr.contains("Permission denied (publickey)"), "{stderr}");
    }
}

fn write_private(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write key");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    path
}

#[test]
fn the_manifest_has_the_same_data_as_kubectl_create_secret() {
    let Some(kubectl) = require_tool(Tool::Kubectl, "the_manifest_has_the_same_data_as_kubectl_create_secret") else {
        return;
    };
    let tmp = tempfile::tempdir().expect("temp dir");
    let manifest = tmp.path().join("secret.yaml");
    // A document that still carries the key in its values: --as-manifest takes it out.
    let with_key = deploy_key(tmp.path(), &["--repo", "git@github.com:me/dags.git"], "a: 1\n");
    with_key.expect_success();
    let run = deploy_key(tmp.path(), &["--as-manifest", manifest.to_str().expect("utf-8")], &with_key.stdout);
    run.expect_success();
    assert!(!run.stdout.contains("gitSshKey") && !run.stdout.contains("extraSecrets"), "key left in values\n{run}");
    assert_eq!(text_at(&parse(&run.stdout), &["dags", "gitSync", "sshKeySecret"]), SECRET);
    assert_eq!(airflow_kit_core::fs::mode_of(&manifest), Some(0o600));

    let key = tmp.path().join("keys/airflow_deploy_key");
    let output = Command::new(&kubectl)
        .args(["create", "secret", "generic", SECRET])
        .arg(format!("--from-file=gitSshKey={}", key.display()))
        .args(["--dry-run=client", "-o", "yaml"])
        .env("KUBECONFIG", tmp.path().join("no-kubeconfig"))
        .output()
        .expect("kubectl runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let theirs = parse(&String::from_utf8_lossy(&output.stdout));
    let ours = parse(&std::fs::read_to_string(&manifest).expect("manifest"));
    assert_eq!(ours.get_path(&["data"]).map(Node::to_json), theirs.get_path(&["data"]).map(Node::to_json));
    assert_eq!(text_at(&ours, &["kind"]), "Secret");
    assert_eq!(text_at(&ours, &["metadata", "name"]), SECRET);

    let to_stdout = deploy_key(tmp.path(), &["--as-manifest", "-", "-n", "airflow"], "");
    to_stdout.expect_success();
    let printed = parse(&to_stdout.stdout);
    assert_eq!(text_at(&printed, &["metadata", "namespace"]), "airflow");
    assert_eq!(printed.get_path(&["data"]).map(Node::to_json), theirs.get_path(&["data"]).map(Node::to_json));
}

#[test]
fn deploy_key_is_idempotent_and_keeps_secrets_off_stderr() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let args = ["--repo", "git@github.com:me/dags.git", "--branch", "main", "--sub-path", "dags"];
    let first = deploy_key(tmp.path(), &args, "executor: CeleryExecutor\n");
    first.expect_success();
    let second = deploy_key(tmp.path(), &args, &first.stdout);
    second.expect_success();
    assert_eq!(second.stdout, first.stdout, "a second run must change nothing");
    let private = std::fs::read_to_string(tmp.path().join("keys/airflow_deploy_key")).expect("key");
    let body: Vec<String> = private.lines().filter(|line| !line.starts_with("-----")).map(str::to_string).collect();
    for run in [&first, &second] {
        assert_no_secret_in(&run.stderr, &secret_values(&run.stdout), "stderr");
        assert_no_secret_in(&run.stderr, &body, "stderr");
    }
    assert!(first.stdout.contains("    data: |\n      gitSshKey: '"), "data must be a literal block\n{first}");
    assert_redacted_snapshot("deploy_key_values", &first.stdout, tmp.path());
    assert_redacted_snapshot("deploy_key_stderr", &first.stderr, tmp.path());
    assert_redacted_snapshot("deploy_key_stderr_reused", &second.stderr, tmp.path());
}

#[test]
fn an_existing_different_key_is_refused_and_rotate_moves_it_aside() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let first = deploy_key(tmp.path(), &[], "");
    first.expect_success();
    let private = tmp.path().join("keys/airflow_deploy_key");
    let original = std::fs::read(&private).expect("key");

    let run = deploy_key(tmp.path(), &["--type", "rsa", "--bits", "2048"], "");
    run.expect_code(4).expect_stderr_contains("hint:");
    assert!(run.stdout.is_empty());
    assert_eq!(std::fs::read(&private).expect("key"), original, "the key must not change");

    // The document holds a key the directory does not: refused, not silently replaced.
    let elsewhere = tempfile::tempdir().expect("temp dir");
    let run = deploy_key(elsewhere.path(), &[], &first.stdout);
    run.expect_code(4).expect_stderr_contains("hint:");
    assert!(!elsewhere.path().join("keys/airflow_deploy_key").exists());

    let rotated = deploy_key(tmp.path(), &["--rotate"], &first.stdout);
    rotated.expect_success();
    assert_ne!(std::fs::read(&private).expect("key"), original);
    assert_eq!(key_from_yaml(&rotated.stdout), std::fs::read(&private).expect("key"));
    let kept: Vec<_> = std::fs::read_dir(tmp.path().join("keys"))
        .expect("list")
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.file_name().to_string_lossy().starts_with("airflow_deploy_key.rotated-"))
        .map(|entry| entry.path())
        .collect();
    assert_eq!(kept.len(), 1, "the old key is moved aside, never deleted: {kept:?}");
    assert_eq!(std::fs::read(&kept[0]).expect("old key"), original);
}

#[test]
fn bad_key_directories_and_bad_keys_are_refused_with_nothing_written() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let file = tmp.path().join("a-file");
    std::fs::write(&file, "x").expect("write");
    let run = secret_gen(&["deploy-key", "--dir", file.to_str().expect("utf-8")], "", tmp.path());
    run.expect_code(2).expect_stderr_contains("hint:");
    assert_eq!(std::fs::read_to_string(&file).expect("read"), "x");

    let unwritable = "/proc/airflow-kit-secret-gen-test/keys";
    let run = secret_gen(&["deploy-key", "--dir", unwritable], "", tmp.path());
    run.expect_code(2).expect_stderr_contains("hint:");
    assert!(run.stdout.is_empty());

    let good = deploy_key(tmp.path(), &[], "");
    good.expect_success();
    let key = std::fs::read_to_string(tmp.path().join("keys/airflow_deploy_key")).expect("key");
    let public = std::fs::read_to_string(tmp.path().join("keys/airflow_deploy_key.pub")).expect("pub");
    for (name, content, needle) in [
        ("crlf", key.replace('\n', "\r\n"), "CR LF"),
        ("no-newline", key.trim_end().to_string(), "newline"),
        ("public", public.clone(), "public key"),
        ("doubled", base64::engine::general_purpose::STANDARD.encode(&key), "base64"),
    ] {
        let bad = tmp.path().join(name);
        std::fs::write(&bad, &content).expect("write");
        let target = tmp.path().join(format!("dir-{name}"));
        let run = secret_gen(
            &["deploy-key", "--dir", target.to_str().expect("utf-8"), "--key", bad.to_str().expect("utf-8")],
            "",
            tmp.path(),
        );
        run.expect_code(2).expect_stderr_contains(needle).expect_stderr_contains("hint:");
        assert!(!target.exists(), "{name}: nothing may be written\n{run}");
    }
}

/// What secret-gen must do with a `--key`, judged against real `ssh-keygen -y`.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    /// ssh loads it: accepted, copied byte for byte.
    Loads,
    /// ssh cannot load it: exit 2, the message naming this.
    Refused(&'static str),
    /// ssh loads it, and we refuse it on purpose with exit 4: RSA under 2048 bits.
    TooWeak,
    /// ssh loads it (OpenSSL's PEM reader); we refuse it with exit 2 and the command that
    /// converts it, since we cannot read it back for the self-test.
    OldPemFormat,
}

/// Issue 11, item 8 (and item 9's last bullet): a `--key` with a leading blank line passed
/// our checks while ssh could not load it, and install then blamed an unregistered deploy
/// key. Now real `ssh-keygen -y` is the judge over a table of malformed keys: secret-gen
/// refuses (exit 2, what is wrong and the fix) exactly what ssh refuses, accepts what ssh
/// loads (text after the END line, an indented or re-wrapped body), refuses RSA under 2048
/// bits (exit 4), and never tells anyone to append a newline to a truncated key. The keys
/// it accepts clone over a real sshd once decoded from our YAML.
#[test]
fn a_brought_key_is_refused_exactly_when_ssh_keygen_cannot_load_it() {
    let test = "a_brought_key_is_refused_exactly_when_ssh_keygen_cannot_load_it";
    let Some(keygen) = require_tool(Tool::SshKeygen, test) else { return };
    let Some(server) = Sshd::start(test) else { return };
    let tmp = tempfile::tempdir().expect("temp dir");
    let make = |name: &str, args: &[&str]| -> (String, String) {
        let path = tmp.path().join(name);
        let status =
            Command::new(&keygen).args(["-q", "-C", "me"]).args(args).arg("-f").arg(&path).status().expect("keygen");
        assert!(status.success(), "ssh-keygen {args:?}");
        let private = std::fs::read_to_string(&path).expect("key");
        let public = std::fs::read_to_string(path.with_extension("pub")).expect("pub");
        (private, public)
    };
    let (key, public) = make("ed25519", &["-t", "ed25519", "-N", ""]);
    let (encrypted, _) = make("encrypted", &["-t", "ed25519", "-N", "a passphrase"]);
    let (rsa1024, _) = make("rsa1024", &["-t", "rsa", "-b", "1024", "-N", ""]);
    let (rsa2048, rsa2048_public) = make("rsa2048", &["-t", "rsa", "-b", "2048", "-N", ""]);
    let (pem, _) = make("pem", &["-t", "rsa", "-b", "2048", "-N", "", "-m", "PEM"]);
    let lines: Vec<&str> = key.lines().collect();
    let body = &lines[1..lines.len() - 1];
    let rejoin = |lines: &[&str]| lines.iter().map(|line| format!("{line}\n")).collect::<String>();
    let indented_body = format!(
        "{}\n{}{}\n",
        lines[0],
        body.iter().map(|l| format!("  {l}\n")).collect::<String>(),
        lines[lines.len() - 1]
    );
    let lost_line: Vec<&str> = lines.iter().enumerate().filter(|(n, _)| *n != 2).map(|(_, line)| *line).collect();
    use Expect::{Loads, OldPemFormat, Refused, TooWeak};
    let rows: Vec<(&str, String, Expect)> = vec![
        ("good", key.clone(), Loads),
        ("rsa-2048", rsa2048.clone(), Loads),
        ("trailing-garbage", format!("{key}pasted by accident\n"), Loads),
        ("trailing-blank-lines", format!("{key}\n\n"), Loads),
        ("indented-body", indented_body, Loads),
        ("one-long-line", format!("{}\n{}\n{}\n", lines[0], body.concat(), lines[lines.len() - 1]), Loads),
        ("leading-blank-line", format!("\n{key}"), Refused("blank line before")),
        ("leading-spaces", format!("  {key}"), Refused("white space before")),
        ("byte-order-mark", format!("\u{feff}{key}"), Refused("byte order mark")),
        ("crlf", key.replace('\n', "\r\n"), Refused("CR LF")),
        ("missing-final-newline", key.trim_end().to_string(), Refused("does not end with a newline")),
        ("truncated", key[..key.len() / 2].to_string(), Refused("truncated")),
        ("truncated-at-a-line", rejoin(&lines[..3]), Refused("truncated")),
        ("lost-a-line", rejoin(&lost_line), Refused("damaged")),
        ("indented-end-line", key.replace("-----END", "  -----END"), Refused("in the middle of a line")),
        ("public-key", public.clone(), Refused("public key")),
        ("encrypted", encrypted, Refused("passphrase")),
        ("base64-of-the-key", base64::engine::general_purpose::STANDARD.encode(&key), Refused("base64 of a key file")),
        ("rsa-1024", rsa1024, TooWeak),
        ("old-pem-format", pem, OldPemFormat),
    ];
    let known_hosts = tmp.path().join("known_hosts");
    let host_key = std::fs::read_to_string(server.host_public_key("ed25519")).expect("host key");
    let fields: Vec<&str> = host_key.split_whitespace().take(2).collect();
    std::fs::write(&known_hosts, format!("[127.0.0.1]:{} {}\n", server.port, fields.join(" "))).expect("write");
    server.authorize(&public);
    server.authorize(&rsa2048_public);
    for (name, content, expect) in rows {
        let file = write_private(tmp.path(), &format!("key-{name}"), content.as_bytes());
        let ssh = Command::new(&keygen)
            .args(["-y", "-P", ""])
            .arg("-f")
            .arg(&file)
            .stdin(std::process::Stdio::null())
            .output()
            .expect("ssh-keygen -y");
        let ssh_loads = ssh.status.success();
        let dir = tmp.path().join(format!("dir-{name}"));
        let run = secret_gen(
            &["deploy-key", "--dir", dir.to_str().expect("utf-8"), "--key", file.to_str().expect("utf-8")],
            "",
            tmp.path(),
        );
        let ssh_said = String::from_utf8_lossy(&ssh.stderr);
        match expect {
            Loads => {
                assert!(ssh_loads, "{name}: ssh-keygen -y refuses it: {ssh_said}");
                run.expect_success();
                let decoded = key_from_yaml(&run.stdout);
                assert_eq!(decoded, content.as_bytes(), "{name}: the key must be copied exactly");
                let mounted = write_private(tmp.path(), &format!("mounted-{name}"), &decoded);
                let (ok, stderr) =
                    git_clone(&server.repo_url(), &mounted, &known_hosts, &tmp.path().join(format!("clone-{name}")));
                assert!(ok, "{name}: real ssh could not use the key we accepted: {stderr}");
            }
            Refused(needle) => {
                assert!(!ssh_loads, "{name}: ssh-keygen -y loads it, so it must not be refused");
                run.expect_code(2).expect_stderr_contains(needle).expect_stderr_contains("hint:");
            }
            TooWeak => {
                assert!(ssh_loads, "{name}: {ssh_said}");
                run.expect_code(4).expect_stderr_contains("1024-bit RSA key").expect_stderr_contains("hint:");
            }
            OldPemFormat => {
                assert!(ssh_loads, "{name}: {ssh_said}");
                run.expect_code(2).expect_stderr_contains("ssh-keygen -p");
            }
        }
        if expect != Loads {
            assert!(run.stdout.is_empty(), "{name}: nothing on stdout\n{run}");
            assert!(!dir.exists(), "{name}: nothing may be written\n{run}");
        }
        if expect != Refused("does not end with a newline") {
            assert!(
                !run.stderr.contains("append") && !run.stderr.contains("echo >>"),
                "{name}: no newline advice\n{run}"
            );
        }
    }
}

#[test]
fn a_brought_key_is_copied_exactly() {
    let Some(keygen) = require_tool(Tool::SshKeygen, "a_brought_key_is_copied_exactly") else { return };
    let tmp = tempfile::tempdir().expect("temp dir");
    let theirs = tmp.path().join("id_ed25519");
    let status = Command::new(&keygen)
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "mine", "-f"])
        .arg(&theirs)
        .status()
        .expect("ssh-keygen");
    assert!(status.success());
    let run = deploy_key(tmp.path(), &["--key", theirs.to_str().expect("utf-8")], "");
    run.expect_success();
    let bytes = std::fs::read(&theirs).expect("key");
    assert_eq!(std::fs::read(tmp.path().join("keys/airflow_deploy_key")).expect("copy"), bytes);
    assert_eq!(key_from_yaml(&run.stdout), bytes);
    let again = deploy_key(tmp.path(), &["--key", theirs.to_str().expect("utf-8")], &run.stdout);
    again.expect_success();
    assert_eq!(again.stdout, run.stdout);
}

// ---------------------------------------------------------------------------------------
// The real charts' schemas, through real Helm 3 and 4

/// A chart made of the real chart's values.yaml and values.schema.json and one trivial
/// template, so `helm template -f ours.yaml` runs exactly the chart's schema validation.
fn schema_chart(dir: &Path, version: &str) -> PathBuf {
    let chart = dir.join(format!("chart-{version}"));
    std::fs::create_dir_all(chart.join("templates")).expect("chart dir");
    let source = airflow_kit_tests::bins::shared_dir().join("airflow-chart").join(version);
    for file in ["values.yaml", "values.schema.json"] {
        std::fs::copy(source.join(file), chart.join(file)).expect("copy chart file");
    }
    std::fs::write(chart.join("Chart.yaml"), format!("apiVersion: v2\nname: airflow\nversion: {version}\n"))
        .expect("Chart.yaml");
    std::fs::write(
        chart.join("templates/check.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: check\ndata:\n  repo: {{ .Values.dags.gitSync.repo | quote }}\n",
    )
    .expect("template");
    chart
}

fn helm_template(helm: &Path, chart: &Path, values: &Path) -> (bool, String) {
    let output =
        Command::new(helm).arg("template").arg("check").arg(chart).arg("-f").arg(values).output().expect("helm");
    (output.status.success(), String::from_utf8_lossy(&output.stderr).into_owned())
}

#[test]
fn everything_we_emit_passes_both_real_chart_schemas() {
    let helms = helms("everything_we_emit_passes_both_real_chart_schemas");
    if helms.is_empty() {
        return;
    }
    let tmp = tempfile::tempdir().expect("temp dir");
    let charts = [schema_chart(tmp.path(), "1.15.0"), schema_chart(tmp.path(), "1.20.0")];
    let deploy = ["--repo", "git@github.com:me/dags.git", "--branch", "main", "--sub-path", "dags"];
    let mut cases: Vec<(&str, String, bool)> = Vec::new();
    for (name, args, input, both_charts) in [
        ("airflow2", vec!["--credentials"], "airflowVersion: 2.9.3\n", true),
        ("unknown", vec!["--credentials"], "", true),
        // Airflow 3 needs chart 1.16+; its admin user lives under createUserJob, which 1.15 lacks.
        ("airflow3", vec!["--credentials"], "airflowVersion: 3.1.8\n", false),
        ("airflow3-no-credentials", vec![], "airflowVersion: 3.1.8\n", true),
    ] {
        let filtered = secret_gen(&args, input, tmp.path());
        filtered.expect_success();
        let with_key = deploy_key(tmp.path(), &deploy, &filtered.stdout);
        with_key.expect_success();
        cases.push((name, with_key.stdout.clone(), both_charts));
    }
    let manifest = tmp.path().join("secret.yaml");
    let as_manifest = deploy_key(tmp.path(), &["--as-manifest", manifest.to_str().expect("utf-8")], &cases[0].1);
    as_manifest.expect_success();
    cases.push(("as-manifest", as_manifest.stdout.clone(), true));
    // The check itself must be able to fail: a map where the chart wants a string block.
    let broken = format!(
        "{}extraSecrets:\n  broken:\n    data:\n      gitSshKey: x\n",
        cases[0].1.replace("extraSecrets:", "unused:")
    );

    for (label, helm) in &helms {
        for (index, chart) in charts.iter().enumerate() {
            for (name, yaml, both_charts) in &cases {
                if index == 0 && !both_charts {
                    continue;
                }
                let values = tmp.path().join(format!("{name}.yaml"));
                std::fs::write(&values, yaml).expect("values");
                let (ok, stderr) = helm_template(helm, chart, &values);
                assert!(ok, "{label} rejects {name} with {}:\n{stderr}", chart.display());
            }
            let values = tmp.path().join("broken.yaml");
            std::fs::write(&values, &broken).expect("values");
            let (ok, stderr) = helm_template(helm, chart, &values);
            assert!(!ok && stderr.contains("extraSecrets"), "{label}: the schema must reject a map in data: {stderr}");
        }
    }
}

#[test]
fn help_ends_with_the_exit_codes() {
    let tmp = tempfile::tempdir().expect("temp dir");
    for args in [vec!["--help"], vec!["deploy-key", "--help"]] {
        let run = secret_gen(&args, "", tmp.path());
        run.expect_success().expect_stdout_contains("Example").expect_stdout_contains("4  refused for safety");
    }
}

// ---------------------------------------------------------------------------------------
// The README's pipe, and a FILE that does not exist yet

/// The README's pipe (the first `sh` block under "The tools on their own"), read from README.md
/// itself so the README cannot drift from what is tested.
fn readme_pipe() -> String {
    let readme =
        std::fs::read_to_string(airflow_kit_tests::bins::workspace_root().join("README.md")).expect("README.md");
    let section = readme.split_once("## The tools on their own").expect("the README section").1;
    let block = section.split_once("```sh\n").expect("an sh block").1;
    block.split_once("\n```").expect("the block's end").0.to_string()
}

/// The README's pipe, changed only where it must reach the network or the cluster: the
/// repository URL becomes the test sshd's, `known-hosts` gets the test host's fingerprints
/// (checked out of band, as a user would for a self-hosted server: no provider publishes
/// them), and the tail from `&& helm-run upgrade` on is cut (it needs a cluster). Each change
/// must match exactly once, so a rewritten README fails here instead of being tested halfway.
fn readme_pipe_for(server: &Sshd) -> String {
    let pipe = readme_pipe();
    assert_eq!(
        pipe.lines().next(),
        Some("set -o pipefail"),
        "the README pipe must start with `set -o pipefail`:\n{pipe}"
    );
    let replace_once = |text: &str, from: &str, to: &str| {
        assert_eq!(text.matches(from).count(), 1, "`{from}` must appear exactly once in the README pipe:\n{text}");
        text.replacen(from, to, 1)
    };
    let pipe = replace_once(&pipe, "--repo git@github.com:me/dags.git ", &format!("--repo '{}' ", server.repo_url()));
    let fingerprints: String =
        server.host_fingerprints().iter().map(|fingerprint| format!(" --expect-fingerprint {fingerprint}")).collect();
    let pipe = replace_once(&pipe, "| known-hosts \\\n", &format!("| known-hosts{fingerprints} \\\n"));
    let (kept, cut) = pipe.split_once(" \\\n  && helm-run upgrade").expect("the README pipe ends with the upgrade");
    assert!(cut.contains("pod-inspect"), "only the cluster steps are cut: {cut}");
    assert!(kept.ends_with("| values-merge --in-place values.yaml -"), "{kept}");
    format!("{kept}\n")
}

/// Runs `script` with bash in `dir`, our built binaries first on PATH and HOME in the temp dir
/// (so the README's `~/.airflow/keys` lands there).
fn run_bash(script: &str, dir: &Path, home: &Path) -> Run {
    let bins = airflow_kit_tests::bins::bin_dir();
    let mut command = Command::new("bash");
    command
        .args(["-c", script])
        .current_dir(dir)
        .env("HOME", home)
        .env("PATH", format!("{}:{}", bins.display(), std::env::var("PATH").unwrap_or_default()));
    airflow_kit_tests::bins::run_command(command, None)
}

/// Defect 3 of issue 16: on a fresh machine `secret-gen < values.yaml` failed (no such file),
/// the pipe went on, and the cumulative file was written without a fernet or API key. The
/// README's pipe, run as written in a fresh directory, must now write every pinned secret, the
/// deploy key and knownHosts into a 0600 cumulative file, and a second run must leave it
/// byte-identical.
#[test]
fn the_readme_pipe_works_as_written_on_a_fresh_machine_and_twice_changes_nothing() {
    let Some(server) = Sshd::start("the_readme_pipe_works_as_written_on_a_fresh_machine") else { return };
    if require_tool(Tool::SshKeyscan, "the_readme_pipe_works_as_written_on_a_fresh_machine").is_none() {
        return;
    }
    let tmp = tempfile::tempdir().expect("temp dir");
    let (work, home) = (tmp.path().join("work"), tmp.path().join("home"));
    std::fs::create_dir_all(&work).expect("work dir");
    std::fs::create_dir_all(&home).expect("home dir");
    let script = readme_pipe_for(&server);
    let values = work.join("values.yaml");

    let first = run_bash(&script, &work, &home);
    first.expect_success();
    let note = "secret-gen: values.yaml does not exist yet; starting from an empty document";
    assert_eq!(first.stderr.matches(note).count(), 1, "the missing file is said once\n{first}\n{script}");
    assert_eq!(airflow_kit_core::fs::mode_of(&values), Some(0o600), "the cumulative file is 0600");
    let written = std::fs::read_to_string(&values).expect("the cumulative file exists");
    let root = parse(&written);
    for path in [&["fernetKey"][..], &["webserverSecretKey"], &["apiSecretKey"], &["jwtSecret"], &["redis", "password"]]
    {
        assert!(!text_at(&root, path).is_empty(), "{path:?} is pinned\n{written}");
    }
    assert_eq!(text_at(&root, &["dags", "gitSync", "repo"]), server.repo_url());
    assert_eq!(text_at(&root, &["dags", "gitSync", "sshKeySecret"]), SECRET);
    let key_file = home.join(".airflow/keys/airflow_deploy_key");
    assert_eq!(key_from_yaml(&written), std::fs::read(&key_file).expect("the deploy key"), "the deploy key Secret");
    let known_hosts = text_at(&root, &["dags", "gitSync", "knownHosts"]);
    assert!(known_hosts.contains(&format!("[127.0.0.1]:{} ", server.port)), "{known_hosts}");
    assert_no_secret_in(&first.stderr, &secret_values(&written), "stderr");

    // What the cumulative file carries lets git in, as git-sync would run it.
    server.authorize(&std::fs::read_to_string(key_file.with_extension("pub")).expect("public key"));
    let mounted = write_private(tmp.path(), "mounted-key", &key_from_yaml(&written));
    let hosts_file = tmp.path().join("known_hosts");
    std::fs::write(&hosts_file, &known_hosts).expect("known_hosts");
    let (ok, stderr) = git_clone(&server.repo_url(), &mounted, &hosts_file, &tmp.path().join("clone"));
    assert!(ok, "the pinned key and knownHosts must clone: {stderr}");

    let second = run_bash(&script, &work, &home);
    second.expect_success();
    assert!(!second.stderr.contains("does not exist yet"), "{second}");
    assert_eq!(std::fs::read_to_string(&values).expect("values"), written, "a second run changes nothing\n{second}");
}

#[test]
fn a_missing_file_is_an_empty_document_for_both_subcommands() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let note = "secret-gen: new.yaml does not exist yet; starting from an empty document\n";
    let filtered = run_tool("secret-gen", &["new.yaml", "--airflow", "2"], None, tmp.path());
    filtered.expect_success();
    assert_eq!(filtered.stderr.matches(note).count(), 1, "{filtered}");
    assert!(parse(&filtered.stdout).get_path(&["fernetKey"]).is_some(), "{filtered}");
    assert!(!tmp.path().join("new.yaml").exists(), "reading never creates the file");

    let keyed = deploy_key(tmp.path(), &["new.yaml"], "");
    keyed.expect_success();
    assert_eq!(keyed.stderr.matches(note).count(), 1, "{keyed}");
    assert!(key_from_yaml(&keyed.stdout).starts_with(b"-----BEGIN OPENSSH PRIVATE KEY-----"));

    // `-` is stdin, for both.
    let from_stdin = secret_gen(&["-"], "executor: CeleryExecutor\n", tmp.path());
    from_stdin.expect_success().expect_stdout_contains("executor: CeleryExecutor");
    assert!(!from_stdin.stderr.contains("does not exist"), "{from_stdin}");
    deploy_key(tmp.path(), &["-"], "executor: CeleryExecutor\n")
        .expect_success()
        .expect_stdout_contains("executor: CeleryExecutor");

    // A missing directory is a typo, not a first run: refused, nothing printed.
    for args in [&["nodir/values.yaml"][..], &["deploy-key", "--dir", "keys2", "nodir/values.yaml"]] {
        let run = run_tool("secret-gen", args, None, tmp.path());
        run.expect_code(2).expect_stderr_contains("neither it nor its directory").expect_stderr_contains("hint:");
        assert!(run.stdout.is_empty(), "{run}");
    }
    assert!(!tmp.path().join("keys2").exists(), "no key is written for bad input");
}

/// A key pair another user planted, or one others can read or change, is never reused
/// (issue 11): exit 4, with the fix, and the document is not written.
#[test]
fn a_key_pair_that_is_not_the_callers_own_is_refused() {
    let tmp = tempfile::tempdir().expect("temp dir");
    deploy_key(tmp.path(), &[], "{}\n").expect_success();
    let private = tmp.path().join("keys/airflow_deploy_key");
    std::fs::set_permissions(&private, std::os::unix::fs::PermissionsExt::from_mode(0o644)).expect("chmod");
    let readable = deploy_key(tmp.path(), &[], "{}\n");
    readable
        .expect_code(4)
        .expect_stderr_contains("readable or writable by other users")
        .expect_stderr_contains("chmod 600");
    assert!(readable.stdout.is_empty(), "{readable}");
    std::fs::set_permissions(&private, std::os::unix::fs::PermissionsExt::from_mode(0o600)).expect("chmod");
    std::os::unix::fs::chown(&private, Some(65534), None).expect("chown to nobody (the tests run as root)");
    deploy_key(tmp.path(), &[], "{}\n").expect_code(4).expect_stderr_contains("belongs to another user");
}
