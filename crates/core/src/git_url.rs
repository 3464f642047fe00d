//! Git repository URLs read the way git reads them (scp-like `git@host:path`, `ssh://`,
//! `https://`, `http://`, `git://`, `file://` and local paths): one parser for the host key
//! pinning, the deploy-key page and the access check, so they cannot disagree.

use std::fmt;

use crate::error::Error;

/// The forms a repository URL may take, for every hint.
pub const ACCEPTED_FORMS: &str = "use `git@github.com:me/dags.git`, `ssh://git@host[:port]/path`, \
                                  `https://host[:port]/path` (or `http://`), `git://host[:port]/path` or \
                                  `file:///path`";

/// How git reaches the repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// `ssh://`, `git+ssh://`, `ssh+git://` and the scp-like `[user@]host:path`.
    Ssh,
    Https,
    Http,
    /// The unauthenticated `git://` daemon protocol.
    Git,
    /// `file://` or a local path: no host at all.
    File,
}

impl Transport {
    /// The port git uses when the URL names none; 0 for a local repository, which has no port.
    pub fn default_port(self) -> u16 {
        match self {
            Transport::Ssh => 22,
            Transport::Https => 443,
            Transport::Http => 80,
            Transport::Git => 9418,
            Transport::File => 0,
        }
    }

    /// The name used in messages: `ssh`, `https`, `http`, `git`, `file`.
    pub fn name(self) -> &'static str {
        match self {
            Transport::Ssh => "ssh",
            Transport::Https => "https",
            Transport::Http => "http",
            Transport::Git => "git",
            Transport::File => "file",
        }
    }

    /// Only SSH has host keys, so only an SSH repository needs `knownHosts`.
    pub fn has_host_key(self) -> bool {
        self == Transport::Ssh
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The hosting service, recognised from the host name alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    GitHub,
    GitLab,
    Bitbucket,
    /// A host we know nothing about (a self-hosted GitLab, Gitea, a plain sshd).
    Other,
}

impl Provider {
    /// The provider serving `host` (case-insensitive), including the port-443 SSH endpoints
    /// (`ssh.github.com`, `altssh.gitlab.com`, `altssh.bitbucket.org`) that serve the same
    /// repositories under the same paths.
    pub fn of_host(host: &str) -> Provider {
        match host.to_ascii_lowercase().as_str() {
            "github.com" | "www.github.com" | "ssh.github.com" => Provider::GitHub,
            "gitlab.com" | "www.gitlab.com" | "altssh.gitlab.com" => Provider::GitLab,
            "bitbucket.org" | "www.bitbucket.org" | "altssh.bitbucket.org" => Provider::Bitbucket,
            _ => Provider::Other,
        }
    }

    /// `GitHub`, `GitLab`, `Bitbucket`; None for another host.
    pub fn name(self) -> Option<&'static str> {
        match self {
            Provider::GitHub => Some("GitHub"),
            Provider::GitLab => Some("GitLab"),
            Provider::Bitbucket => Some("Bitbucket"),
            Provider::Other => None,
        }
    }

    /// The provider's web host, where its settings pages live.
    pub fn web_host(self) -> Option<&'static str> {
        match self {
            Provider::GitHub => Some("github.com"),
            Provider::GitLab => Some("gitlab.com"),
            Provider::Bitbucket => Some("bitbucket.org"),
            Provider::Other => None,
        }
    }
}

/// A parsed repository URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitUrl {
    pub transport: Transport,
    /// The user before `@` (`git` in `git@github.com:me/dags.git`), when the URL names one. A
    /// password (`user:token@`) is never kept: the parser refuses it.
    pub user: Option<String>,
    /// The host name or address, lowercase, without IPv6 brackets; empty for a local
    /// repository.
    pub host: String,
    /// The port, or the transport's default when the URL names none (0 for a local
    /// repository).
    pub port: u16,
    /// The repository path without its leading `/`, `.git` kept as given (`me/dags.git`).
    pub path: String,
}

