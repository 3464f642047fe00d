//! known-hosts: scan a Git host's SSH keys, accept only those whose fingerprints the provider
//! publishes (or the user pinned), and write them to `dags.gitSync.knownHosts`; `verify`
//! checks an existing block or known_hosts file line by line.

pub mod cli;
pub mod entry;
pub mod invoke;
pub mod published;
pub mod scan;
pub mod target;

use std::time::Duration;

use airflow_kit_core::{Document, Error, ExitCode, Location, Node, ScalarStyle};
use serde::{Deserialize, Serialize};

pub use entry::{HostKey, KnownHostsLine, LineProblem, parse_known_hosts};
pub use scan::ScanConfig;
pub use target::{Remote, Target};

/// Where the tool keeps its verified lines in a values document.
pub const KNOWN_HOSTS_PATH: [&str; 3] = ["dags", "gitSync", "knownHosts"];
const REPO_PATH: [&str; 3] = ["dags", "gitSync", "repo"];

/// The key types `ssh-keyscan -t` knows, in the order lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum KeyKind {
    Ed25519,
    Ecdsa,
    Rsa,
}

impl KeyKind {
    pub const ALL: [KeyKind; 3] = [KeyKind::Ed25519, KeyKind::Ecdsa, KeyKind::Rsa];

    pub fn keyscan_name(self) -> &'static str {
        match self {
            KeyKind::Ed25519 => "ed25519",
            KeyKind::Ecdsa => "ecdsa",
            KeyKind::Rsa => "rsa",
        }
    }

    /// The kind of an OpenSSH key type name (`ssh-ed25519`, `ecdsa-sha2-nistp256`, `ssh-rsa`).
    pub fn of_key_type(key_type: &str) -> Option<KeyKind> {
        match key_type {
            "ssh-ed25519" => Some(KeyKind::Ed25519),
            "ssh-rsa" => Some(KeyKind::Rsa),
            _ if key_type.starts_with("ecdsa-sha2-") => Some(KeyKind::Ecdsa),
            _ => None,
        }
    }
}

/// Whether a key may be trusted, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The provider serving this host publishes the fingerprint.
    Published(&'static str),
    /// The user pinned the fingerprint with `--expect-fingerprint`.
    Expected,
    /// A key the provider replaced; the text names the rotation and its date.
    Rotated(&'static str),
    Unverified(String),
}

impl Verdict {
    pub fn accepted(&self) -> bool {
        matches!(self, Verdict::Published(_) | Verdict::Expected)
    }

    pub fn line_verdict(&self) -> LineVerdict {
        match self {
            Verdict::Published(_) => LineVerdict::Published,
            Verdict::Expected => LineVerdict::Expected,
            Verdict::Rotated(_) => LineVerdict::Rotated,
            Verdict::Unverified(_) => LineVerdict::Unverified,
        }
    }

    pub fn name(&self) -> &'static str {
        self.line_verdict().name()
    }

    pub fn reason(&self) -> String {
        match self {
            Verdict::Published(provider) => format!("published by {provider}"),
            Verdict::Expected => "matches `--expect-fingerprint`".to_string(),
            Verdict::Rotated(description) => format!("refused: {description}"),
            Verdict::Unverified(reason) => reason.clone(),
        }
    }
}

