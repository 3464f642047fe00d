//! The whole install, not a dry run: every step through to `pod-inspect dags`. No Kubernetes
//! API can run here, so helm and kubectl are the stand-ins of the helm-run and pod-inspect
//! tests (replaying the real programs' formats); the DAG repository, its host key and the
//! deploy key are real (sshd, git), and the commit git-sync reports must equal its head.

use std::path::{Path, PathBuf};
use std::process::Command;

use airflow_kit_tests::bins::{
    Run, assert_no_secret, bin_dir, files_under, run_command, shared_dir, workspace_root, xtask_bin,
};
use airflow_kit_tests::sshd::Sshd;
use airflow_kit_tests::tools::{Tool, require_tool};

/// A kubectl that knows `get storageclass` and `apply`, and hands everything else to
/// pod-inspect's stand-in with the healthy Airflow 3 fixtures.
fn stand_in_kubectl(dir: &Path) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).expect("bin dir");
    let pod_inspect = workspace_root().join("tests/fixtures/pod-inspect/stand-in-kubectl.sh");
    let script = format!(
        r#"#!/usr/bin/env bash
printf 'kubectl %s\n' "$*" >> "$INSTALL_LOG"
for arg in "$@"; do
  case "$arg" in
    storageclass) printf '%s\n' '{{"apiVersion": "v1", "items": [{{"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {{"annotations": {{"storageclass.kubernetes.io/is-default-class": "true"}}, "name": "microk8s-hostpath"}}, "provisioner": "microk8s.io/hostpath"}}], "kind": "List", "metadata": {{"resourceVersion": ""}}}}'; exit 0 ;;
    apply) cat >/dev/null; echo "applied"; exit 0 ;;
  esac
done
exec {} "$@"
"#,
        pod_inspect.display()
    );
    let path = bin.join("kubectl");
    std::fs::write(&path, script).expect("kubectl");
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o755)).expect("chmod");
    bin
}

/// The healthy Airflow 3 fixtures, with git-sync's link pointing at `commit`.
fn fixtures(dir: &Path, commit: &str) -> PathBuf {
    let set = dir.join("cluster");
    let source = workspace_root().join("tests/fixtures/pod-inspect/healthy-af3");
    let status = Command::new("cp").arg("-r").arg(&source).arg(&set).status().expect("cp");
    assert!(status.success());
    std::fs::write(set.join("exec/airflow-worker-0.worker.readlink"), format!(".worktrees/{commit}\n")).expect("link");
    set
}

fn local_chart(dir: &Path) -> PathBuf {
    let chart = dir.join("airflow");
    std::fs::create_dir_all(chart.join("templates")).expect("chart");
    let real = shared_dir().join("airflow-chart/1.20.0");
    for file in ["values.yaml", "values.schema.json"] {
        std::fs::copy(real.join(file), chart.join(file)).expect("copy");
    }
    std::fs::write(chart.join("Chart.yaml"), "apiVersion: v2\nname: airflow\nversion: 1.20.0\nappVersion: 3.1.8\n")
        .expect("write");
    std::fs::write(chart.join("templates/cm.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n")
        .expect("write");
    chart
}

fn install(dir: &Path, server: &Sshd, commit: &str) -> Run {
    run_command(install_command(dir, server, commit, &[]), None)
}

/// The install with `extra` flags; the stand-in helm unless `--microk8s` is among them.
fn install_command(dir: &Path, server: &Sshd, commit: &str, extra: &[&str]) -> Command {
    let bin = stand_in_kubectl(dir);
    let set = if dir.join("cluster").exists() { dir.join("cluster") } else { fixtures(dir, commit) };
    let helm = workspace_root().join("tests/fixtures/helm-run/bin/helm");
    let mut command = Command::new(xtask_bin());
    command.current_dir(dir).args(["install", "--yes", "--bin-dir"]).arg(bin_dir());
    command.args(["--repo", &server.repo_url(), "--branch", "main", "--sub-path", "dags", "--state-dir", "state"]);
    command.arg("--chart").arg(local_chart(dir));
    if !extra.contains(&"--microk8s") {
        command.arg("--helm").arg(helm);
    }
    command.args(extra);
    for fingerprint in server.host_fingerprints() {
        command.args(["--expect-fingerprint", &fingerprint]);
    }
    command
        .env("PATH", format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default()))
        .env("INSTALL_LOG", dir.join("argv.log"))
        .env("STANDIN_LOG", dir.join("argv.log"))
        .env("KUBECTL_ARGV_LOG", dir.join("kubectl.log"))
        .env("POD_INSPECT_FIXTURES", set);
    command
}