impl GitUrl {
    /// Parses a repository URL as git does. Errors are exit 2 with a hint naming the
    /// accepted forms; a URL carrying a password is refused without repeating it.
    pub fn parse(url: &str) -> Result<GitUrl, Error> {
        let trimmed = url.trim();
        if trimmed.is_empty() {
            return Err(Error::bad_input("the repository URL is empty").with_hint(ACCEPTED_FORMS));
        }
        if trimmed.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(Error::bad_input(format!("`{}` contains white space", redact(trimmed)))
                .with_hint(format!("a repository URL is one word; {ACCEPTED_FORMS}")));
        }
        if let Some((scheme, rest)) = trimmed.split_once("://") {
            return parse_scheme_url(scheme, rest, trimmed);
        }
        if trimmed.starts_with('/') || trimmed.starts_with("./") || trimmed.starts_with("../") {
            return local(trimmed, trimmed);
        }
        parse_scp_like(trimmed)
    }

    /// The path without a trailing `.git` (and without a trailing `/`): `me/dags`.
    pub fn path_without_git(&self) -> &str {
        let path = self.path.trim_end_matches('/');
        path.strip_suffix(".git").unwrap_or(path)
    }

    /// The hosting service, from the host name.
    pub fn provider(&self) -> Provider {
        Provider::of_host(&self.host)
    }

    /// The exact known_hosts host field ssh looks this server up by (`host` on port 22,
    /// `[host]:port` otherwise); None when the transport has no SSH host key.
    pub fn known_hosts_field(&self) -> Option<String> {
        self.transport.has_host_key().then(|| known_hosts_field(&self.host, self.port))
    }

    /// Where the repository's owner adds a read-only deploy key: GitHub's
    /// `https://github.com/<owner>/<repo>/settings/keys`, GitLab's
    /// `https://gitlab.com/<path>/-/settings/repository`, Bitbucket's
    /// `https://bitbucket.org/<workspace>/<repo>/admin/access-keys/`. None for another host, or
    /// a path that names no repository of that provider.
    pub fn deploy_keys_page(&self) -> Option<String> {
        let path = self.path_without_git();
        let segments: Vec<&str> = path.split('/').collect();
        if segments.iter().any(|segment| segment.is_empty()) {
            return None;
        }
        match self.provider() {
            // GitHub and Bitbucket repositories are exactly `<owner>/<repo>`.
            Provider::GitHub if segments.len() == 2 => Some(format!("https://github.com/{path}/settings/keys")),
            Provider::Bitbucket if segments.len() == 2 => {
                Some(format!("https://bitbucket.org/{path}/admin/access-keys/"))
            }
            // GitLab nests groups: `<group>/<subgroup>/.../<project>`.
            Provider::GitLab if segments.len() >= 2 => Some(format!("https://gitlab.com/{path}/-/settings/repository")),
            _ => None,
        }
    }
}

/// The known_hosts host field for a server: `host` on port 22, `[host]:port` otherwise,
/// lowercase as ssh writes it.
pub fn known_hosts_field(host: &str, port: u16) -> String {
    let host = host.to_ascii_lowercase();
    if port == 22 { host } else { format!("[{host}]:{port}") }
}

/// Parses `HOST`, `HOST:PORT` or `[HOST]:PORT` (an IPv6 address needs the brackets when a
/// port follows; a bare one is all host). `shown` is what messages quote; `default_port` is
/// used when no port is given.
pub fn parse_host_port(text: &str, shown: &str, default_port: u16) -> Result<(String, u16), Error> {
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        match rest.split_once(']') {
            Some((host, "")) => (host, None),
            Some((host, port)) if port.starts_with(':') => (host, Some(&port[1..])),
            _ => return Err(no_host(shown)),
        }
    } else if text.matches(':').count() == 1 {
        let (host, port) = text.split_once(':').unwrap_or((text, ""));
        (host, Some(port))
    } else {
        // No colon, or a bare IPv6 address: all of it is the host.
        (text, None)
    };
    check_host(host, shown)?;
    let port = match port {
        None | Some("") => default_port,
        Some(port) => port.parse::<u16>().ok().filter(|port| *port > 0).ok_or_else(|| {
            Error::bad_input(format!("`{port}` in `{shown}` is not a port number"))
                .with_hint("a port is a number from 1 to 65535, as in `ssh://git@host:2222/path`")
        })?,
    };
    Ok((host.to_ascii_lowercase(), port))
}

