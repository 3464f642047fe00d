//! Asking the server for its host keys with the real `ssh-keyscan`: one run for all key
//! types, with its own timeout (`-T`) and ours, so an unreachable host fails in bounded time.

use std::ffi::OsString;
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use airflow_kit_core::Error;
use airflow_kit_core::process::{Command, run};

use crate::KeyKind;
use crate::Target;
use crate::entry::{HostKey, parse_line};

/// How to scan: which program, which key types, and how long to wait in all.
#[derive(Debug, Clone)]
pub struct ScanConfig {
    pub program: OsString,
    pub kinds: Vec<KeyKind>,
    pub timeout: Duration,
}

/// Runs `ssh-keyscan` once for every requested type and parses what it printed.
pub fn scan(target: &Target, config: &ScanConfig) -> Result<Vec<HostKey>, Error> {
    let command = keyscan_command(target, config);
    let started = Instant::now();
    let output = run(&command).map_err(|error| {
        if error.message.contains("did not finish") {
            unreachable_error(target, config, "ssh-keyscan got no answer in time")
        } else {
            error
        }
    })?;
    let mut keys = Vec::new();
    for line in output.stdout_text().lines() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let parsed = parse_line(trimmed).map_err(|problem| {
            Error::external(format!("`ssh-keyscan` printed a line that cannot be read: {}", problem.reason()))
                .with_detail(trimmed.to_string())
                .with_hint("check that the server is an SSH server and that `ssh-keyscan` works by hand")
        })?;
        keys.push(parsed.key);
    }
    if keys.is_empty() {
        let remaining = config.timeout.saturating_sub(started.elapsed());
        let reason = diagnose_connection(target, remaining);
        return Err(unreachable_error(target, config, &reason).with_detail(clean_stderr(&output.stderr_text())));
    }
    Ok(keys)
}

/// The `ssh-keyscan` command line: `-T` in whole seconds (at least 1), `-p`, `-t` all types.
pub fn keyscan_command(target: &Target, config: &ScanConfig) -> Command {
    let seconds = config.timeout.as_secs_f64().ceil().max(1.0) as u64;
    let kinds: Vec<&str> = config.kinds.iter().map(|kind| kind.keyscan_name()).collect();
    Command::new(&config.program)
        .arg("-T")
        .arg(seconds.to_string())
        .arg("-p")
        .arg(target.port.to_string())
        .arg("-t")
        .arg(kinds.join(","))
        .arg(&target.host)
        .timeout(config.timeout)
}

/// ssh-keyscan says nothing when a port is closed; a direct connection attempt tells a
/// person which of DNS, firewall or port is at fault.
fn diagnose_connection(target: &Target, remaining: Duration) -> String {
    let addresses = match (target.host.as_str(), target.port).to_socket_addrs() {
        Ok(addresses) => addresses.collect::<Vec<_>>(),
        Err(error) => return format!("`{}` does not resolve ({error})", target.host),
    };
    let Some(address) = addresses.first() else {
        return format!("`{}` resolves to no address", target.host);
    };
    let wait = remaining.max(Duration::from_millis(200)).min(Duration::from_secs(3));
    match TcpStream::connect_timeout(address, wait) {
        Ok(_) => format!("port {} is open but answered with no SSH host key", target.port),
        Err(error) if error.kind() == std::io::ErrorKind::ConnectionRefused => {
            format!("connection to {address} refused: nothing listens on port {}", target.port)
        }
        Err(error) => format!("cannot connect to {address}: {}", airflow_kit_core::fs::plain_io_error(&error)),
    }
}

fn unreachable_error(target: &Target, config: &ScanConfig, reason: &str) -> Error {
    Error::external(format!(
        "no host key from `{}` (port {}) within {}: {reason}",
        target.host,
        target.port,
        airflow_kit_core::duration::format(config.timeout)
    ))
    .with_hint(format!(
        "check the host name (DNS), that a firewall lets this machine reach port {port}, and that {port} is the \
         SSH port (`ssh -p {port} {host}`); GitHub also answers on `ssh://git@ssh.github.com:443/...`",
        port = target.port,
        host = target.host
    ))
}

/// ssh-keyscan's stderr without its `# host:port SSH-2.0-...` banners, and each message once:
/// it repeats a failure for every key type it tried.
fn clean_stderr(stderr: &str) -> String {
    let mut lines: Vec<&str> = Vec::new();
    for line in stderr.lines().filter(|line| !line.starts_with('#')) {
        if !lines.contains(&line) {
            lines.push(line);
        }
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_run_for_all_types_with_both_timeouts() {
        let target = Target { host: "git.example.com".into(), port: 2222 };
        let config = ScanConfig {
            program: "ssh-keyscan".into(),
            kinds: vec![KeyKind::Ed25519, KeyKind::Ecdsa, KeyKind::Rsa],
            timeout: Duration::from_millis(1500),
        };
        let command = keyscan_command(&target, &config);
        assert_eq!(command.display(), "ssh-keyscan -T 2 -p 2222 -t ed25519,ecdsa,rsa git.example.com");
        assert_eq!(command.timeout, Some(Duration::from_millis(1500)));
    }

    #[test]
    fn stderr_is_shown_once_without_banners() {
        let stderr = "# h:22 SSH-2.0-OpenSSH_9.2\ngetaddrinfo h: unknown\ngetaddrinfo h: unknown\n";
        assert_eq!(clean_stderr(stderr), "getaddrinfo h: unknown");
    }
}