#[test]
fn install_runs_every_step_and_checks_the_synced_commit() {
    let Some(server) = Sshd::start("install_runs_every_step_and_checks_the_synced_commit") else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let head = server.head_commit();

    let first = install(dir.path(), &server, &head);
    first.expect_code(1).expect_stderr_contains("not registered");
    let argv = std::fs::read_to_string(dir.path().join("argv.log")).unwrap_or_default();
    assert!(!argv.contains("upgrade"), "no helm upgrade before the repository is reachable:\n{argv}");

    let public = std::fs::read_to_string(dir.path().join("state/keys/airflow_deploy_key.pub")).expect("public key");
    server.authorize(&public);
    let second = install(dir.path(), &server, &head);
    second.expect_success();
    second.expect_stderr_contains("[9/10] helm upgrade").expect_stderr_contains("[10/10] wait for the pods");
    second.expect_stderr_contains(&format!("`main` is at {head}"));
    second.expect_stderr_contains("git-sync has the same commit");
    let argv = std::fs::read_to_string(dir.path().join("argv.log")).expect("argv log");
    assert!(argv.contains("get storageclass -o json"), "the StorageClass preflight ran:\n{argv}");
    let upgrade = argv.lines().find(|l| l.contains(" upgrade --install ")).expect("helm upgrade ran");
    assert!(!upgrade.contains("--reuse-values") && !upgrade.contains("--wait"), "{upgrade}");
    assert!(argv.contains("mode 600"), "helm got the values in a 0600 file:\n{argv}");

    // Again: nothing in the state directory changes, byte for byte (same secrets, same key,
    // same values), and no secret reaches any output.
    let state = dir.path().join("state");
    let before = files_under(&state);
    let third = install(dir.path(), &server, &head);
    third.expect_success().expect_stderr_contains("leave `state/values.yaml` unchanged");
    assert_eq!(files_under(&state), before, "a second run changed the state directory");
    assert_no_secret(&[&first, &second, &third], &secrets_of(&state));

    // The dry run's printed command works as printed once the file is written: real helm
    // parses it (as `template`, which needs no cluster) and reads the cumulative file it names.
    let dry = run_command(install_command(dir.path(), &server, &head, &["--dry-run"]), None);
    dry.expect_success().expect_stderr_contains("would leave `state/values.yaml` unchanged");
    let line =
        dry.stderr.lines().find_map(|l| l.split_once("would run: ").map(|(_, c)| c.to_string())).expect("would run");
    assert!(!line.contains("-o json"), "{line}");
    if let Some(real_helm) = require_tool(Tool::Helm3, "install_runs_every_step_and_checks_the_synced_commit") {
        let words: Vec<&str> = line.split_whitespace().collect();
        let at = words.iter().position(|w| *w == "upgrade").expect("upgrade");
        let template: Vec<&str> = words[at + 2..].iter().copied().filter(|w| *w != "--create-namespace").collect();
        let rendered =
            Command::new(&real_helm).current_dir(dir.path()).arg("template").args(&template).output().expect("helm");
        assert!(
            rendered.status.success(),
            "the printed command does not work: {line}\n{}",
            String::from_utf8_lossy(&rendered.stderr)
        );
    }
}

