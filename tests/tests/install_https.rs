//! `cargo xtask install --dry-run` with the procedure's first way to get DAGs, a public
//! repository over HTTPS, and a private one with a token, both served by a real
//! `git http-backend` on 127.0.0.1 (plain HTTP here): no deploy key, no knownHosts, an
//! anonymous or token-authenticated `git ls-remote` as the access check, and the token never
//! in argv, output or the values. Also the install's own errors: exit codes from core's table,
//! no backtrace, and a repository chart rendered on a fresh machine without `helm repo add`.

use std::path::{Path, PathBuf};
use std::process::Command;

use airflow_kit_tests::bins::{Run, bin_dir, run_command, shared_dir, xtask_bin};
use airflow_kit_tests::git_http::GitHttp;
use airflow_kit_tests::git_repo::DagRepo;
use airflow_kit_tests::tools::{Tool, require_tool};

const USER: &str = "x-access-token";
const TOKEN: &str = "ghp_installtest0123456789TOKEN";

/// A local chart with the real 1.20.0 values and schema and one template showing git-sync's
/// settings, so the render proves what reaches the chart.
fn local_chart(dir: &Path) -> PathBuf {
    let chart = dir.join("airflow");
    std::fs::create_dir_all(chart.join("templates")).expect("chart dir");
    let real = shared_dir().join("airflow-chart/1.20.0");
    for file in ["values.yaml", "values.schema.json"] {
        std::fs::copy(real.join(file), chart.join(file)).expect("copy chart file");
    }
    std::fs::write(chart.join("Chart.yaml"), "apiVersion: v2\nname: airflow\nversion: 1.20.0\nappVersion: 3.1.8\n")
        .expect("Chart.yaml");
    std::fs::write(
        chart.join("templates/gitsync.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: gitsync\ndata:\n  repo: {{ .Values.dags.gitSync.repo | quote }}\n  credentials: {{ .Values.dags.gitSync.credentialsSecret | quote }}\n",
    )
    .expect("template");
    chart
}

fn install(dir: &Path, helm: &Path, url: &str, extra: &[&str]) -> Run {
    let mut command = Command::new(xtask_bin());
    command.current_dir(dir).args(["install", "--dry-run", "--yes", "--bin-dir"]).arg(bin_dir());
    command.args(["--repo", url, "--branch", "main", "--sub-path", "dags", "--state-dir", "state"]);
    command.arg("--chart").arg(local_chart(dir)).arg("--helm").arg(helm);
    command.args(extra);
    run_command(command, None)
}

#[test]
fn a_public_https_repository_installs_with_no_key_and_no_known_hosts() {
    let test = "a_public_https_repository_installs_with_no_key_and_no_known_hosts";
    let (Some(git), Some(helm)) = (require_tool(Tool::Git, test), require_tool(Tool::Helm3, test)) else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let repo = DagRepo::create(&git, &dir.path().join("served/dags.git"));
    let Some(server) = GitHttp::start(&repo.path, None) else { return };

    let run = install(dir.path(), &helm, &server.url(), &[]);
    run.expect_success()
        .expect_stderr_contains("a public HTTPS repository: no deploy key, no knownHosts")
        .expect_stderr_contains(&format!("`main` is at {}", repo.head("main")))
        .expect_stderr_contains("the DAG folder `dags` exists")
        .expect_stderr_contains("would run:");
    assert!(!run.stderr.contains("known-hosts: ") || run.stderr.contains("no knownHosts"), "{run}");
    assert!(!dir.path().join("state/keys").exists(), "a deploy key was made for a public repository");
    assert!(server.requests().iter().all(|line| line.contains("auth=public")), "{:?}", server.requests());

    // A folder the branch does not have is named before anything is rendered.
    let wrong = {
        let mut command = Command::new(xtask_bin());
        command.current_dir(dir.path()).args(["install", "--dry-run", "--yes", "--bin-dir"]).arg(bin_dir());
        command.args(["--repo", &server.url(), "--branch", "main", "--sub-path", "nope", "--state-dir", "state"]);
        command.arg("--chart").arg(dir.path().join("airflow")).arg("--helm").arg(&helm);
        run_command(command, None)
    };
    wrong.expect_code(2).expect_stderr_contains("has no folder `nope`");
}

#[test]
fn a_private_https_repository_takes_a_token_from_a_file_and_refuses_a_wrong_one() {
    let test = "a_private_https_repository_takes_a_token_from_a_file_and_refuses_a_wrong_one";
    let (Some(git), Some(helm)) = (require_tool(Tool::Git, test), require_tool(Tool::Helm3, test)) else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let repo = DagRepo::create(&git, &dir.path().join("served/dags.git"));
    let Some(server) = GitHttp::start(&repo.path, Some((USER, TOKEN))) else { return };
    let token_file = dir.path().join("token");
    let write_token = |token: &str, mode: u32| {
        std::fs::write(&token_file, format!("{token}\n")).expect("token");
        std::fs::set_permissions(&token_file, std::os::unix::fs::PermissionsExt::from_mode(mode)).expect("chmod");
    };
    let flags = ["--token-file", "token", "--git-user", USER];

    // No token: the repository asks for credentials.
    let anonymous = install(dir.path(), &helm, &server.url(), &[]);
    anonymous.expect_code(1).expect_stderr_contains("needs credentials").expect_stderr_contains("--token-file");

    // A token others can read is refused before it is used.
    write_token(TOKEN, 0o644);
    install(dir.path(), &helm, &server.url(), &flags).expect_code(4).expect_stderr_contains("chmod 600");

    // A wrong token: git's own refusal, and nothing rendered.
    write_token("ghp_wrong", 0o600);
    let wrong = install(dir.path(), &helm, &server.url(), &flags);
    wrong.expect_code(1).expect_stderr_contains("Authentication failed");
    assert!(!wrong.stderr.contains("would run:"), "{wrong}");

    // The right one: through, with the token in a Secret of its own, never in the values.
    write_token(TOKEN, 0o600);
    let right = install(dir.path(), &helm, &server.url(), &flags);
    right
        .expect_success()
        .expect_stderr_contains(&format!("`main` is at {}", repo.head("main")))
        .expect_stderr_contains("airflow-git-credentials");
    assert!(server.requests().iter().any(|line| line.contains("auth=accepted")), "{:?}", server.requests());
    for run in [&anonymous, &wrong, &right] {
        assert!(!format!("{run}").contains(TOKEN), "the token showed\n{run}");
    }
    let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("state"))
        .expect("state")
        .filter_map(|entry| entry.ok().map(|e| e.file_name()))
        .filter(|name| name != ".lock")
        .collect();
    assert!(leftovers.is_empty(), "the run left files in the state directory (a credentials file?): {leftovers:?}");
    let lock = std::fs::read(dir.path().join("state/.lock")).expect("the state lock");
    assert!(lock.is_empty(), "the lock names no holder once the runs are over");
}