/// Judges a key offered for `hosts` (host patterns of a line, or the one target host).
pub fn judge(hosts: &[String], key: &HostKey, expected: &[String]) -> Verdict {
    if let Some(rotation) = published::rotated(&key.fingerprint) {
        return Verdict::Rotated(rotation.description);
    }
    if expected.iter().any(|fingerprint| fingerprint == &key.fingerprint) {
        return Verdict::Expected;
    }
    let names: Vec<String> = hosts.iter().filter_map(|pattern| host_name_of_pattern(pattern)).collect();
    for name in &names {
        if let Some(provider) = published::provider_for_host(name)
            && provider.keys.iter().any(|published| published.fingerprint == key.fingerprint)
        {
            return Verdict::Published(provider.name);
        }
    }
    let shown = names.join(", ");
    if let Some(provider) = published::provider_publishing(&key.fingerprint) {
        return Verdict::Unverified(format!(
            "not published for `{shown}`: this is {}'s key ({}); not expected: no `--expect-fingerprint` matches it",
            provider.name,
            provider.hosts.join(", ")
        ));
    }
    match names.iter().find_map(|name| published::provider_for_host(name)) {
        Some(provider) => Verdict::Unverified(format!(
            "not published: {} does not publish this fingerprint for `{shown}` (someone may be intercepting the \
             connection); not expected: no `--expect-fingerprint` matches it",
            provider.name
        )),
        None => Verdict::Unverified(format!(
            "not published: no provider publishes keys for `{shown}`; not expected: no `--expect-fingerprint` \
             matches it"
        )),
    }
}

/// Which host to pin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetChoice {
    /// A `HOST[:PORT]` argument.
    Host(String),
    /// `--repo URL`.
    Repo(String),
    /// `dags.gitSync.repo` of the document (or, with `--from`, the one host its lines name).
    Document,
}

/// Where the keys come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    Scan,
    /// Known_hosts text read from `name` (`--from FILE`), for offline use.
    Lines {
        name: String,
        text: String,
    },
}

/// Everything `known-hosts` (the filter) needs, resolved from flags.
#[derive(Debug, Clone)]
pub struct PinConfig {
    pub target: TargetChoice,
    pub keys: KeySource,
    /// Only these key types (`--type`); all three when empty.
    pub kinds: Vec<KeyKind>,
    /// `--expect-fingerprint` values, already checked to be `SHA256:...`.
    pub expected: Vec<String>,
    pub keyscan_program: std::ffi::OsString,
    pub timeout: Duration,
}

/// A key and what we made of it.
pub type Judged = (HostKey, Verdict);

/// What the filter did.
#[derive(Debug, Clone)]
pub enum PinOutcome {
    /// `dags.gitSync.knownHosts` was set to the verified keys.
    Pinned(Pinned),
    /// The repository is not reached over SSH (HTTPS, HTTP, `git://`, local), so there is no
    /// host key: the document is left exactly as it was. `note` is the line for stderr.
    NoHostKey { transport: airflow_kit_core::git_url::Transport, note: String },
}

/// The host field written, the keys pinned and the keys left out (each with its verdict),
/// and the block.
#[derive(Debug, Clone)]
pub struct Pinned {
    pub host_field: String,
    /// The verified keys, in the order of the block.
    pub keys: Vec<Judged>,
    /// Offered keys that are neither published nor expected: not pinned, named on stderr.
    pub left_out: Vec<Judged>,
    pub block: String,
    /// Things a person should know, for stderr.
    pub notes: Vec<String>,
}

