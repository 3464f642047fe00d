//! `cargo xtask install --dry-run` end to end, with no cluster: the DAG repository is a bare
//! repo behind a real sshd on 127.0.0.1 (its host keys pinned with --expect-fingerprint), the
//! chart is a local chart carrying the real values.yaml and values.schema.json of chart 1.15.0
//! and 1.20.0. Every step runs for real, through a real `git ls-remote` and real `helm template`.

use std::path::{Path, PathBuf};
use std::process::Command;

use airflow_kit_tests::bins::{Run, assert_no_secret, bin_dir, run_command, shared_dir, xtask_bin};
use airflow_kit_tests::sshd::Sshd;
use airflow_kit_tests::tools::{Tool, require_tool};

/// A local chart: the real values and schema of `version`, our own small templates.
fn local_chart(dir: &Path, version: &str) -> PathBuf {
    let chart = dir.join(format!("airflow-{version}"));
    std::fs::create_dir_all(chart.join("templates")).expect("chart dir");
    let real = shared_dir().join("airflow-chart").join(version);
    for file in ["values.yaml", "values.schema.json"] {
        std::fs::copy(real.join(file), chart.join(file)).expect("copy chart file");
    }
    // Our own Chart.yaml: the real one's dependencies (postgresql, redis) are not fetched here.
    let app_version = std::fs::read_to_string(real.join("Chart.yaml"))
        .expect("Chart.yaml")
        .lines()
        .find_map(|l| l.strip_prefix("appVersion:").map(|v| v.trim().to_string()))
        .expect("appVersion");
    std::fs::write(
        chart.join("Chart.yaml"),
        format!("apiVersion: v2\nname: airflow\nversion: {version}\nappVersion: {app_version}\n"),
    )
    .expect("Chart.yaml");
    std::fs::write(
        chart.join("templates/gitsync.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-gitsync\ndata:\n  repo: {{ .Values.dags.gitSync.repo | quote }}\n  ref: {{ .Values.dags.gitSync.ref | quote }}\n  knownHosts: {{ .Values.dags.gitSync.knownHosts | quote }}\n",
    )
    .expect("template");
    chart
}

fn install(dir: &Path, chart: &Path, server: &Sshd, helm: &Path) -> Run {
    run_command(install_command(dir, chart, server, helm, "dags"), None)
}

fn install_command(dir: &Path, chart: &Path, server: &Sshd, helm: &Path, sub_path: &str) -> Command {
    install_with(dir, chart, server, helm, sub_path, "state", "mine.yaml")
}

fn install_with(
    dir: &Path,
    chart: &Path,
    server: &Sshd,
    helm: &Path,
    sub_path: &str,
    state: &str,
    values: &str,
) -> Command {
    let mut command = Command::new(xtask_bin());
    command.current_dir(dir).args(["install", "--dry-run", "--bin-dir"]).arg(bin_dir());
    command.args(["--repo", &server.repo_url(), "--branch", "main", "--sub-path", sub_path, "--state-dir", state]);
    command.arg("--chart").arg(chart).arg("--helm").arg(helm);
    for fingerprint in server.host_fingerprints() {
        command.args(["--expect-fingerprint", &fingerprint]);
    }
    command.arg("-f").arg(values);
    command
}

/// The private key's lines: none may reach any output.
fn key_lines(state: &Path) -> Vec<String> {
    let key = std::fs::read_to_string(state.join("keys/airflow_deploy_key")).expect("private key");
    key.lines().filter(|l| !l.starts_with("-----")).map(str::to_string).collect()
}

#[test]
fn dry_run_install_is_proven_by_real_git_and_real_helm_and_writes_nothing() {
    let test = "dry_run_install_is_proven_by_real_git_and_real_helm_and_writes_nothing";
    let Some(helm) = require_tool(Tool::Helm3, test) else { return };
    let Some(server) = Sshd::start(test) else { return };
    for version in ["1.15.0", "1.20.0"] {
        let dir = tempfile::tempdir().expect("temp dir");
        let chart = local_chart(dir.path(), version);
        std::fs::write(dir.path().join("mine.yaml"), "# my own settings\nworkers:\n  replicas: 2\n").expect("write");
        // The 1.20.0 run happens inside a git work tree: the state directory must be ignored.
        let in_git = version == "1.20.0";
        if in_git {
            assert!(Command::new("git").arg("init").arg("-q").arg(dir.path()).status().expect("git").success());
        }

        // First run: the key is new, so the access check stops with the paste-the-key message.
        let first = install(dir.path(), &chart, &server, &helm);
        first.expect_code(1).expect_stderr_contains("not registered").expect_stderr_contains("ssh-ed25519 ");
        let state = dir.path().join("state");
        let public = std::fs::read_to_string(state.join("keys/airflow_deploy_key.pub")).expect("public key");
        assert!(first.stderr.contains(public.trim()), "the public key to paste is shown\n{first}");

        // Nothing is written before the run has proven the document (defect 5).
        assert!(!state.join("values.yaml").exists(), "the cumulative file was written before the access check passed");

        // The key added on the server: every step passes, through real git and real helm, and
        // the dry run still writes no cumulative file; it says what it would do instead.
        server.authorize(&public);
        let second = install(dir.path(), &chart, &server, &helm);
        second.expect_success();
        second.expect_stderr_contains(&format!("`main` is at {}", server.head_commit()));
        second
            .expect_stderr_contains("the DAG folder `dags` exists")
            .expect_stderr_contains("renders with the new values")
            .expect_stderr_contains("would create `state/values.yaml`")
            .expect_stderr_contains("would run:")
            .expect_stderr_contains("upgrade --install");
        assert!(!state.join("values.yaml").exists(), "--dry-run wrote the cumulative file\n{second}");
        let would_run = second.stderr.lines().find(|l| l.contains("would run:")).expect("would run");
        assert!(
            would_run.contains("-f state/values.yaml"),
            "the printed command names the cumulative file: {would_run}"
        );
        assert!(!would_run.contains("-o json") && !would_run.contains("helm-run-"), "{would_run}");
        let mode = |p: &Path| {
            std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(p).expect("meta").permissions()) & 0o777
        };
        assert_eq!(mode(&state), 0o700);
        let leftovers: Vec<_> =
            std::fs::read_dir(&state).expect("state").filter_map(|e| e.ok()).map(|e| e.file_name()).collect();
        assert!(
            leftovers.iter().all(|name| name == "keys" || name == "cache" || name == ".lock"),
            "the run left scratch files in the state directory: {leftovers:?}"
        );

        // A branch or DAG folder that is not there stops the run before helm, naming it.
        let wrong = run_command(install_command(dir.path(), &chart, &server, &helm, "nope"), None);
        wrong.expect_code(2).expect_stderr_contains("has no folder `nope`").expect_stderr_contains("dags");
        assert!(!wrong.stderr.contains("would run:"), "{wrong}");

        // The key removed from the server: the run stops at the access check, before Helm.
        server.deauthorize_all();
        let fourth = install(dir.path(), &chart, &server, &helm);
        fourth.expect_code(1).expect_stderr_contains("not registered");
        assert!(!fourth.stderr.contains("would run:"), "it must stop before helm\n{fourth}");

        assert_no_secret(&[&first, &second, &wrong, &fourth], &key_lines(&state));
        if in_git {
            let gitignore = std::fs::read_to_string(dir.path().join(".gitignore")).expect(".gitignore written");
            assert_eq!(gitignore.matches("/state/").count(), 1, "added once, not on every run: {gitignore}");
            let status =
                Command::new("git").arg("-C").arg(dir.path()).args(["status", "--porcelain"]).output().expect("git");
            let status = String::from_utf8_lossy(&status.stdout);
            assert!(!status.contains("state/"), "the state directory shows in git status:\n{status}");
        } else {
            first.expect_stderr_contains("is not inside a git work tree");
        }
    }
}