fn parse_scheme_url(scheme: &str, rest: &str, url: &str) -> Result<GitUrl, Error> {
    let transport = match scheme.to_ascii_lowercase().as_str() {
        "ssh" | "git+ssh" | "ssh+git" => Transport::Ssh,
        "https" => Transport::Https,
        "http" => Transport::Http,
        "git" => Transport::Git,
        "file" => Transport::File,
        other => {
            return Err(Error::bad_input(format!(
                "`{}` is a `{other}://` URL, which git-sync cannot clone",
                redact(url)
            ))
            .with_hint(ACCEPTED_FORMS));
        }
    };
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    if transport == Transport::File {
        // `file:///srv/dags.git` (empty authority) or `file://localhost/srv/dags.git`.
        if !authority.is_empty() && !authority.eq_ignore_ascii_case("localhost") {
            return Err(Error::bad_input(format!("`{url}` names a host; a `file://` URL is local to this machine"))
                .with_hint("write it as `file:///path/to/dags.git`"));
        }
        return local(path, url);
    }
    let (user, host_port) = match authority.rsplit_once('@') {
        Some((user_info, host_port)) => (Some(user_of(user_info, url)?), host_port),
        None => (None, authority),
    };
    let (host, port) = parse_host_port(host_port, &redact(url), transport.default_port())?;
    Ok(GitUrl { transport, user, host, port, path: repository_path(path, url)? })
}

/// scp-like syntax: `[user@]host:path`. git reads it so only when the colon comes before any
/// slash; `[host:port]:path` carries a port, `[::1]:path` an IPv6 address.
fn parse_scp_like(url: &str) -> Result<GitUrl, Error> {
    let (user_info, after_user) = match url.split_once('@') {
        Some((user, rest)) if !user.contains('/') && !user.contains(':') => (Some(user), rest),
        _ => (None, url),
    };
    let (host, port, path) = if let Some(inner) = after_user.strip_prefix('[')
        && let Some((inside, rest)) = inner.split_once(']')
        && let Some(path) = rest.strip_prefix(':')
    {
        let (host, port) = if inside.matches(':').count() == 1 {
            parse_host_port(inside, url, 22)?
        } else {
            // `[::1]:path`: an IPv6 address, no port.
            check_host(inside, url)?;
            (inside.to_ascii_lowercase(), 22)
        };
        (host, port, path)
    } else {
        let colon = after_user.find(':');
        let slash = after_user.find('/');
        match colon {
            Some(colon) if slash.is_none_or(|slash| colon < slash) => {
                let host = &after_user[..colon];
                check_host(host, url)?;
                (host.to_ascii_lowercase(), 22, &after_user[colon + 1..])
            }
            _ if user_info.is_none() && !url.contains(':') => {
                return Err(Error::bad_input(format!("`{url}` is neither a URL nor an absolute path"))
                    .with_hint(ACCEPTED_FORMS));
            }
            _ => return Err(Error::bad_input(format!("`{}` is not a git URL", redact(url))).with_hint(ACCEPTED_FORMS)),
        }
    };
    if user_info.is_some_and(str::is_empty) {
        return Err(Error::bad_input(format!("`{url}` has an empty user before `@`")).with_hint(ACCEPTED_FORMS));
    }
    Ok(GitUrl {
        transport: Transport::Ssh,
        user: user_info.map(str::to_string),
        host,
        port,
        path: repository_path(path, url)?,
    })
}