/// Scans (or reads) the target's keys, verifies every one, and sets `dags.gitSync.knownHosts`
/// in `document` to the verified ones. Keys that are neither published nor expected are left
/// out (the manual procedure checks one key type out of band; ssh then negotiates the type it
/// holds a line for). Refuses (exit 4, the document left as it was) when no offered key is
/// verified, or when any offered key is one a provider rotated away from.
pub fn pin(config: &PinConfig, document: &mut Node) -> Result<PinOutcome, Error> {
    check_expected_fingerprints(&config.expected)?;
    // Fail on a document we could not write into before scanning anything.
    document.clone().set_path(&KNOWN_HOSTS_PATH, Node::string("x\n"))?;
    let lines = match &config.keys {
        KeySource::Scan => None,
        KeySource::Lines { name, text } => Some(read_from_lines(name, text)?),
    };
    let mut notes = Vec::new();
    let target = match resolve_target(config, document, lines.as_deref(), &mut notes)? {
        Remote::Ssh(target) => target,
        Remote::NoHostKey(transport) => {
            let note = format!("{}; the document passes through unchanged", target::no_host_key_note(transport));
            return Ok(PinOutcome::NoHostKey { transport, note });
        }
    };
    let host_field = target.host_field();
    let kinds = if config.kinds.is_empty() { KeyKind::ALL.to_vec() } else { config.kinds.clone() };

    let offered: Vec<HostKey> = match (&config.keys, lines) {
        (KeySource::Lines { name, .. }, Some(lines)) => keys_for_target(name, &lines, &target, &mut notes)?,
        _ => {
            let scan_config =
                ScanConfig { program: config.keyscan_program.clone(), kinds: kinds.clone(), timeout: config.timeout };
            scan::scan(&target, &scan_config)?
        }
    };
    let mut keys: Vec<HostKey> = Vec::new();
    for key in offered {
        let wanted = KeyKind::of_key_type(&key.key_type).is_some_and(|kind| kinds.contains(&kind));
        if wanted && !keys.iter().any(|seen| seen.fingerprint == key.fingerprint) {
            keys.push(key);
        }
    }
    if keys.is_empty() {
        let types: Vec<&str> = kinds.iter().map(|kind| kind.keyscan_name()).collect();
        return Err(Error::bad_input(format!("no host key of type {} for `{host_field}`", types.join(", ")))
            .with_hint("drop `--type`, or check that the lines are for this host"));
    }
    keys.sort_by_key(|key| (KeyKind::of_key_type(&key.key_type), key.key_type.clone(), key.base64.clone()));
    let host_names = vec![target.host.to_ascii_lowercase()];
    let judged: Vec<(HostKey, Verdict)> =
        keys.into_iter().map(|key| (key.clone(), judge(&host_names, &key, &config.expected))).collect();

    // A rotated key is a refusal even next to verified ones: whoever serves it is not the
    // provider as it is today.
    if let Some((key, Verdict::Rotated(description))) =
        judged.iter().find(|(_, verdict)| matches!(verdict, Verdict::Rotated(_)))
    {
        return Err(Error::refused(format!(
            "refusing the {} key {} for `{host_field}`: {description}",
            key.key_type, key.fingerprint
        ))
        .with_hint(
            "this key was replaced; a known_hosts line carrying it fails with \"REMOTE HOST IDENTIFICATION HAS \
             CHANGED\"; scan the host again, or take the current lines from the provider's documentation",
        ));
    }
    let (verified, left_out): (Vec<Judged>, Vec<Judged>) =
        judged.into_iter().partition(|(_, verdict)| verdict.accepted());
    if verified.is_empty() {
        let unverified: Vec<&(HostKey, Verdict)> = left_out.iter().collect();
        return Err(unverified_error(&host_field, &target, &unverified));
    }
    for expected in &config.expected {
        if !verified.iter().any(|(key, _)| &key.fingerprint == expected) {
            notes.push(format!("`--expect-fingerprint {expected}` matched no key of `{host_field}`"));
        }
    }

    let block: String =
        verified.iter().map(|(key, _)| format!("{host_field} {} {}\n", key.key_type, key.base64)).collect();
    if let Some(old) = document.get_path(&KNOWN_HOSTS_PATH).and_then(Node::as_str)
        && old != block
        && !old.trim().is_empty()
    {
        notes.push("replaced the previous `dags.gitSync.knownHosts`".to_string());
    }
    document.set_path(&KNOWN_HOSTS_PATH, Node::string(block.clone()))?;
    Ok(PinOutcome::Pinned(Pinned { host_field, keys: verified, left_out, block, notes }))
}

/// What `known-hosts verify` needs beyond the input.
#[derive(Debug, Clone, Default)]
pub struct VerifyConfig {
    pub expected: Vec<String>,
    /// `--repo URL`: the repository whose host every line must be for; None takes the
    /// document's `dags.gitSync.repo` (a plain known_hosts file then has no host to check).
    pub repo: Option<String>,
}

