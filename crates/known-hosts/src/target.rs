//! Which SSH server to pin: core's git-URL parser (`airflow_kit_core::git_url`) applied to
//! a repository URL or a `HOST[:PORT]` argument; a repository that is not reached over SSH
//! has no host key to pin.

use airflow_kit_core::Error;
use airflow_kit_core::git_url::{self, GitUrl, Transport};

/// An SSH server: host name (or address, lowercase) and port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub host: String,
    pub port: u16,
}

/// What a URL or argument names: an SSH server to pin, or a repository without host keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Remote {
    Ssh(Target),
    /// HTTPS, HTTP, `git://` or a local repository: nothing for known_hosts.
    NoHostKey(Transport),
}

impl Target {
    /// The known_hosts host field ssh looks up: `host` on port 22, `[host]:port` otherwise.
    pub fn host_field(&self) -> String {
        git_url::known_hosts_field(&self.host, self.port)
    }

    /// The server of a git remote URL, read as git reads it.
    pub fn from_repo_url(url: &str) -> Result<Remote, Error> {
        let parsed = GitUrl::parse(url)?;
        Ok(match parsed.transport {
            Transport::Ssh => Remote::Ssh(Target { host: parsed.host, port: parsed.port }),
            other => Remote::NoHostKey(other),
        })
    }

    /// `HOST`, `HOST:PORT`, `[HOST]:PORT` (IPv6 addresses need the brackets), or a whole
    /// repository URL.
    pub fn from_host_arg(arg: &str) -> Result<Remote, Error> {
        if arg.contains('/') || arg.contains('@') {
            return Target::from_repo_url(arg);
        }
        let (host, port) = git_url::parse_host_port(arg.trim(), arg, 22)?;
        Ok(Remote::Ssh(Target { host, port }))
    }
}

/// Why a repository needs no knownHosts, for stderr and the verify report.
pub fn no_host_key_note(transport: Transport) -> String {
    let kind = match transport {
        Transport::Https => "an HTTPS repository".to_string(),
        Transport::Http => {
            "an HTTP repository (plain HTTP: fine for a public repository, but a token would cross the network \
             unencrypted)"
                .to_string()
        }
        Transport::Git => "a `git://` repository".to_string(),
        Transport::File => "a local repository".to_string(),
        Transport::Ssh => "an SSH repository".to_string(),
    };
    format!("no knownHosts is needed for {kind}: it has no SSH host key")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(arg: &str, expected: Result<Option<&str>, &str>) {
        let result = Target::from_host_arg(arg).map(|remote| match remote {
            Remote::Ssh(target) => Some(target.host_field()),
            Remote::NoHostKey(_) => None,
        });
        match (result, expected) {
            (Ok(field), Ok(want)) => assert_eq!(field.as_deref(), want, "{arg}"),
            (Err(error), Err(needle)) => {
                assert_eq!(error.code, airflow_kit_core::ExitCode::BadInput);
                assert!(error.message.contains(needle), "{arg}: {}", error.message);
                assert!(error.hint.is_some());
            }
            (got, want) => panic!("{arg}: got {got:?}, want {want:?}"),
        }
    }

    #[test]
    fn hosts_and_urls() {
        check("github.com", Ok(Some("github.com")));
        check("ssh.github.com:443", Ok(Some("[ssh.github.com]:443")));
        check("[::1]:2222", Ok(Some("[::1]:2222")));
        check("::1", Ok(Some("::1")));
        check("git@github.com:me/dags.git", Ok(Some("github.com")));
        check("ssh://git@ssh.github.com:443/me/dags.git", Ok(Some("[ssh.github.com]:443")));
        check("https://github.com/me/dags.git", Ok(None));
        check("host:port", Err("not a port number"));
        check(":22", Err("names no host"));
        check("git@:me/dags.git", Err("names no host"));
    }
}
