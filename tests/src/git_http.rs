//! A real Git server over HTTP on 127.0.0.1: git's own `git http-backend`, run as CGI behind
//! the small HTTP/1.1 server of [`crate::http`], serving one bare repository. Public (anyone
//! may fetch) or private (HTTP Basic with one user and token; anything else gets `401` with
//! `WWW-Authenticate: Basic`, as GitHub and GitLab answer), and read-only in both modes. So
//! an HTTPS repository, public or private, is judged by a real `git ls-remote`/`git clone`.
//!
//! ```no_run
//! use airflow_kit_tests::git_http::{Credentials, GitHttp, git_over_http};
//! use airflow_kit_tests::git_repo::DagRepo;
//! let Some(git) = airflow_kit_tests::require_tool(airflow_kit_tests::Tool::Git, "doc") else { return };
//! let dir = tempfile::tempdir().unwrap();
//! let repo = DagRepo::create(&git, &dir.path().join("dags.git"));
//! let Some(server) = GitHttp::start(&repo.path, Some(("x-access-token", "s3cret"))) else { return };
//! let credentials = Credentials::Helper { user: "x-access-token", token: "s3cret" };
//! git_over_http(&git, &["ls-remote", &server.url()], &credentials, dir.path()).expect_success();
//! ```

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use base64::Engine;

use crate::bins::{Run, run_command_shown};
use crate::git_repo::isolated_git;
use crate::http::{Request, write_response};
use crate::tools::{Tool, require_found, require_tool};

/// The realm of the `WWW-Authenticate: Basic` challenge.
pub const REALM: &str = "airflow-kit test";

/// A running Git HTTP server, stopped on drop.
pub struct GitHttp {
    port: u16,
    repo_name: String,
    shared: Arc<Shared>,
}

/// What the connection threads share with the handle.
struct Shared {
    stopping: AtomicBool,
    requests: Mutex<Vec<String>>,
    backend_errors: Mutex<Vec<String>>,
}

/// How a request stood with respect to authentication, as recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Auth {
    /// A public server: nothing asked.
    Public,
    /// A private server, no `Authorization` header: refused with the challenge.
    Missing,
    /// A private server, credentials that are not the pair: refused.
    Refused,
    Accepted,
}

impl GitHttp {
    /// Serves the bare repository `repo_dir` at `http://127.0.0.1:<free port>/<its name>`.
    /// `auth`: None for a public repository, or the one `(user, token)` pair a private one
    /// accepts. None (after a visible skip) when git or `git http-backend` is not installed
    /// outside CI; under CI that fails the test.
    pub fn start(repo_dir: &Path, auth: Option<(&str, &str)>) -> Option<GitHttp> {
        let test = crate::skip::current_test();
        let git = require_tool(Tool::Git, &test)?;
        let backend = require_found(http_backend(&git), &test)?;
        let repo_dir = repo_dir.canonicalize().unwrap_or_else(|_| repo_dir.to_path_buf());
        let (Some(root), Some(repo_name)) = (repo_dir.parent(), repo_dir.file_name()) else {
            panic!("`{}` is not a repository directory", repo_dir.display());
        };
        assert!(repo_dir.join("HEAD").is_file(), "`{}` is not a bare repository", repo_dir.display());
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let port = listener.local_addr().expect("local address").port();
        let shared = Arc::new(Shared {
            stopping: AtomicBool::new(false),
            requests: Mutex::new(Vec::new()),
            backend_errors: Mutex::new(Vec::new()),
        });
        let config = Arc::new(Config {
            backend,
            root: root.to_path_buf(),
            repo_name: repo_name.to_string_lossy().into_owned(),
            port,
            expected: auth.map(|(user, token)| format!("{user}:{token}")),
        });
        let threads = shared.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if threads.stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let (config, shared) = (config.clone(), threads.clone());
                // One thread per connection: git's curl may open a second connection while
                // the first is still being answered.
                std::thread::spawn(move || serve(stream, &config, &shared));
            }
        });
        Some(GitHttp { port, repo_name: repo_name.to_string_lossy().into_owned(), shared })
    }

    /// `http://127.0.0.1:PORT/dags.git`: what `git clone`, `git ls-remote` and git-sync take.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/{}", self.port, self.repo_name)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Every request so far, as `METHOD target STATUS auth=public|missing|refused|accepted`
    /// (never the credentials themselves).
    pub fn requests(&self) -> Vec<String> {
        self.shared.requests.lock().map(|requests| requests.clone()).unwrap_or_default()
    }

    /// What `git http-backend` wrote on stderr, one entry per request that wrote any: shown by
    /// a test whose fetch failed for a reason the HTTP status does not tell.
    pub fn backend_errors(&self) -> Vec<String> {
        self.shared.backend_errors.lock().map(|errors| errors.clone()).unwrap_or_default()
    }
}

