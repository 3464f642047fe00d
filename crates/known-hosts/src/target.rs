//! Which SSH server to pin: from a git URL (`git@host:path`, `ssh://user@host:port/path`) or
//! a `HOST[:PORT]` argument, and the exact host field ssh looks that server up by.

use airflow_kit_core::Error;

/// An SSH server: host name (or address) and port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub host: String,
    pub port: u16,
}

impl Target {
    /// The known_hosts host field ssh looks up: `host` on port 22, `[host]:port` otherwise.
    /// Host names are compared case-insensitively by ssh, which writes them lowercase.
    pub fn host_field(&self) -> String {
        let host = self.host.to_ascii_lowercase();
        if self.port == 22 { host } else { format!("[{host}]:{}", self.port) }
    }

    /// Parses a git remote URL the way git and ssh read it.
    pub fn from_repo_url(url: &str) -> Result<Target, Error> {
        let url = url.trim();
        if url.is_empty() {
            return Err(Error::bad_input("the repository URL is empty")
                .with_hint("use `git@github.com:me/dags.git` or `ssh://git@host:port/path`"));
        }
        if let Some((scheme, rest)) = url.split_once("://") {
            let scheme = scheme.to_ascii_lowercase();
            if !matches!(scheme.as_str(), "ssh" | "git+ssh" | "ssh+git") {
                return Err(Error::bad_input(format!(
                    "`{url}` is a `{scheme}://` URL; known_hosts is only used for git over SSH"
                ))
                .with_hint(
                    "git-sync with `sshKeySecret` needs an SSH URL such as `git@github.com:me/dags.git`; \
                     for HTTPS no known_hosts is needed",
                ));
            }
            let authority = rest.split('/').next().unwrap_or_default();
            let host_port = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
            return parse_host_port(host_port, url);
        }
        // scp-like syntax: `[user@]host:path`. git treats it so only when the colon comes
        // before any slash; `[host:port]:path` carries a port.
        let after_user = url.split_once('@').filter(|(user, _)| !user.contains('/')).map_or(url, |(_, rest)| rest);
        if let Some(inner) = after_user.strip_prefix('[')
            && let Some((host_port, rest)) = inner.split_once(']')
            && rest.starts_with(':')
        {
            return parse_host_port(host_port, url);
        }
        let colon = url.find(':');
        let slash = url.find('/');
        match colon {
            Some(colon) if slash.is_none_or(|slash| colon < slash) => {
                let before = &url[..colon];
                let host = before.rsplit_once('@').map_or(before, |(_, host)| host);
                check_host(host, url)?;
                Ok(Target { host: host.to_string(), port: 22 })
            }
            _ => Err(Error::bad_input(format!("`{url}` is not an SSH repository URL"))
                .with_hint("use `git@github.com:me/dags.git` or `ssh://git@host:port/path`")),
        }
    }

    /// Parses `HOST`, `HOST:PORT`, `[HOST]:PORT` (IPv6 addresses need the brackets).
    pub fn from_host_arg(arg: &str) -> Result<Target, Error> {
        if arg.contains('/') || arg.contains('@') {
            return Target::from_repo_url(arg);
        }
        parse_host_port(arg.trim(), arg)
    }
}

fn parse_host_port(text: &str, shown: &str) -> Result<Target, Error> {
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
        None | Some("") => 22,
        Some(port) => port.parse::<u16>().ok().filter(|port| *port > 0).ok_or_else(|| {
            Error::bad_input(format!("`{port}` in `{shown}` is not a port number"))
                .with_hint("a port is a number from 1 to 65535, as in `ssh://git@host:2222/path`")
        })?,
    };
    Ok(Target { host: host.to_string(), port })
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
    Error::bad_input(format!("`{shown}` names no host"))
        .with_hint("use `git@github.com:me/dags.git`, `ssh://git@host:port/path` or a `HOST[:PORT]` argument")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(url: &str, expected: Result<&str, &str>) {
        let result = Target::from_repo_url(url).map(|target| target.host_field());
        match (result, expected) {
            (Ok(field), Ok(want)) => assert_eq!(field, want, "{url}"),
            (Err(error), Err(needle)) => {
                assert_eq!(error.code, airflow_kit_core::ExitCode::BadInput);
                assert!(error.message.contains(needle), "{url}: {}", error.message);
                assert!(error.hint.is_some());
            }
            (got, want) => panic!("{url}: got {got:?}, want {want:?}"),
        }
    }

    #[test]
    fn repo_urls() {
        check("git@github.com:me/dags.git", Ok("github.com"));
        check("GitHub.com:me/dags.git", Ok("github.com"));
        check("ssh://git@ssh.github.com:443/me/dags.git", Ok("[ssh.github.com]:443"));
        check("ssh://git@github.com/me/dags.git", Ok("github.com"));
        check("ssh://git@github.com:22/me/dags.git", Ok("github.com"));
        check("ssh://root@127.0.0.1:2222/tmp/dags.git", Ok("[127.0.0.1]:2222"));
        check("git+ssh://git@[::1]:2222/x", Ok("[::1]:2222"));
        check("git@[git.example.com:2222]:me/dags.git", Ok("[git.example.com]:2222"));
        check("https://github.com/me/dags.git", Err("`https://` URL"));
        check("ssh:///path", Err("names no host"));
        check("git@:me/dags.git", Err("names no host"));
        check("ssh://git@host:99999/x", Err("not a port number"));
        check("/local/path", Err("not an SSH repository URL"));
        check("", Err("empty"));
    }

    #[test]
    fn host_arguments() {
        let field = |arg: &str| Target::from_host_arg(arg).map(|t| t.host_field()).map_err(|e| e.message);
        assert_eq!(field("github.com"), Ok("github.com".into()));
        assert_eq!(field("ssh.github.com:443"), Ok("[ssh.github.com]:443".into()));
        assert_eq!(field("[::1]:2222"), Ok("[::1]:2222".into()));
        assert_eq!(field("::1"), Ok("::1".into()));
        assert!(field("host:port").is_err());
        assert!(field(":22").is_err());
    }
}
