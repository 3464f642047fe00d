//! The harness's Git server over HTTP, judged by real git: a public repository clones with no
//! credentials; a private one refuses anonymous and wrong credentials with git's own errors
//! and the 401 challenge GitHub gives, and serves the right token given through a credential
//! helper or `http.extraHeader` (never argv). Tests of HTTPS DAG repositories build on it.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;

use airflow_kit_tests::Run;
use airflow_kit_tests::git_http::{Credentials, GitHttp, basic, clone, git_over_http};
use airflow_kit_tests::git_repo::{DagRepo, FIRST_DAG};
use airflow_kit_tests::tools::{Tool, require_tool};

const USER: &str = "x-access-token";
const TOKEN: &str = "ghp_test0123456789abcdefTOKEN";

/// A DAG repository in a fresh temp directory, and git.
fn repository(test: &str) -> Option<(tempfile::TempDir, PathBuf, DagRepo)> {
    let git = require_tool(Tool::Git, test)?;
    let dir = tempfile::tempdir().expect("temp dir");
    let repo = DagRepo::create(&git, &dir.path().join("dags.git"));
    Some((dir, git, repo))
}

/// Neither the token nor its Basic encoding appears in what git or the test showed.
#[track_caller]
fn assert_token_hidden(run: &Run) {
    let shown = format!("{run}");
    for secret in [TOKEN.to_string(), basic(USER, TOKEN)] {
        assert!(!shown.contains(&secret), "the token showed\n{run}");
    }
}

