//! Whether the values keep git-sync's host key checking on. The chart (1.20.0,
//! `templates/_helpers.yaml`) sets `GIT_KNOWN_HOSTS` to "false" for an SSH repository when
//! `dags.gitSync.knownHosts` is empty or missing: git-sync would then talk to any server that
//! answers for the repository's host. preflight and upgrade refuse such values before helm
//! runs, unless `--allow-no-known-hosts` acknowledges it.

use airflow_kit_core::git_url::GitUrl;
use airflow_kit_core::{Document, Error, Node};

/// What the values mean for host key checking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostKeyChecking {
    /// On (a knownHosts block for an SSH repository), or nothing to check: git-sync off, no
    /// repository, or one without SSH host keys (HTTPS, ...).
    Fine,
    /// Off: the chart will set `GIT_KNOWN_HOSTS=false`. The text says why, for a message.
    Off(String),
}

/// Reads `dags.gitSync` of the values. A repository URL that cannot be read while knownHosts
/// is empty is bad input: without it we cannot tell whether host key checking is off.
pub fn host_key_checking(values: &Document) -> Result<HostKeyChecking, Error> {
    let git_sync = |key: &str| values.root.get_path(&["dags", "gitSync", key]);
    // `enabled: false` written out: no git-sync container at all, whatever the chart's default.
    if git_sync("enabled").and_then(Node::as_bool) == Some(false) {
        return Ok(HostKeyChecking::Fine);
    }
    let known_hosts_empty = match git_sync("knownHosts") {
        None => true,
        Some(node) if node.is_null() => true,
        // The chart tests the value's truth: only the empty string is false. Anything else
        // that is not a block of lines is the schema's to refuse (`helm template`).
        Some(node) => node.as_str().is_some_and(str::is_empty),
    };
    if !known_hosts_empty {
        return Ok(HostKeyChecking::Fine);
    }
    let Some(repo) = git_sync("repo").and_then(Node::as_str).filter(|repo| !repo.is_empty()) else {
        return Ok(HostKeyChecking::Fine);
    };
    let url = GitUrl::parse(repo).map_err(|error| {
        let message = format!(
            "`dags.gitSync.repo`: {}; with `dags.gitSync.knownHosts` empty, helm-run cannot tell whether host key \
             checking would be off",
            error.message
        );
        Error { message, ..error }
    })?;
    let Some(field) = url.known_hosts_field() else {
        return Ok(HostKeyChecking::Fine);
    };
    Ok(HostKeyChecking::Off(format!(
        "`dags.gitSync.repo` is an SSH URL (`{repo}`) and `dags.gitSync.knownHosts` is empty or missing: the chart \
         then turns git-sync's host key checking off, so any server answering as `{field}` would be trusted"
    )))
}

/// The refusal preflight and upgrade give for `HostKeyChecking::Off`, with the fix.
pub fn refusal(why: &str) -> Error {
    Error::refused(why.to_string()).with_hint(
        "pin the host's keys into the values first: `known-hosts -f values.yaml | values-merge --in-place \
         values.yaml -` (`cargo xtask install` does it); to deploy with host key checking off anyway, pass \
         `--allow-no-known-hosts`",
    )
}

/// The warning when `--allow-no-known-hosts` acknowledged it (stderr and the report).
pub fn acknowledged_warning(why: &str) -> String {
    format!("{why} (acknowledged with `--allow-no-known-hosts`)")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(values: &str, off: bool) {
        let document = Document::parse(values, "v.yaml").expect("parses");
        let found = host_key_checking(&document).unwrap_or_else(|error| panic!("{values}: {error:?}"));
        assert_eq!(matches!(found, HostKeyChecking::Off(_)), off, "{values}: {found:?}");
    }

    #[test]
    fn off_exactly_when_the_chart_turns_checking_off() {
        let ssh = "dags:\n  gitSync:\n    enabled: true\n    repo: git@github.com:me/dags.git\n";
        check(ssh, true);
        check(&format!("{ssh}    knownHosts: \"\"\n"), true);
        check(&format!("{ssh}    knownHosts: ~\n"), true);
        check(&format!("{ssh}    knownHosts: |\n      github.com ssh-ed25519 AAAA\n"), false);
        check(&ssh.replace("git@github.com:me/dags.git", "ssh://git@ssh.github.com:443/me/dags.git"), true);
        check(&ssh.replace("git@github.com:me/dags.git", "https://github.com/me/dags.git"), false);
        check(&ssh.replace("enabled: true", "enabled: no"), false);
        // Not written out: the chart's default decides, and a chart may turn it on.
        check(&ssh.replace("    enabled: true\n", ""), true);
        check("dags:\n  gitSync:\n    enabled: true\n", false);
        check("", false);
    }

    #[test]
    fn an_unreadable_repository_with_no_known_hosts_is_bad_input() {
        let document =
            Document::parse("dags:\n  gitSync:\n    repo: 'ftp://host/dags.git'\n", "v.yaml").expect("parses");
        let error = host_key_checking(&document).expect_err("unreadable");
        assert_eq!(error.code, airflow_kit_core::ExitCode::BadInput);
        assert!(error.message.starts_with("`dags.gitSync.repo`: "), "{}", error.message);
        let refusal = refusal("why");
        assert_eq!(refusal.code, airflow_kit_core::ExitCode::Refused);
        assert!(refusal.hint.as_deref().is_some_and(|hint| hint.contains("--allow-no-known-hosts")));
    }
}