/// The UI exposure is the install's own: NodePort sets the service keys, and switching back
/// to port-forward removes them again (and lets the upgrade drop them), so the summary and
/// the deployed service agree (defect 4).
#[test]
fn exposure_is_set_and_removed_both_ways() {
    let Some(server) = Sshd::start("exposure_is_set_and_removed_both_ways") else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let head = server.head_commit();
    install(dir.path(), &server, &head).expect_code(1);
    server.authorize(&std::fs::read_to_string(dir.path().join("state/keys/airflow_deploy_key.pub")).expect("key"));
    let values = || std::fs::read_to_string(dir.path().join("state/values.yaml")).expect("values");

    let low =
        run_command(install_command(dir.path(), &server, &head, &["--expose", "nodeport", "--node-port", "80"]), None);
    low.expect_code(2).expect_stderr_contains("30000-32767");
    assert!(!dir.path().join("state/values.yaml").exists(), "a refused setting wrote the cumulative file");

    let nodeport = run_command(
        install_command(dir.path(), &server, &head, &["--expose", "nodeport", "--node-port", "30080"]),
        None,
    );
    nodeport.expect_success().expect_stderr_contains("http://<node-ip>:30080");
    let text = values();
    assert!(text.contains("type: NodePort") && text.contains("nodePort: 30080"), "{text}");

    let back = run_command(install_command(dir.path(), &server, &head, &["--expose", "port-forward"]), None);
    back.expect_success().expect_stderr_contains("port-forward on 127.0.0.1:8080");
    let text = values();
    assert!(!text.contains("NodePort") && !text.contains("nodePort"), "port-forward left the NodePort keys:\n{text}");
    let argv = std::fs::read_to_string(dir.path().join("argv.log")).expect("argv log");
    let upgrades = argv.lines().filter(|l| l.starts_with("argv: upgrade --install ")).count();
    assert_eq!(upgrades, 2, "both switches upgraded:\n{argv}");
}

/// `--microk8s` reaches every tool: with `helm` and `kubectl` also on PATH, every helm and
/// kubectl call goes through `microk8s helm3` / `microk8s kubectl` (defect 2).
#[test]
fn microk8s_reaches_every_tool() {
    let Some(server) = Sshd::start("microk8s_reaches_every_tool") else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let head = server.head_commit();
    let bin = stand_in_kubectl(dir.path());
    let helm = workspace_root().join("tests/fixtures/helm-run/bin/helm");
    let microk8s = format!(
        "#!/usr/bin/env bash\nprintf 'microk8s %s\\n' \"$*\" >> \"$INSTALL_LOG\"\ncase \"$1\" in\n  status) printf 'microk8s is running\\naddons:\\n  enabled:\\n    dns\\n    hostpath-storage\\n  disabled:\\n    ingress\\n' ;;\n  kubectl) shift; exec {} \"$@\" ;;\n  helm3) shift; STANDIN_VIA_MICROK8S=1 exec {} \"$@\" ;;\n  *) exit 1 ;;\nesac\n",
        bin.join("kubectl").display(),
        helm.display()
    );
    std::fs::write(bin.join("microk8s"), microk8s).expect("microk8s");
    std::fs::set_permissions(bin.join("microk8s"), std::os::unix::fs::PermissionsExt::from_mode(0o755)).expect("chmod");
    // A helm on PATH that must never be called.
    std::fs::write(bin.join("helm"), "#!/bin/sh\necho \"direct helm $*\" >> \"$INSTALL_LOG\"\nexit 1\n").expect("helm");
    std::fs::set_permissions(bin.join("helm"), std::os::unix::fs::PermissionsExt::from_mode(0o755)).expect("chmod");

    install(dir.path(), &server, &head).expect_code(1);
    server.authorize(&std::fs::read_to_string(dir.path().join("state/keys/airflow_deploy_key.pub")).expect("key"));
    std::fs::write(dir.path().join("argv.log"), "").expect("reset log");
    let run = run_command(install_command(dir.path(), &server, &head, &["--microk8s"]), None);
    run.expect_success();
    let log = std::fs::read_to_string(dir.path().join("argv.log")).expect("log");
    assert!(log.contains("microk8s status"), "the addons were checked:\n{log}");
    assert!(log.contains("microk8s helm3 upgrade"), "helm went through microk8s:\n{log}");
    assert!(log.contains("microk8s kubectl"), "kubectl went through microk8s:\n{log}");
    for line in log.lines() {
        assert!(!line.starts_with("direct"), "a tool called helm directly despite --microk8s: {line}\n{log}");
    }
    let kubectl_calls = log.lines().filter(|l| l.starts_with("kubectl ")).count();
    let via_microk8s = log.lines().filter(|l| l.starts_with("microk8s kubectl")).count();
    assert_eq!(kubectl_calls, via_microk8s, "every kubectl call came through microk8s:\n{log}");
}