/// One raw request, for what git does not show: the status line and the challenge.
fn raw_get(port: u16, path: &str, authorization: Option<&str>) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n");
    if let Some(value) = authorization {
        request.push_str(&format!("Authorization: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).expect("send");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).expect("read");
    String::from_utf8_lossy(&answer).into_owned()
}

fn head_line(answer: &str) -> &str {
    answer.lines().next().unwrap_or("")
}

#[test]
fn a_public_repository_is_listed_and_cloned_anonymously() {
    let Some((dir, git, repo)) = repository("a_public_repository_is_listed_and_cloned_anonymously") else { return };
    let Some(server) = GitHttp::start(&repo.path, None) else { return };
    assert!(server.url().starts_with("http://127.0.0.1:"), "{}", server.url());

    let listed = git_over_http(&git, &["ls-remote", &server.url()], &Credentials::None, dir.path());
    listed.expect_success().expect_stdout_contains(&format!("{}\trefs/heads/main", repo.head("main")));

    let into = dir.path().join("clone");
    clone(&git, &server.url(), &into, &Credentials::None).expect_success();
    assert!(into.join(FIRST_DAG).is_file(), "the clone lacks {FIRST_DAG}\n{:?}", server.requests());

    // The smart protocol really ran (not a dumb file walk), and nothing asked for credentials.
    let requests = server.requests();
    assert!(
        requests.iter().any(|r| r.starts_with("GET /dags.git/info/refs?service=git-upload-pack 200 auth=public")),
        "{requests:#?}"
    );
    assert!(requests.iter().any(|r| r.starts_with("POST /dags.git/git-upload-pack 200 auth=public")), "{requests:#?}");
    assert!(requests.iter().all(|r| r.ends_with("auth=public")), "{requests:#?}");
}

#[test]
fn a_new_commit_is_seen_by_the_next_ls_remote() {
    let Some((dir, git, repo)) = repository("a_new_commit_is_seen_by_the_next_ls_remote") else { return };
    let Some(server) = GitHttp::start(&repo.path, None) else { return };
    let first = repo.head("main");
    let second = repo.commit("main", &[("dags/second_dag.py", "from airflow import DAG\n")], "second DAG");
    assert_ne!(first, second);
    let other = repo.commit("feature", &[("dags/feature_dag.py", "# feature\n")], "feature branch");
    let listed = git_over_http(&git, &["ls-remote", "--heads", &server.url()], &Credentials::None, dir.path());
    listed
        .expect_success()
        .expect_stdout_contains(&format!("{second}\trefs/heads/main"))
        .expect_stdout_contains(&format!("{other}\trefs/heads/feature"));
}

#[test]
fn a_private_repository_refuses_anonymous_git_with_a_basic_challenge() {
    let test = "a_private_repository_refuses_anonymous_git_with_a_basic_challenge";
    let Some((dir, git, repo)) = repository(test) else { return };
    let Some(server) = GitHttp::start(&repo.path, Some((USER, TOKEN))) else { return };

    let answer = raw_get(server.port(), "/dags.git/info/refs?service=git-upload-pack", None);
    assert_eq!(head_line(&answer), "HTTP/1.1 401 Unauthorized", "{answer}");
    assert!(answer.contains("\r\nWWW-Authenticate: Basic realm=\"airflow-kit test\"\r\n"), "{answer}");

    // With prompts off and no credentials, git stops at the challenge, as git-sync would.
    let listed = git_over_http(&git, &["ls-remote", &server.url()], &Credentials::None, dir.path());
    listed.expect_code(128).expect_stderr_contains(&format!(
        "fatal: could not read Username for 'http://127.0.0.1:{}': terminal prompts disabled",
        server.port()
    ));
    assert!(!dir.path().join("clone").exists());
    let requests = server.requests();
    assert!(requests.iter().all(|r| r.ends_with("401 auth=missing")), "{requests:#?}");
}

#[test]
fn a_wrong_token_is_refused_with_gits_authentication_failed() {
    let test = "a_wrong_token_is_refused_with_gits_authentication_failed";
    let Some((dir, git, repo)) = repository(test) else { return };
    let Some(server) = GitHttp::start(&repo.path, Some((USER, TOKEN))) else { return };
    let failed = format!("fatal: Authentication failed for '{}/'", server.url());

    for credentials in [
        Credentials::Helper { user: USER, token: "ghp_wrong" },
        // The right token under another user is not the pair either.
        Credentials::Helper { user: "someone-else", token: TOKEN },
    ] {
        let into = dir.path().join("clone");
        let run = clone(&git, &server.url(), &into, &credentials);
        run.expect_code(128).expect_stderr_contains(&failed);
        assert_token_hidden(&run);
        assert!(!into.join(FIRST_DAG).exists(), "a refused clone wrote the DAGs\n{run}");
    }

    // A wrong header: git gets the 401, has no helper to ask, and cannot prompt.
    let run = git_over_http(
        &git,
        &["ls-remote", &server.url()],
        &Credentials::ExtraHeader { user: USER, token: "ghp_wrong" },
        dir.path(),
    );
    run.expect_code(128).expect_stderr_contains("terminal prompts disabled");

    let answer = raw_get(server.port(), "/dags.git/info/refs?service=git-upload-pack", Some(&basic(USER, "ghp_wrong")));
    assert_eq!(head_line(&answer), "HTTP/1.1 401 Unauthorized", "{answer}");
    let requests = server.requests();
    assert!(requests.iter().any(|r| r.ends_with("401 auth=refused")), "{requests:#?}");
    assert!(!requests.iter().any(|r| r.contains("auth=accepted")), "{requests:#?}");
}

#[test]
fn the_right_token_lists_and_clones_through_a_helper_or_an_extra_header() {
    let test = "the_right_token_lists_and_clones_through_a_helper_or_an_extra_header";
    let Some((dir, git, repo)) = repository(test) else { return };
    let Some(server) = GitHttp::start(&repo.path, Some((USER, TOKEN))) else { return };

    for (name, credentials) in [
        ("helper", Credentials::Helper { user: USER, token: TOKEN }),
        ("header", Credentials::ExtraHeader { user: USER, token: TOKEN }),
    ] {
        let listed = git_over_http(&git, &["ls-remote", &server.url()], &credentials, dir.path());
        listed.expect_success().expect_stdout_contains(&format!("{}\trefs/heads/main", repo.head("main")));
        assert_token_hidden(&listed);
        let into = dir.path().join(format!("clone-{name}"));
        let cloned = clone(&git, &server.url(), &into, &credentials);
        cloned.expect_success();
        assert_token_hidden(&cloned);
        assert!(into.join(FIRST_DAG).is_file(), "{name}: the clone lacks {FIRST_DAG}\n{cloned}");
        // The token is not kept in the clone's config (no credentials in the remote URL).
        let config = std::fs::read_to_string(into.join(".git/config")).expect("clone config");
        assert!(!config.contains(TOKEN), "{name}: the token is in {}", into.join(".git/config").display());
    }
    let requests = server.requests();
    assert!(
        requests.iter().any(|r| r.starts_with("POST /dags.git/git-upload-pack 200 auth=accepted")),
        "{requests:#?}"
    );
    let answer = raw_get(server.port(), "/dags.git/info/refs?service=git-upload-pack", Some(&basic(USER, TOKEN)));
    assert_eq!(head_line(&answer), "HTTP/1.1 200 OK", "{answer}");
}

#[test]
fn the_server_is_read_only_and_serves_only_its_repository() {
    let test = "the_server_is_read_only_and_serves_only_its_repository";
    let Some((dir, git, repo)) = repository(test) else { return };
    let Some(server) = GitHttp::start(&repo.path, Some((USER, TOKEN))) else { return };
    let credentials = Credentials::Helper { user: USER, token: TOKEN };
    let into = dir.path().join("clone");
    clone(&git, &server.url(), &into, &credentials).expect_success();
    std::fs::write(into.join("dags/pushed.py"), "# pushed\n").expect("write");
    let commit = |args: &[&str]| {
        git_over_http(&git, args, &credentials, &into).expect_success();
    };
    commit(&["add", "."]);
    commit(&["-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "--quiet", "-m", "push me"]);
    let before = repo.head("main");
    let pushed = git_over_http(&git, &["push", "origin", "HEAD:main"], &credentials, &into);
    pushed.expect_code(128).expect_stderr_contains("The requested URL returned error: 403");
    assert_eq!(repo.head("main"), before, "the served repository changed");

    let answer = raw_get(server.port(), "/other.git/info/refs?service=git-upload-pack", Some(&basic(USER, TOKEN)));
    assert_eq!(head_line(&answer), "HTTP/1.1 404 Not Found", "{answer}");
}