fn local(path: &str, url: &str) -> Result<GitUrl, Error> {
    Ok(GitUrl {
        transport: Transport::File,
        user: None,
        host: String::new(),
        port: Transport::File.default_port(),
        path: repository_path(path, url)?,
    })
}

/// The user of `user[:password]@`; a password is refused, since the URL ends up in the values
/// document, the Helm release and every log that shows it.
fn user_of(user_info: &str, url: &str) -> Result<String, Error> {
    if user_info.contains(':') {
        return Err(Error::bad_input(format!("`{}` carries a password or token in the URL", redact(url))).with_hint(
            "keep it out of the URL: the URL lands in the values document and the Helm release; put the token in a \
             Secret (the chart's `dags.gitSync.credentialsSecret`, keys `GIT_SYNC_USERNAME` and `GIT_SYNC_PASSWORD`)",
        ));
    }
    if user_info.is_empty() {
        return Err(Error::bad_input(format!("`{url}` has an empty user before `@`")).with_hint(ACCEPTED_FORMS));
    }
    Ok(user_info.to_string())
}

fn repository_path(path: &str, url: &str) -> Result<String, Error> {
    let path = path.trim_start_matches('/');
    if path.trim_end_matches('/').is_empty() {
        return Err(Error::bad_input(format!("`{}` names no repository path", redact(url))).with_hint(ACCEPTED_FORMS));
    }
    Ok(path.to_string())
}

fn check_host(host: &str, shown: &str) -> Result<(), Error> {
    if host.is_empty() {
        return Err(no_host(shown));
    }
    if !host.chars().all(|c| c.is_ascii_alphanumeric() || "-._:%".contains(c)) || host.starts_with('-') {
        return Err(Error::bad_input(format!("`{host}` in `{shown}` is not a host name or address"))
            .with_hint("check the repository URL for typos"));
    }
    Ok(())
}

fn no_host(shown: &str) -> Error {
    Error::bad_input(format!("`{shown}` names no host")).with_hint(ACCEPTED_FORMS)
}