#[test]
fn install_fails_when_git_sync_has_another_commit() {
    let Some(server) = Sshd::start("install_fails_when_git_sync_has_another_commit") else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let stale = "3f786850e387550fdab836ed7e6dc881de23001b";
    let first = install(dir.path(), &server, stale);
    first.expect_code(1);
    server
        .authorize(&std::fs::read_to_string(dir.path().join("state/keys/airflow_deploy_key.pub")).expect("public key"));
    let run = install(dir.path(), &server, stale);
    run.expect_code(1)
        .expect_stderr_contains(&format!("git-sync has commit {stale}"))
        .expect_stderr_contains("pod-inspect diagnose");
}

/// A chart from a repository (served on 127.0.0.1 by the real `helm package`/`repo index`):
/// the install pulls it once into the state directory's cache and checks the values against
/// its real schema before anything else, so a schema error stops the run before helm upgrade.
#[test]
fn install_checks_the_schema_of_the_pulled_chart_before_helm() {
    use airflow_kit_tests::http::{HttpServer, Response};
    let test = "install_checks_the_schema_of_the_pulled_chart_before_helm";
    let Some(real_helm) = require_tool(Tool::Helm3, test) else { return };
    let Some(server) = Sshd::start(test) else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let home = dir.path().join("helm-home");

    // The chart repository: the real chart's values and schema, packaged and indexed.
    let served = dir.path().join("served");
    std::fs::create_dir_all(&served).expect("served");
    let chart = local_chart(dir.path());
    let helm = |args: &[&str]| {
        let status = airflow_kit_tests::helm::helm_command(&real_helm, &home).args(args).status().expect("helm");
        assert!(status.success(), "helm {args:?}");
    };
    helm(&["package", chart.to_str().expect("utf-8"), "-d", served.to_str().expect("utf-8")]);
    let repo =
        HttpServer::start(Box::new(move |_, path| match std::fs::read(served.join(path.trim_start_matches('/'))) {
            Ok(body) => Response::Ok { content_type: "application/octet-stream", body },
            Err(_) => Response::NotFound,
        }));
    let url = format!("http://127.0.0.1:{}", repo.port);
    helm(&["repo", "index", dir.path().join("served").to_str().expect("utf-8"), "--url", &url]);
    std::fs::remove_dir_all(&chart).expect("the chart is only in the repository now");

    // helm: the real one for the repository and the pull, the stand-in for the cluster.
    let stand_in = workspace_root().join("tests/fixtures/helm-run/bin/helm");
    let wrapper = dir.path().join("helm");
    std::fs::write(
        &wrapper,
        format!(
            "#!/usr/bin/env bash\ncase \"$1\" in repo|pull) exec {} \"$@\" ;; *) exec {} \"$@\" ;; esac\n",
            real_helm.display(),
            stand_in.display()
        ),
    )
    .expect("wrapper");
    std::fs::set_permissions(&wrapper, std::os::unix::fs::PermissionsExt::from_mode(0o755)).expect("chmod");

    let bin = stand_in_kubectl(dir.path());
    let set = fixtures(dir.path(), &server.head_commit());
    let run = |values: &str| {
        std::fs::write(dir.path().join("mine.yaml"), values).expect("values");
        let mut command = Command::new(xtask_bin());
        command.current_dir(dir.path()).args(["install", "--yes", "--bin-dir"]).arg(bin_dir());
        command.args(["--repo", &server.repo_url(), "--branch", "main", "--sub-path", "dags", "--state-dir", "state"]);
        command.args(["--chart-repo-url", &url, "--chart-version", "1.20.0", "-f", "mine.yaml"]);
        command.arg("--helm").arg(&wrapper);
        for fingerprint in server.host_fingerprints() {
            command.args(["--expect-fingerprint", &fingerprint]);
        }
        command
            .env("PATH", format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default()))
            .env("HELM_CONFIG_HOME", home.join("config"))
            .env("HELM_CACHE_HOME", home.join("cache"))
            .env("HELM_DATA_HOME", home.join("data"))
            .env("INSTALL_LOG", dir.path().join("argv.log"))
            .env("STANDIN_LOG", dir.path().join("argv.log"))
            .env("KUBECTL_ARGV_LOG", dir.path().join("kubectl.log"))
            .env("POD_INSPECT_FIXTURES", &set);
        run_command(command, None)
    };

    let refused = run("dags:\n  gitsync:\n    enabled: true\n");
    refused.expect_code(2).expect_stderr_contains("/dags/gitsync").expect_stderr_contains("did you mean `gitSync`?");
    assert!(dir.path().join("state/cache/airflow-1.20.0/airflow/values.schema.json").exists(), "the chart was pulled");
    let argv = std::fs::read_to_string(dir.path().join("argv.log")).unwrap_or_default();
    assert!(!argv.contains("upgrade"), "a schema error must stop the run before helm upgrade:\n{argv}");
    let state = std::fs::read_to_string(dir.path().join("state/values.yaml")).unwrap_or_default();
    assert!(!state.contains("gitsync"), "refused values must not reach the cumulative file:\n{state}");

    // Fixed values pass the schema; the access check then asks for the new deploy key.
    let fixed = run("dags:\n  gitSync:\n    enabled: true\n");
    fixed.expect_code(1).expect_stderr_contains("not registered");
    assert!(!fixed.stderr.contains("skipped schema check"), "the cached chart's schema was used\n{fixed}");
}