/// The install's own errors: core's exit codes (2 for bad input), a hint, and never a Rust
/// backtrace, even with RUST_BACKTRACE set (defect 8).
#[test]
fn install_errors_use_the_exit_code_table_and_print_no_backtrace() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("airflow-kit.yaml"), "namspace: data\n").expect("config");
    for (args, expected) in [
        (&["--config", "airflow-kit.yaml"][..], "unknown setting `namspace`"),
        (
            &["--repo", "git@github.com:me/d.git", "--branch", "main", "--sub-path", "d", "--timeout", "90"][..],
            "`90` is not a duration",
        ),
        (
            &[
                "--repo",
                "git@github.com:me/d.git",
                "--branch",
                "main",
                "--sub-path",
                "d",
                "--expose",
                "nodeport",
                "--node-port",
                "80",
            ][..],
            "30000-32767",
        ),
        (&["--repo", "not a url", "--branch", "main", "--sub-path", "d"][..], "not a url"),
    ] {
        let mut command = Command::new(xtask_bin());
        command.current_dir(dir.path()).args(["install", "--dry-run", "--yes", "--bin-dir"]).arg(bin_dir()).args(args);
        command.env("RUST_BACKTRACE", "1");
        let run = run_command(command, None);
        run.expect_code(2).expect_stderr_contains(expected).expect_stderr_contains("hint: ");
        assert!(!run.stderr.contains("backtrace") && !run.stderr.contains("panicked"), "{run}");
        assert!(!dir.path().join(".airflow-kit").exists(), "a refused setting created the state directory\n{run}");
    }
}

/// A repository chart on a fresh machine (empty helm homes, no `helm repo add`): the install
/// adds the repository, pulls the pinned chart once and renders it with real helm (defect 1).
#[test]
fn a_repository_chart_renders_on_a_fresh_machine() {
    use airflow_kit_tests::http::{HttpServer, Response};
    let test = "a_repository_chart_renders_on_a_fresh_machine";
    let (Some(git), Some(helm)) = (require_tool(Tool::Git, test), require_tool(Tool::Helm3, test)) else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let home = dir.path().join("helm-home");
    let served = dir.path().join("served-charts");
    std::fs::create_dir_all(&served).expect("served");
    let chart = local_chart(dir.path());
    let helm_at_home = |args: &[&str]| {
        let status = airflow_kit_tests::helm::helm_command(&helm, &home).args(args).status().expect("helm");
        assert!(status.success(), "helm {args:?}");
    };
    helm_at_home(&["package", chart.to_str().expect("utf-8"), "-d", served.to_str().expect("utf-8")]);
    std::fs::remove_dir_all(&chart).expect("the chart is only in the repository now");
    let root = served.clone();
    let charts =
        HttpServer::start(Box::new(move |_, path| match std::fs::read(root.join(path.trim_start_matches('/'))) {
            Ok(body) => Response::Ok { content_type: "application/octet-stream", body },
            Err(_) => Response::NotFound,
        }));
    let url = format!("http://127.0.0.1:{}", charts.port);
    helm_at_home(&["repo", "index", served.to_str().expect("utf-8"), "--url", &url]);
    // A fresh machine: new, empty helm homes.
    let fresh = dir.path().join("fresh-home");
    let repo = DagRepo::create(&git, &dir.path().join("dags.git"));
    let Some(server) = GitHttp::start(&repo.path, None) else { return };

    let mut command = Command::new(xtask_bin());
    command.current_dir(dir.path()).args(["install", "--dry-run", "--yes", "--bin-dir"]).arg(bin_dir());
    command.args(["--repo", &server.url(), "--branch", "main", "--sub-path", "dags", "--state-dir", "state"]);
    command.args(["--chart-repo-url", &url, "--chart-version", "1.20.0"]).arg("--helm").arg(&helm);
    command
        .env("HELM_CONFIG_HOME", fresh.join("config"))
        .env("HELM_CACHE_HOME", fresh.join("cache"))
        .env("HELM_DATA_HOME", fresh.join("data"));
    let run = run_command(command, None);
    run.expect_success().expect_stderr_contains("renders with the new values").expect_stderr_contains("would run:");
    assert!(dir.path().join("state/cache/airflow-1.20.0/airflow/Chart.yaml").exists(), "pulled into the cache\n{run}");
}