/// The URL with any password in its user part replaced by `***`, so an error never repeats a
/// token.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_string() };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((user_info, host)) if user_info.contains(':') => {
            let user = user_info.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***@{host}{path}")
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ExitCode;

    /// What a parse should give: transport, user, host, port, path, known_hosts field, provider.
    type Expected<'a> = (Transport, Option<&'a str>, &'a str, u16, &'a str, Option<&'a str>, Provider);

    fn check(url: &str, expected: Result<Expected, &str>) {
        match (GitUrl::parse(url), expected) {
            (Ok(got), Ok((transport, user, host, port, path, field, provider))) => {
                assert_eq!(
                    (got.transport, got.user.as_deref(), got.host.as_str(), got.port, got.path.as_str()),
                    (transport, user, host, port, path),
                    "{url}"
                );
                assert_eq!(got.known_hosts_field().as_deref(), field, "{url}");
                assert_eq!(got.provider(), provider, "{url}");
            }
            (Err(error), Err(needle)) => {
                assert_eq!(error.code, ExitCode::BadInput, "{url}");
                assert!(error.message.contains(needle), "{url}: {}", error.message);
                assert!(error.hint.is_some(), "{url}: no hint");
            }
            (got, want) => panic!("{url}: got {got:?}, want {want:?}"),
        }
    }

    use Provider::{Bitbucket, GitHub, GitLab, Other};
    use Transport::{File, Git, Http, Https, Ssh};

    #[test]
    fn ssh_urls() {
        check(
            "ssh://git@ssh.github.com:443/me/dags.git",
            Ok((Ssh, Some("git"), "ssh.github.com", 443, "me/dags.git", Some("[ssh.github.com]:443"), GitHub)),
        );
        check(
            "git@github.com:me/dags.git",
            Ok((Ssh, Some("git"), "github.com", 22, "me/dags.git", Some("github.com"), GitHub)),
        );
        check("GitHub.com:me/dags", Ok((Ssh, None, "github.com", 22, "me/dags", Some("github.com"), GitHub)));
        check(
            "ssh://git@github.com/me/dags.git",
            Ok((Ssh, Some("git"), "github.com", 22, "me/dags.git", Some("github.com"), GitHub)),
        );
        check(
            "ssh://git@github.com:22/me/dags.git",
            Ok((Ssh, Some("git"), "github.com", 22, "me/dags.git", Some("github.com"), GitHub)),
        );
        check(
            "ssh://git@github.com:/me/dags.git",
            Ok((Ssh, Some("git"), "github.com", 22, "me/dags.git", Some("github.com"), GitHub)),
        );
        check(
            "ssh://root@127.0.0.1:2222/tmp/demo/dags.git",
            Ok((Ssh, Some("root"), "127.0.0.1", 2222, "tmp/demo/dags.git", Some("[127.0.0.1]:2222"), Other)),
        );
        check(
            "ssh://git@altssh.gitlab.com:443/group/dags.git",
            Ok((Ssh, Some("git"), "altssh.gitlab.com", 443, "group/dags.git", Some("[altssh.gitlab.com]:443"), GitLab)),
        );
        check(
            "git@bitbucket.org:ws/dags.git",
            Ok((Ssh, Some("git"), "bitbucket.org", 22, "ws/dags.git", Some("bitbucket.org"), Bitbucket)),
        );
        check("git+ssh://git@[::1]:2222/x", Ok((Ssh, Some("git"), "::1", 2222, "x", Some("[::1]:2222"), Other)));
        check("ssh://[::1]/srv/x.git", Ok((Ssh, None, "::1", 22, "srv/x.git", Some("::1"), Other)));
        check("git@[::1]:me/dags.git", Ok((Ssh, Some("git"), "::1", 22, "me/dags.git", Some("::1"), Other)));
        check(
            "git@[git.example.com:2222]:me/dags.git",
            Ok((Ssh, Some("git"), "git.example.com", 2222, "me/dags.git", Some("[git.example.com]:2222"), Other)),
        );
        check("git@host:/srv/dags.git", Ok((Ssh, Some("git"), "host", 22, "srv/dags.git", Some("host"), Other)));
    }

    #[test]
    fn https_http_git_and_local_urls() {
        check("https://github.com/me/dags.git", Ok((Https, None, "github.com", 443, "me/dags.git", None, GitHub)));
        check(
            "https://user@gitlab.example.com:8443/group/sub/dags",
            Ok((Https, Some("user"), "gitlab.example.com", 8443, "group/sub/dags", None, Other)),
        );
        check("http://127.0.0.1:8080/git/dags.git", Ok((Http, None, "127.0.0.1", 8080, "git/dags.git", None, Other)));
        check("HTTP://Example.com/dags", Ok((Http, None, "example.com", 80, "dags", None, Other)));
        check("git://git.example.com/dags.git", Ok((Git, None, "git.example.com", 9418, "dags.git", None, Other)));
        check("https://[::1]:8443/dags.git", Ok((Https, None, "::1", 8443, "dags.git", None, Other)));
        check("file:///srv/git/dags.git", Ok((File, None, "", 0, "srv/git/dags.git", None, Other)));
        check("/srv/git/dags.git", Ok((File, None, "", 0, "srv/git/dags.git", None, Other)));
    }

    #[test]
    fn malformed_urls() {
        check("", Err("empty"));
        check("   ", Err("empty"));
        check("ssh:///path", Err("names no host"));
        check("git@:me/dags.git", Err("names no host"));
        check("https:///me/dags.git", Err("names no host"));
        check("ssh://git@host:99999/x", Err("not a port number"));
        check("ssh://git@host:port/x", Err("not a port number"));
        check("https://github.com", Err("names no repository path"));
        check("git@github.com:", Err("names no repository path"));
        check("ftp://example.com/dags.git", Err("`ftp://` URL"));
        check("nonsense", Err("neither a URL nor an absolute path"));
        check("relative/dir", Err("neither a URL nor an absolute path"));
        check("https://github.com/me/da gs.git", Err("white space"));
        check("ssh://git@ho$t/x", Err("not a host name or address"));
        check("file://server/srv/dags.git", Err("names a host"));
        check("@github.com:me/dags.git", Err("empty user"));
    }

    #[test]
    fn a_password_in_the_url_is_refused_and_never_repeated() {
        for url in ["https://me:ghp_secret123@github.com/me/dags.git", "ssh://git:ghp_secret123@host/x"] {
            let error = GitUrl::parse(url).expect_err("password refused");
            assert_eq!(error.code, ExitCode::BadInput);
            assert!(error.message.contains("carries a password"), "{}", error.message);
            let shown = error.render("test");
            assert!(!shown.contains("ghp_secret123"), "{shown}");
            assert!(shown.contains(":***@"), "{shown}");
            assert!(shown.contains("credentialsSecret"), "{shown}");
        }
    }

    #[test]
    fn path_without_git() {
        for (url, path) in [
            ("git@github.com:me/dags.git", "me/dags"),
            ("https://github.com/me/dags", "me/dags"),
            ("https://github.com/me/dags.git/", "me/dags"),
            ("ssh://git@host/a/b.git.git", "a/b.git"),
        ] {
            assert_eq!(GitUrl::parse(url).expect(url).path_without_git(), path, "{url}");
        }
    }

    #[test]
    fn deploy_keys_pages() {
        let page = |url: &str| GitUrl::parse(url).expect(url).deploy_keys_page();
        let github = Some("https://github.com/me/dags/settings/keys".to_string());
        assert_eq!(page("git@github.com:me/dags.git"), github);
        // Defect 9: the port-443 endpoint is the same repository, not `github.com/443/...`.
        assert_eq!(page("ssh://git@ssh.github.com:443/me/dags.git"), github);
        assert_eq!(page("https://github.com/me/dags.git"), github);
        assert_eq!(page("https://github.com/me/dags"), github);
        assert_eq!(
            page("git@gitlab.com:group/sub/dags.git"),
            Some("https://gitlab.com/group/sub/dags/-/settings/repository".to_string())
        );
        assert_eq!(
            page("ssh://git@altssh.gitlab.com:443/group/dags.git"),
            Some("https://gitlab.com/group/dags/-/settings/repository".to_string())
        );
        assert_eq!(
            page("https://bitbucket.org/ws/dags.git"),
            Some("https://bitbucket.org/ws/dags/admin/access-keys/".to_string())
        );
        assert_eq!(page("https://user@gitlab.example.com:8443/group/sub/dags"), None);
        assert_eq!(page("ssh://root@127.0.0.1:2222/tmp/demo/dags.git"), None);
        assert_eq!(page("git@github.com:me/dags/extra.git"), None);
        assert_eq!(page("git@github.com:dags.git"), None);
    }

    #[test]
    fn host_port_arguments() {
        let parse = |arg: &str| parse_host_port(arg, arg, 22).map_err(|error| error.message);
        assert_eq!(parse("GitHub.com"), Ok(("github.com".into(), 22)));
        assert_eq!(parse("ssh.github.com:443"), Ok(("ssh.github.com".into(), 443)));
        assert_eq!(parse("[::1]:2222"), Ok(("::1".into(), 2222)));
        assert_eq!(parse("::1"), Ok(("::1".into(), 22)));
        assert!(parse("host:port").is_err());
        assert!(parse(":22").is_err());
        assert_eq!(known_hosts_field("GitHub.com", 22), "github.com");
        assert_eq!(known_hosts_field("::1", 2222), "[::1]:2222");
    }
}