/// The secret values in the cumulative file, plus the private key: none may reach any output.
fn secrets_of(state: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(state.join("values.yaml")).expect("state values");
    let values = airflow_kit_core::yaml::parse_document(&text, "values").expect("parses").to_json();
    let mut found = Vec::new();
    for pointer in [
        "/fernetKey",
        "/webserverSecretKey",
        "/apiSecretKey",
        "/jwtSecret",
        "/redis/password",
        "/postgresql/auth/postgresPassword",
        "/data/metadataConnection/pass",
        "/webserver/defaultUser/password",
        "/createUserJob/defaultUser/password",
        "/extraSecrets/airflow-ssh-secret/data",
    ] {
        if let Some(value) = values.pointer(pointer).and_then(|v| v.as_str()) {
            // The Secret data holds `gitSshKey: '<base64>'`: check the base64 itself.
            let secret = value.split('\'').nth(1).unwrap_or(value).trim().to_string();
            if secret.len() >= 8 {
                found.push(secret);
            }
        }
    }
    let key = std::fs::read_to_string(state.join("keys/airflow_deploy_key")).expect("private key");
    found.extend(key.lines().filter(|l| !l.starts_with("-----")).map(str::to_string));
    assert!(found.len() >= 5, "expected the secrets to be pinned, found {}", found.len());
    found
}