/// The verdict on one line of a verify report, as the report spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LineVerdict {
    Published,
    Expected,
    Rotated,
    Unverified,
    /// A `|1|` line: the host name is hidden.
    Hashed,
    /// An `@cert-authority` or `@revoked` line.
    Unsupported,
    Unreadable,
    /// A host pattern (`*`, `?`, `!`): ssh would apply the key to hosts nobody checked.
    Pattern,
    /// A line for another host field than the repository's.
    #[serde(rename = "other-host")]
    OtherHost,
}

impl LineVerdict {
    pub fn accepted(self) -> bool {
        matches!(self, LineVerdict::Published | LineVerdict::Expected)
    }

    pub fn name(self) -> &'static str {
        match self {
            LineVerdict::Published => "published",
            LineVerdict::Expected => "expected",
            LineVerdict::Rotated => "rotated",
            LineVerdict::Unverified => "unverified",
            LineVerdict::Hashed => "hashed",
            LineVerdict::Unsupported => "unsupported",
            LineVerdict::Unreadable => "unreadable",
            LineVerdict::Pattern => "pattern",
            LineVerdict::OtherHost => "other-host",
        }
    }
}

impl std::fmt::Display for LineVerdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One line of a verify report. Field names (serde) are the report's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportLine {
    /// Line number within the known_hosts text (the `knownHosts` block for a document).
    pub line: usize,
    /// Line number within the values document, when the block is a literal block.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document_line: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub key_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    pub verdict: LineVerdict,
    pub reason: String,
}

/// What `verify` read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReportFormat {
    #[serde(rename = "known_hosts")]
    KnownHosts,
    #[serde(rename = "values (dags.gitSync.knownHosts)")]
    Values,
}

/// The report `known-hosts verify` prints (through core's `report::to_yaml`): one entry per
/// line, the counts, and a problem with the whole input (an empty or missing block) when
/// there is one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub source: String,
    pub format: ReportFormat,
    /// The host field every line had to be for (`github.com`, `[host]:port`), from `--repo`
    /// or the document's `dags.gitSync.repo`; absent when neither names an SSH server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// True when every line is accepted and there is at least one, or when the document's
    /// repository has no SSH host key and its knownHosts is empty, so none is needed.
    pub verified: bool,
    pub accepted: usize,
    pub refused: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
    /// Something a person should know that is not a failure (a repository without host keys).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub lines: Vec<ReportLine>,
}

impl Report {
    /// A report on `lines`, with the counts and the verdict computed from them.
    pub fn new(source: &str, format: ReportFormat, lines: Vec<ReportLine>, problem: Option<String>) -> Report {
        let accepted = lines.iter().filter(|line| line.verdict.accepted()).count();
        Report {
            source: source.to_string(),
            format,
            host: None,
            verified: problem.is_none() && !lines.is_empty() && accepted == lines.len(),
            accepted,
            refused: lines.len() - accepted,
            problem,
            note: None,
            lines,
        }
    }

    /// True when the check passed.
    pub fn passed(&self) -> bool {
        self.verified
    }

    pub fn exit_code(&self) -> ExitCode {
        if self.passed() { ExitCode::Success } else { ExitCode::No }
    }
}