#[test]
fn missing_required_settings_are_named() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut command = Command::new(xtask_bin());
    command.current_dir(dir.path()).args(["install", "--dry-run", "--bin-dir"]).arg(bin_dir());
    let run = run_command(command, None);
    assert_ne!(run.code, 0, "{run}");
    assert!(run.stderr.contains("--repo"), "names the missing flag\n{run}");
}

/// The tools come from where cargo says it built them (its `compiler-artifact` messages), so
/// `CARGO_TARGET_DIR` or `--target-dir` never leaves the install running stale binaries from
/// `target/release` (defect 10). A stand-in cargo reports them in a directory of its own.
#[test]
fn the_tools_run_from_where_cargo_built_them() {
    let dir = tempfile::tempdir().expect("temp dir");
    let elsewhere = dir.path().join("elsewhere/debug");
    std::fs::create_dir_all(&elsewhere).expect("dir");
    let mut messages = String::new();
    for tool in ["values-merge", "secret-gen", "known-hosts", "helm-run", "pod-inspect"] {
        std::os::unix::fs::symlink(bin_dir().join(tool), elsewhere.join(tool)).expect("symlink");
        messages.push_str(&format!(
            "{{\"reason\":\"compiler-artifact\",\"executable\":\"{}\",\"fresh\":true}}\n",
            elsewhere.join(tool).display()
        ));
    }
    std::fs::write(dir.path().join("messages.json"), messages).expect("messages");
    let cargo = dir.path().join("cargo");
    std::fs::write(
        &cargo,
        format!(
            "#!/bin/sh\necho \"cargo $*\" >> {log}\necho '   Compiling values-merge (stand-in)' >&2\ncat {messages}\n",
            log = dir.path().join("cargo.log").display(),
            messages = dir.path().join("messages.json").display()
        ),
    )
    .expect("cargo");
    std::fs::set_permissions(&cargo, std::os::unix::fs::PermissionsExt::from_mode(0o755)).expect("chmod");
    let chart = local_chart(dir.path(), "1.20.0");

    let mut command = Command::new(xtask_bin());
    command.current_dir(dir.path()).args(["install", "--dry-run", "--yes", "--state-dir", "state"]);
    // A closed port on 127.0.0.1: the run goes as far as the access check, then stops.
    command.args(["--repo", "https://127.0.0.1:1/dags.git", "--branch", "main", "--sub-path", "dags"]);
    command.arg("--chart").arg(&chart).env("CARGO", &cargo);
    let run = run_command(command, None);
    run.expect_stderr_contains("==> build the tools").expect_stderr_contains("Compiling values-merge (stand-in)");
    run.expect_stderr_contains("[1/8] preflight").expect_stderr_contains("cannot read `https://127.0.0.1:1/dags.git`");
    let log = std::fs::read_to_string(dir.path().join("cargo.log")).expect("cargo ran");
    assert!(log.contains("build --message-format=json-render-diagnostics"), "{log}");
    for tool in ["values-merge", "secret-gen", "known-hosts", "helm-run", "pod-inspect"] {
        assert!(log.contains(&format!("-p {tool}")), "only the tools are built: {log}");
    }
}