/// SIGTERM (or Ctrl-C) in the middle of the upgrade: it reaches helm through helm-run, the run
/// stops with the shell's status for the signal, and no scratch file (the deploy key's Secret
/// manifest with `--key-as manifest`, the known_hosts of the check) is left behind.
#[test]
fn an_interrupted_install_leaves_no_secret_behind() {
    use std::time::{Duration, Instant};
    let Some(server) = Sshd::start("an_interrupted_install_leaves_no_secret_behind") else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let head = server.head_commit();
    install(dir.path(), &server, &head).expect_code(1);
    server.authorize(&std::fs::read_to_string(dir.path().join("state/keys/airflow_deploy_key.pub")).expect("key"));

    let mut command = install_command(dir.path(), &server, &head, &["--key-as", "manifest"]);
    command
        .env("STANDIN_UPGRADE_SLEEP", "60")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let child = command.spawn().expect("install starts");
    let log = dir.path().join("argv.log");
    let deadline = Instant::now() + Duration::from_secs(120);
    while !std::fs::read_to_string(&log).unwrap_or_default().contains("upgrade: started") {
        assert!(Instant::now() < deadline, "the upgrade never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    let scratch = |state: &Path| -> Vec<String> {
        std::fs::read_dir(state)
            .expect("state")
            .filter_map(|entry| entry.ok())
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            .filter(|name| name.starts_with(".run-") || name.starts_with(".tmp"))
            .collect()
    };
    assert_eq!(scratch(&dir.path().join("state")).len(), 1, "the run's private directory exists while it runs");
    // A second run on the same state directory meanwhile is refused, naming the first.
    let second = run_command(install_command(dir.path(), &server, &head, &[]), None);
    second
        .expect_code(4)
        .expect_stderr_contains("is locked by process")
        .expect_stderr_contains(&child.id().to_string());
    let started = Instant::now();
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill");
    assert!(status.success());
    let output = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(143), "the shell's status for SIGTERM\n{stderr}");
    assert!(started.elapsed() < Duration::from_secs(20), "the run waited for the upgrade instead of stopping it");
    assert!(std::fs::read_to_string(&log).expect("log").contains("signal: TERM"), "helm never got the signal");
    assert!(scratch(&dir.path().join("state")).is_empty(), "scratch files survived the signal");
    assert!(stderr.contains("interrupted by SIGTERM"), "{stderr}");
}

/// SIGKILL cannot be caught: the killed run's private directory stays, and the next run (which
/// holds the state lock, so nobody else's files are in question) removes it.
#[test]
fn the_next_run_sweeps_what_a_killed_run_left() {
    use std::time::{Duration, Instant};
    let Some(server) = Sshd::start("the_next_run_sweeps_what_a_killed_run_left") else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let head = server.head_commit();
    install(dir.path(), &server, &head).expect_code(1);
    server.authorize(&std::fs::read_to_string(dir.path().join("state/keys/airflow_deploy_key.pub")).expect("key"));
    let mut command = install_command(dir.path(), &server, &head, &["--key-as", "manifest"]);
    command.env("STANDIN_UPGRADE_SLEEP", "60").stdin(std::process::Stdio::null());
    command.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null());
    let mut child = command.spawn().expect("install starts");
    let log = dir.path().join("argv.log");
    let deadline = Instant::now() + Duration::from_secs(120);
    while !std::fs::read_to_string(&log).unwrap_or_default().contains("upgrade: started") {
        assert!(Instant::now() < deadline, "the upgrade never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");
    let left = |state: &Path| {
        std::fs::read_dir(state)
            .expect("state")
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().starts_with(".run-"))
            .count()
    };
    assert_eq!(left(&dir.path().join("state")), 1, "SIGKILL leaves the private directory");
    let next = install(dir.path(), &server, &head);
    next.expect_success().expect_stderr_contains("left by an earlier run that was killed");
    assert_eq!(left(&dir.path().join("state")), 0, "the next run swept it");
}