/// Checks a values document's `dags.gitSync.knownHosts`, or a plain known_hosts file (told
/// apart by content), line by line. Every line must be for the repository's host (`--repo`,
/// else the document's `dags.gitSync.repo`: the exact host field ssh looks up), name no host
/// pattern, and carry a key that is published for that host or expected.
pub fn verify(text: &str, name: &str, config: &VerifyConfig) -> Result<Report, Error> {
    check_expected_fingerprints(&config.expected)?;
    // `--repo` first: a URL we cannot read is the caller's mistake (exit 2), whatever the input.
    let flag_remote = match &config.repo {
        Some(url) => Some(Target::from_repo_url(url).map_err(|error| {
            let message = format!("`--repo`: {}", error.message);
            Error { message, ..error }
        })?),
        None => None,
    };
    if looks_like_known_hosts(text) {
        let host_field = match &flag_remote {
            Some(Remote::Ssh(target)) => Some(target.host_field()),
            _ => None,
        };
        let lines = judge_lines(text, None, &config.expected, host_field.as_deref());
        let problem = lines.is_empty().then(|| "the file has no known_hosts lines".to_string());
        let mut report = Report::new(name, ReportFormat::KnownHosts, lines, problem);
        report.host = host_field;
        if let Some(Remote::NoHostKey(transport)) = flag_remote {
            report.note = Some(format!("`--repo` is a {transport} repository: git-sync does not use knownHosts"));
        }
        return Ok(report);
    }
    let document = Document::parse(text, name)?;
    let format = ReportFormat::Values;
    let document_repo = document.root.get_path(&REPO_PATH).and_then(Node::as_str).filter(|repo| !repo.is_empty());
    let mut notes = Vec::new();
    let remote = match (flag_remote, document_repo) {
        (Some(remote), document_repo) => {
            if let Some(repo) = document_repo
                && Target::from_repo_url(repo).ok().as_ref() != Some(&remote)
            {
                notes.push(format!("`--repo` overrides `dags.gitSync.repo` ({repo}) for the host to check"));
            }
            Some(Ok(remote))
        }
        (None, Some(repo)) => Some(Target::from_repo_url(repo)),
        (None, None) => None,
    };
    let remote = match remote {
        Some(Ok(remote)) => Some(remote),
        Some(Err(error)) => {
            // Without the repository's host there is nothing to check the lines against.
            let problem = format!(
                "`dags.gitSync.repo` cannot be read ({}), so the lines cannot be checked against its host",
                error.message
            );
            return Ok(Report::new(name, format, Vec::new(), Some(problem)));
        }
        None => None,
    };
    let (host_field, no_host_key) = match &remote {
        Some(Remote::Ssh(target)) => (Some(target.host_field()), None),
        Some(Remote::NoHostKey(transport)) => (None, Some(*transport)),
        None => (None, None),
    };
    let node = document.root.get_path(&KNOWN_HOSTS_PATH).filter(|node| !node.is_null());
    let block_is_empty = node.and_then(Node::as_str).is_some_and(|block| parse_known_hosts(block).is_empty());
    if let Some(transport) = no_host_key
        && (node.is_none() || block_is_empty)
    {
        let mut report = Report::new(name, format, Vec::new(), None);
        report.verified = true;
        notes.push(target::no_host_key_note(transport));
        report.note = Some(notes.join("; "));
        return Ok(report);
    }
    let Some(node) = node else {
        let problem = "`dags.gitSync.knownHosts` is not set: with an empty knownHosts the chart turns host key \
                       checking off";
        let mut report = Report::new(name, format, Vec::new(), Some(problem.to_string()));
        report.host = host_field;
        return Ok(report);
    };
    let Some(block) = node.as_str() else {
        let at = node.span.map(|span| format!(" (line {})", span.start.line)).unwrap_or_default();
        return Err(Error::bad_input(format!("`dags.gitSync.knownHosts` in `{name}`{at} is not a string"))
            .with_hint("knownHosts is a block of known_hosts lines: `knownHosts: |` and one line per key below"));
    };
    // A literal block's span starts at its first content line, so line N of the text is
    // N - 1 lines below that.
    let first_line = match (node.as_scalar().map(|scalar| scalar.style), node.span) {
        (Some(ScalarStyle::Literal), Some(span)) => Some(span.start.line.saturating_sub(1)),
        _ => None,
    };
    let lines = judge_lines(block, first_line, &config.expected, host_field.as_deref());
    let problem = lines.is_empty().then(|| {
        "`dags.gitSync.knownHosts` holds no key lines: with an empty knownHosts the chart turns host key checking \
         off"
        .to_string()
    });
    let mut report = Report::new(name, format, lines, problem);
    report.host = host_field;
    if let Some(transport) = no_host_key {
        notes.push(format!("the repository is a {transport} repository: git-sync does not use knownHosts"));
    }
    if !notes.is_empty() {
        report.note = Some(notes.join("; "));
    }
    Ok(report)
}