/// Hostile state and values (issue 11): a state directory whose path holds shell syntax runs
/// nothing (and a space works); a state directory or key another user can change is refused
/// before anything is read from it; a later values layer cannot replace the verified
/// knownHosts with one that was not verified.
#[test]
fn hostile_state_and_values_are_refused_or_inert() {
    let test = "hostile_state_and_values_are_refused_or_inert";
    let Some(helm) = require_tool(Tool::Helm3, test) else { return };
    let Some(server) = Sshd::start(test) else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let chart = local_chart(dir.path(), "1.20.0");
    std::fs::write(dir.path().join("mine.yaml"), "workers:\n  replicas: 2\n").expect("values");
    let run = |state: &str, values: &str| {
        run_command(install_with(dir.path(), &chart, &server, &helm, "dags", state, values), None)
    };

    // Shell syntax in the state directory's path reaches no shell (GIT_SSH_COMMAND quotes it).
    let odd = format!("my state $(touch {})", dir.path().join("pwned").display());
    let first = run(&odd, "mine.yaml");
    first.expect_code(1).expect_stderr_contains("not registered");
    let public = std::fs::read_to_string(dir.path().join(&odd).join("keys/airflow_deploy_key.pub")).expect("key");
    server.authorize(&public);
    run(&odd, "mine.yaml").expect_success().expect_stderr_contains("reachable as git-sync will reach it");
    assert!(!dir.path().join("pwned").exists(), "a command in the state directory's name ran");

    // A values layer that swaps the pinned knownHosts for an unverified key stops the run
    // before the access check.
    let other = "[127.0.0.1]:1 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGiPXMHbGFUWz2TUPn5af5CpsvTmPKw7aYjDyHczyC6R\n";
    std::fs::write(dir.path().join("swap.yaml"), format!("dags:\n  gitSync:\n    knownHosts: |\n      {other}"))
        .expect("swap");
    let swapped = run(&odd, "swap.yaml");
    assert_ne!(swapped.code, 0, "{swapped}");
    swapped.expect_stderr_contains("other-host").expect_stderr_contains("`known-hosts verify` failed");
    assert!(
        !swapped.stderr.contains("reachable as git-sync"),
        "the access check ran with unverified host keys\n{swapped}"
    );

    // Another user could change the state directory: refused, exit 4, before anything runs.
    let state = dir.path().join(&odd);
    std::fs::set_permissions(&state, std::os::unix::fs::PermissionsExt::from_mode(0o777)).expect("chmod");
    let open = run(&odd, "mine.yaml");
    open.expect_code(4).expect_stderr_contains("writable by other users").expect_stderr_contains("chmod 700");
    std::fs::set_permissions(&state, std::os::unix::fs::PermissionsExt::from_mode(0o700)).expect("chmod");

    // A deploy key that belongs to someone else (planted) is not reused.
    let key = state.join("keys/airflow_deploy_key");
    std::os::unix::fs::chown(&key, Some(65534), None).expect("chown to nobody (the tests run as root)");
    let planted = run(&odd, "mine.yaml");
    planted.expect_code(4).expect_stderr_contains("belongs to another user");
    assert!(!planted.stderr.contains("[2/9]"), "it read on after the refusal\n{planted}");
}