impl Drop for GitHttp {
    fn drop(&mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag and lets the port go.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// How a test's git authenticates. The token never reaches argv: the helper reads it from
/// the git process's environment, and the extra header is git config given through
/// `GIT_CONFIG_*` variables.
#[derive(Debug, Clone, Copy)]
pub enum Credentials<'a> {
    None,
    /// A git credential helper answering `get` with this user and token.
    Helper {
        user: &'a str,
        token: &'a str,
    },
    /// `http.extraHeader: Authorization: Basic <user:token>`, as git-sync and CI systems pass a
    /// token without a helper.
    ExtraHeader {
        user: &'a str,
        token: &'a str,
    },
}

/// Runs `git ARGS` in `dir` with `credentials`, the user's and system's git config shut out,
/// no prompt (`GIT_TERMINAL_PROMPT=0`) and no proxy. The command shown on failure names the
/// kind of credentials, never the token.
pub fn git_over_http(git: &Path, args: &[&str], credentials: &Credentials, dir: &Path) -> Run {
    let mut command = git_command(git, credentials);
    command.args(args).current_dir(dir);
    let kind = match credentials {
        Credentials::None => "no credentials".to_string(),
        Credentials::Helper { user, .. } => format!("a credential helper for `{user}`"),
        Credentials::ExtraHeader { user, .. } => format!("http.extraHeader for `{user}`"),
    };
    run_command_shown(command, format!("git {} (with {kind})", args.join(" ")), None)
}

/// The git command [`git_over_http`] runs, for a test that needs to add to it.
pub fn git_command(git: &Path, credentials: &Credentials) -> Command {
    let mut command = isolated_git(git);
    for variable in ["http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"] {
        command.env_remove(variable);
    }
    // Belt and braces: even a proxy set in a way not removed above is bypassed for every host.
    command.env("no_proxy", "*").env("NO_PROXY", "*");
    let mut config: Vec<(&str, String)> = Vec::new();
    match credentials {
        Credentials::None => {}
        Credentials::Helper { user, token } => {
            command.env("AIRFLOW_KIT_TEST_GIT_USER", user).env("AIRFLOW_KIT_TEST_GIT_TOKEN", token);
            config.push((
                "credential.helper",
                r#"!f() { test "$1" = get || return 0; printf 'username=%s\npassword=%s\n' "$AIRFLOW_KIT_TEST_GIT_USER" "$AIRFLOW_KIT_TEST_GIT_TOKEN"; }; f"#
                    .to_string(),
            ));
        }
        Credentials::ExtraHeader { user, token } => {
            config.push(("http.extraHeader", format!("Authorization: {}", basic(user, token))));
        }
    }
    command.env("GIT_CONFIG_COUNT", config.len().to_string());
    for (index, (key, value)) in config.iter().enumerate() {
        command.env(format!("GIT_CONFIG_KEY_{index}"), key).env(format!("GIT_CONFIG_VALUE_{index}"), value);
    }
    command
}

/// The `Authorization` value for HTTP Basic.
pub fn basic(user: &str, token: &str) -> String {
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{token}")))
}

/// `git http-backend`, where this git keeps its helpers (`git --exec-path`).
fn http_backend(git: &Path) -> Result<PathBuf, String> {
    let output = Command::new(git)
        .arg("--exec-path")
        .output()
        .map_err(|error| format!("`{} --exec-path` did not run: {error}", git.display()))?;
    let exec_path = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
    let backend = exec_path.join("git-http-backend");
    if output.status.success() && backend.is_file() {
        Ok(backend)
    } else {
        Err(format!("git-http-backend not found in git's exec path `{}`", exec_path.display()))
    }
}

struct Config {
    backend: PathBuf,
    /// GIT_PROJECT_ROOT: the repository's parent.
    root: PathBuf,
    repo_name: String,
    port: u16,
    /// `user:token` for a private server.
    expected: Option<String>,
}

fn serve(mut stream: TcpStream, config: &Config, shared: &Shared) {
    let Some(request) = Request::read(&mut stream) else { return };
    let auth = match (&config.expected, request.header("Authorization")) {
        (None, _) => Auth::Public,
        (Some(_), None) => Auth::Missing,
        (Some(expected), Some(given)) if decode_basic(given).as_deref() == Some(expected.as_str()) => Auth::Accepted,
        (Some(_), Some(_)) => Auth::Refused,
    };
    let (status, reason, headers, body) = match auth {
        Auth::Missing | Auth::Refused => (
            401,
            "Unauthorized".to_string(),
            vec![("WWW-Authenticate".to_string(), format!("Basic realm=\"{REALM}\""))],
            b"authentication required\n".to_vec(),
        ),
        Auth::Public | Auth::Accepted => {
            match request.path().strip_prefix('/').and_then(|rest| rest.strip_prefix(config.repo_name.as_str())) {
                Some(rest) if rest.starts_with('/') => cgi(&request, config, shared, auth),
                _ => (404, "Not Found".to_string(), Vec::new(), b"no such repository\n".to_vec()),
            }
        }
    };
    let auth_word = match auth {
        Auth::Public => "public",
        Auth::Missing => "missing",
        Auth::Refused => "refused",
        Auth::Accepted => "accepted",
    };
    if let Ok(mut requests) = shared.requests.lock() {
        requests.push(format!("{} {} {status} auth={auth_word}", request.method, request.target));
    }
    let headers: Vec<(&str, &str)> = headers.iter().map(|(name, value)| (name.as_str(), value.as_str())).collect();
    let _ = write_response(&mut stream, status, &reason, &headers, &body);
}

/// `user:token` from `Basic <base64>`; None for any other scheme or bad base64.
fn decode_basic(header: &str) -> Option<String> {
    let (scheme, encoded) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let bytes = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    String::from_utf8(bytes).ok()
}

type Answer = (u16, String, Vec<(String, String)>, Vec<u8>);

/// Runs `git http-backend` for one request (RFC 3875 variables) and turns its CGI answer
/// (`Status:` and other headers, a blank line, the body) into the HTTP response.
fn cgi(request: &Request, config: &Config, shared: &Shared, auth: Auth) -> Answer {
    let mut command = Command::new(&config.backend);
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("GIT_PROJECT_ROOT", &config.root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        // Read-only in both modes (a private server would otherwise take pushes from the
        // authenticated user); and the test's repository may belong to another user under CI.
        .env("GIT_CONFIG_COUNT", "2")
        .env("GIT_CONFIG_KEY_0", "http.receivepack")
        .env("GIT_CONFIG_VALUE_0", "false")
        .env("GIT_CONFIG_KEY_1", "safe.directory")
        .env("GIT_CONFIG_VALUE_1", "*")
        .env("GATEWAY_INTERFACE", "CGI/1.1")
        .env("SERVER_PROTOCOL", "HTTP/1.1")
        .env("SERVER_SOFTWARE", "airflow-kit-tests")
        .env("SERVER_NAME", "127.0.0.1")
        .env("SERVER_PORT", config.port.to_string())
        .env("REMOTE_ADDR", "127.0.0.1")
        .env("REQUEST_METHOD", &request.method)
        .env("SCRIPT_NAME", "")
        .env("PATH_INFO", request.path())
        .env("QUERY_STRING", request.query())
        .env("CONTENT_LENGTH", request.body.len().to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(content_type) = request.header("Content-Type") {
        command.env("CONTENT_TYPE", content_type);
    }
    if auth == Auth::Accepted
        && let Some(user) = config.expected.as_deref().and_then(|pair| pair.split(':').next())
    {
        command.env("REMOTE_USER", user).env("AUTH_TYPE", "Basic");
    }
    // Every other header as HTTP_<NAME>, as CGI asks: git reads `Git-Protocol` (protocol v2)
    // and `Content-Encoding` (gzip-compressed fetch requests) from them. Not Authorization:
    // CGI withholds it from scripts, and the backend has no use for the token.
    for (name, value) in &request.headers {
        if name.eq_ignore_ascii_case("authorization")
            || name.eq_ignore_ascii_case("content-type")
            || name.eq_ignore_ascii_case("content-length")
        {
            continue;
        }
        command.env(format!("HTTP_{}", name.to_ascii_uppercase().replace('-', "_")), value);
    }
    let failed = |what: String| (500, "Internal Server Error".to_string(), Vec::new(), what.into_bytes());
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(error) => return failed(format!("cannot start git http-backend: {error}\n")),
    };
    // The body goes in from its own thread, so a backend that answers before reading it all
    // cannot deadlock against us.
    let body = request.body.clone();
    let writer = child.stdin.take().map(|mut stdin| {
        std::thread::spawn(move || {
            let _ = stdin.write_all(&body);
        })
    });
    let output = match child.wait_with_output() {
        Ok(output) => output,
        Err(error) => return failed(format!("git http-backend did not finish: {error}\n")),
    };
    if let Some(writer) = writer {
        let _ = writer.join();
    }
    if !output.stderr.is_empty()
        && let Ok(mut errors) = shared.backend_errors.lock()
    {
        errors.push(format!("{} {}: {}", request.method, request.target, String::from_utf8_lossy(&output.stderr)));
    }
    parse_cgi(&output.stdout).unwrap_or_else(|| {
        failed(format!("git http-backend gave no CGI answer: {}\n", String::from_utf8_lossy(&output.stderr)))
    })
}

/// A CGI answer: headers (`Status: 404 Not Found` sets the status), a blank line, the body.
fn parse_cgi(output: &[u8]) -> Option<Answer> {
    let (head_end, body_start) = [b"\r\n\r\n".as_slice(), b"\n\n".as_slice()]
        .iter()
        .filter_map(|separator| {
            output.windows(separator.len()).position(|window| window == *separator).map(|at| (at, at + separator.len()))
        })
        .min()?;
    let head = std::str::from_utf8(&output[..head_end]).ok()?;
    let (mut status, mut reason) = (200, "OK".to_string());
    let mut headers = Vec::new();
    for line in head.lines() {
        let (name, value) = line.split_once(':')?;
        let (name, value) = (name.trim(), value.trim());
        if name.eq_ignore_ascii_case("status") {
            let (code, text) = value.split_once(' ').unwrap_or((value, ""));
            status = code.parse().ok()?;
            reason = text.to_string();
        } else {
            headers.push((name.to_string(), value.to_string()));
        }
    }
    Some((status, reason, headers, output[body_start..].to_vec()))
}

/// Clones `url` into `into` with `credentials`, as [`git_over_http`] runs git.
pub fn clone(git: &Path, url: &str, into: &Path, credentials: &Credentials) -> Run {
    let dir = into.parent().unwrap_or(Path::new("."));
    let into = into.as_os_str().to_string_lossy().into_owned();
    git_over_http(git, &["clone", "--quiet", url, &into], credentials, dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_round_trip_and_other_schemes_are_not_basic() {
        let header = basic("x-access-token", "s3cret:with:colons");
        assert_eq!(header, "Basic eC1hY2Nlc3MtdG9rZW46czNjcmV0OndpdGg6Y29sb25z");
        assert_eq!(decode_basic(&header).as_deref(), Some("x-access-token:s3cret:with:colons"));
        assert_eq!(decode_basic("basic eDp5").as_deref(), Some("x:y"));
        assert_eq!(decode_basic("Bearer s3cret"), None);
        assert_eq!(decode_basic("Basic !!!"), None);
    }

    #[test]
    fn a_cgi_answer_becomes_status_headers_and_body() {
        let (status, reason, headers, body) =
            parse_cgi(b"Status: 403 Forbidden\r\nContent-Type: text/plain\r\n\r\nno push").expect("parses");
        assert_eq!((status, reason.as_str()), (403, "Forbidden"));
        assert_eq!(headers, vec![("Content-Type".to_string(), "text/plain".to_string())]);
        assert_eq!(body, b"no push");
        let (status, _, headers, body) = parse_cgi(b"Content-Type: a/b\n\n\x00\x01").expect("parses");
        assert_eq!(status, 200);
        assert_eq!(headers.len(), 1);
        assert_eq!(body, b"\x00\x01");
        assert!(parse_cgi(b"no blank line").is_none());
    }
}