/// Refuses anything but `SHA256:` + 43 base64 characters, before anything else runs.
pub fn check_expected_fingerprints(expected: &[String]) -> Result<(), Error> {
    for fingerprint in expected {
        if !entry::is_sha256_fingerprint(fingerprint) {
            let hint = if fingerprint.starts_with("MD5:") || fingerprint.matches(':').count() > 10 {
                "that is an MD5 fingerprint; get the SHA256 one with `ssh-keygen -lf KEYFILE` on the server"
            } else {
                "a fingerprint looks like `SHA256:` and 43 characters, as `ssh-keygen -lf KEYFILE` prints it"
            };
            return Err(
                Error::bad_input(format!("`{fingerprint}` is not a SHA256 host key fingerprint")).with_hint(hint)
            );
        }
    }
    Ok(())
}

/// Judges every line; with `host_field` (the repository's), a line must name exactly that
/// host field among its hosts and its key is judged for that host alone.
fn judge_lines(
    text: &str,
    first_line: Option<usize>,
    expected: &[String],
    host_field: Option<&str>,
) -> Vec<ReportLine> {
    parse_known_hosts(text)
        .into_iter()
        .map(|numbered| {
            let document_line = first_line.map(|start| start + numbered.number);
            match numbered.result {
                Ok(line) => {
                    let (verdict, reason) = match host_verdict(&line, host_field) {
                        Some(refused) => refused,
                        None => {
                            let verdict = match host_field {
                                Some(field) => judge(&[field.to_string()], &line.key, expected),
                                None => judge(&line.hosts, &line.key, expected),
                            };
                            (verdict.line_verdict(), verdict.reason())
                        }
                    };
                    ReportLine {
                        line: numbered.number,
                        document_line,
                        host: Some(line.host_field),
                        key_type: Some(line.key.key_type),
                        fingerprint: Some(line.key.fingerprint),
                        verdict,
                        reason,
                    }
                }
                Err(problem) => {
                    let raw = text.lines().nth(numbered.number - 1).unwrap_or_default();
                    let mut fields = raw.split_whitespace();
                    ReportLine {
                        line: numbered.number,
                        document_line,
                        host: fields.next().map(str::to_string),
                        key_type: fields.next().map(str::to_string),
                        fingerprint: None,
                        verdict: problem.line_verdict(),
                        reason: problem.reason(),
                    }
                }
            }
        })
        .collect()
}

/// Why a line's host field is refused before its key is looked at: a host pattern (ssh would
/// trust the key for every host the pattern matches, none of which was checked), or, when the
/// repository's host field is known, a line that does not name it (ssh looks keys up by that
/// exact field, so git-sync would not use the line).
fn host_verdict(line: &KnownHostsLine, host_field: Option<&str>) -> Option<(LineVerdict, String)> {
    if let Some(pattern) = line.hosts.iter().find(|host| host.starts_with('!')) {
        return Some((
            LineVerdict::Pattern,
            format!(
                "`{pattern}` is a negated pattern: a pinned line names the one host it is for; write the line for \
                 the repository's host alone"
            ),
        ));
    }
    if let Some(pattern) = line.hosts.iter().find(|host| host.contains(['*', '?'])) {
        return Some((
            LineVerdict::Pattern,
            format!(
                "`{pattern}` is a wildcard pattern: ssh would trust this key for every host it matches, which no \
                 one checked; pin the repository's host by name (`known-hosts` writes the exact field)"
            ),
        ));
    }
    let field = host_field?;
    if line.hosts.iter().any(|host| host.eq_ignore_ascii_case(field)) {
        return None;
    }
    Some((
        LineVerdict::OtherHost,
        format!(
            "for `{}`, not for the repository's host `{field}`: ssh looks keys up by that exact host field \
             (`[host]:port` when the port is not 22), so git-sync would not use this line",
            line.host_field
        ),
    ))
}

/// True when the first significant line reads as a known_hosts line rather than YAML: a
/// hashed or marked line, or a second field that is an SSH key type.
fn looks_like_known_hosts(text: &str) -> bool {
    let Some(first) = text.lines().map(str::trim).find(|line| !line.is_empty() && !line.starts_with('#')) else {
        return false;
    };
    if first.starts_with("|1|") || first.starts_with("@cert-authority") || first.starts_with("@revoked") {
        return true;
    }
    let mut fields = first.split_whitespace();
    let host = fields.next().unwrap_or_default();
    let key_type = fields.next().unwrap_or_default();
    let is_key_type =
        |field: &str| field.starts_with("ssh-") || field.starts_with("ecdsa-") || field.starts_with("sk-");
    // A line that lost its host field still is a known_hosts line, to be reported as such.
    !host.ends_with(':') && (is_key_type(key_type) || is_key_type(host))
}

/// The host name in a host pattern (`github.com`, `[host]:port`), lowercase; None for a
/// negated pattern, which names a host the line does NOT apply to.
fn host_name_of_pattern(pattern: &str) -> Option<String> {
    if pattern.starts_with('!') {
        return None;
    }
    let name = match pattern.strip_prefix('[') {
        Some(rest) => rest.split_once(']').map_or(rest, |(name, _)| name),
        None => pattern,
    };
    Some(name.to_ascii_lowercase())
}

fn read_from_lines(name: &str, text: &str) -> Result<Vec<KnownHostsLine>, Error> {
    let mut lines = Vec::new();
    for numbered in parse_known_hosts(text) {
        match numbered.result {
            Ok(line) => lines.push(line),
            Err(problem) => {
                return Err(Error::bad_input(problem.reason())
                    .with_location(Location { file: name.to_string(), line: numbered.number, column: 1 })
                    .with_hint(
                        "`--from` reads known_hosts lines (`HOST TYPE KEY`, as `ssh-keyscan HOST` prints them); \
                         fix or remove this line",
                    ));
            }
        }
    }
    if lines.is_empty() {
        return Err(Error::bad_input(format!("`{name}` holds no known_hosts lines"))
            .with_hint("`--from` reads lines like `github.com ssh-ed25519 AAAA...`"));
    }
    Ok(lines)
}

fn resolve_target(
    config: &PinConfig,
    document: &Node,
    lines: Option<&[KnownHostsLine]>,
    notes: &mut Vec<String>,
) -> Result<Remote, Error> {
    let document_repo = document.get_path(&REPO_PATH).and_then(Node::as_str).filter(|repo| !repo.is_empty());
    match &config.target {
        TargetChoice::Host(host) => Target::from_host_arg(host),
        TargetChoice::Repo(url) => {
            let remote = Target::from_repo_url(url)?;
            if let Some(repo) = document_repo
                && Target::from_repo_url(repo).ok().as_ref() != Some(&remote)
            {
                notes.push(format!("`--repo` overrides `dags.gitSync.repo` ({repo}) for the host to pin"));
            }
            Ok(remote)
        }
        TargetChoice::Document => {
            if let Some(repo) = document_repo {
                return Target::from_repo_url(repo).map_err(|error| {
                    let message = format!("`dags.gitSync.repo`: {}", error.message);
                    Error { message, ..error }
                });
            }
            if let Some(lines) = lines {
                return target_of_lines(lines).map(Remote::Ssh);
            }
            Err(Error::bad_input("no host to pin: `dags.gitSync.repo` is not set in the document")
                .with_hint("pass `--repo git@github.com:me/dags.git`, or a host: `known-hosts github.com`"))
        }
    }
}

/// The one host a `--from` file is about, when no target was named.
fn target_of_lines(lines: &[KnownHostsLine]) -> Result<Target, Error> {
    let mut fields: Vec<String> = lines.iter().map(|line| line.host_field.to_ascii_lowercase()).collect();
    fields.dedup();
    fields.sort();
    fields.dedup();
    if fields.len() != 1 || fields[0].contains(',') {
        return Err(Error::bad_input(format!("the `--from` lines name several hosts ({})", fields.join(" ")))
            .with_hint("say which one to pin: `--repo URL` or a `HOST[:PORT]` argument"));
    }
    match Target::from_host_arg(&fields[0])? {
        Remote::Ssh(target) => Ok(target),
        Remote::NoHostKey(_) => Err(Error::bad_input(format!("`{}` is not a known_hosts host field", fields[0]))
            .with_hint("a known_hosts line starts with `host` or `[host]:port`")),
    }
}

/// The keys of the `--from` lines that are for the target: lines naming its exact host field;
/// failing that, lines for another host name of the same provider (GitHub's published
/// `github.com` lines are the keys of `[ssh.github.com]:443` too). Either way each key is
/// still judged by its fingerprint for the target host.
fn keys_for_target(
    name: &str,
    lines: &[KnownHostsLine],
    target: &Target,
    notes: &mut Vec<String>,
) -> Result<Vec<HostKey>, Error> {
    let host_field = target.host_field();
    let mut keys: Vec<HostKey> = lines
        .iter()
        .filter(|line| line.hosts.iter().any(|host| host.eq_ignore_ascii_case(&host_field)))
        .map(|line| line.key.clone())
        .collect();
    if keys.is_empty()
        && let Some(provider) = published::provider_for_host(&target.host)
    {
        keys = lines
            .iter()
            .filter(|line| {
                line.hosts
                    .iter()
                    .filter_map(|host| host_name_of_pattern(host))
                    .any(|host| provider.hosts.contains(&host.as_str()))
            })
            .map(|line| line.key.clone())
            .collect();
        if !keys.is_empty() {
            notes.push(format!(
                "no line of `{name}` names `{host_field}`; using its {} lines, written for `{host_field}`",
                provider.name
            ));
        }
    }
    if keys.is_empty() {
        let mut named: Vec<&str> = lines.iter().map(|line| line.host_field.as_str()).collect();
        named.dedup();
        return Err(Error::bad_input(format!("no line of `{name}` is for `{host_field}`")).with_hint(format!(
            "the lines name {}; ssh looks keys up by the exact host field (`[host]:port` when the port is not 22)",
            named.join(", ")
        )));
    }
    Ok(keys)
}

fn unverified_error(host_field: &str, target: &Target, unverified: &[&(HostKey, Verdict)]) -> Error {
    let count = unverified.len();
    let detail: Vec<String> = unverified
        .iter()
        .map(|(key, verdict)| format!("{} {}  ({})", key.key_type, key.fingerprint, verdict.reason()))
        .collect();
    let provider = published::provider_for_host(&target.host);
    let hint = match provider {
        Some(provider) => format!(
            "{} publishes other fingerprints for this host: do not pin these; check the network path (proxy, \
             captive portal, DNS) and scan again",
            provider.name
        ),
        None => format!(
            "check these fingerprints out of band (on the server: `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub`), \
             then pass the ones you checked with `--expect-fingerprint SHA256:...` (repeatable; one is enough: \
             keys not checked are left out){}",
            if target.port == 22 { String::new() } else { format!("; the server listens on port {}", target.port) }
        ),
    };
    Error::refused(format!(
        "`{host_field}` offered {count} host key{} that match no published or expected fingerprint",
        if count == 1 { "" } else { "s" }
    ))
    .with_detail(detail.join("\n"))
    .with_hint(hint)
}

#[cfg(test)]
mod tests;
