//! Reading known_hosts lines ourselves, every one of them: `ssh-keygen -lf` silently skips a
//! line it cannot parse, so a corrupted paste would otherwise pass a check unnoticed.

use base64::Engine;
use sha2::Digest;

/// A parsed public host key: its type, the exact base64 text and SHA256 fingerprint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostKey {
    pub key_type: String,
    pub base64: String,
    /// `SHA256:` and the unpadded base64 of the SHA-256 of the key blob, as `ssh-keygen -lf`.
    pub fingerprint: String,
}

/// One readable known_hosts line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownHostsLine {
    /// The host field as written (`github.com`, `[host]:2222`, `a,b`).
    pub host_field: String,
    /// The host patterns of the field, split at commas.
    pub hosts: Vec<String>,
    pub key: HostKey,
}

/// Why a line cannot be used, in words for a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineProblem {
    /// `|1|salt|hash`: the host name is hidden, so it cannot be checked against anything.
    Hashed,
    /// `@cert-authority` or `@revoked`: not a host key of one server.
    Marker(String),
    Unreadable(String),
}

impl LineProblem {
    pub fn line_verdict(&self) -> crate::LineVerdict {
        match self {
            LineProblem::Hashed => crate::LineVerdict::Hashed,
            LineProblem::Marker(_) => crate::LineVerdict::Unsupported,
            LineProblem::Unreadable(_) => crate::LineVerdict::Unreadable,
        }
    }

    pub fn reason(&self) -> String {
        match self {
            LineProblem::Hashed => {
                "hashed host name (`|1|...`) cannot be checked against a host; write the plain host name".to_string()
            }
            LineProblem::Marker(marker) => {
                format!("`{marker}` lines are not host keys and cannot be checked against published fingerprints")
            }
            LineProblem::Unreadable(reason) => reason.clone(),
        }
    }
}

/// A non-blank, non-comment line of a known_hosts text, with its 1-based line number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberedLine {
    pub number: usize,
    pub result: Result<KnownHostsLine, LineProblem>,
}

/// Parses every line of a known_hosts text. Blank lines and `#` comments are skipped, but
/// still counted, so line numbers match the file.
pub fn parse_known_hosts(text: &str) -> Vec<NumberedLine> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| {
            let trimmed = line.trim();
            !trimmed.is_empty() && !trimmed.starts_with('#')
        })
        .map(|(index, line)| NumberedLine { number: index + 1, result: parse_line(line) })
        .collect()
}

/// Parses one known_hosts line: `HOSTS TYPE BASE64 [COMMENT]`.
pub fn parse_line(line: &str) -> Result<KnownHostsLine, LineProblem> {
    let line = line.strip_suffix('\r').unwrap_or(line);
    if line.contains('\r') || line.chars().any(|c| c.is_control() && c != '\t') {
        return Err(LineProblem::Unreadable("the line contains control characters".to_string()));
    }
    let fields: Vec<&str> = line.split_whitespace().collect();
    let Some(first) = fields.first() else {
        return Err(LineProblem::Unreadable("the line is empty".to_string()));
    };
    if first.starts_with('@') {
        return Err(LineProblem::Marker((*first).to_string()));
    }
    if first.starts_with("|1|") || first.starts_with('|') {
        return Err(LineProblem::Hashed);
    }
    if looks_like_key_type(first) {
        return Err(LineProblem::Unreadable(format!(
            "the host field is missing: the line starts with the key type `{first}`"
        )));
    }
    if fields.len() < 3 {
        return Err(LineProblem::Unreadable(format!(
            "expected `HOST TYPE KEY`, found {} field{}",
            fields.len(),
            if fields.len() == 1 { "" } else { "s" }
        )));
    }
    let host_field = fields[0];
    let hosts: Vec<String> = host_field.split(',').map(str::to_string).collect();
    if let Some(bad) = hosts.iter().find(|host| !valid_host_pattern(host)) {
        return Err(LineProblem::Unreadable(format!("`{bad}` is not a host name or `[host]:port`")));
    }
    let key = parse_key(fields[1], fields[2]).map_err(LineProblem::Unreadable)?;
    Ok(KnownHostsLine { host_field: host_field.to_string(), hosts, key })
}

/// Parses a key from its type and base64 text, checking that the blob is a well-formed
/// public key of that very type.
pub fn parse_key(key_type: &str, base64_text: &str) -> Result<HostKey, String> {
    if !looks_like_key_type(key_type) {
        return Err(format!("`{}` is not an SSH key type", shorten(key_type)));
    }
    let blob = base64::engine::general_purpose::STANDARD
        .decode(base64_text)
        .map_err(|error| format!("the key is not valid base64 ({error}); it may be truncated or corrupted"))?;
    let parsed = ssh_key::PublicKey::from_bytes(&blob)
        .map_err(|error| format!("the key does not decode as an SSH public key ({error}); it may be corrupted"))?;
    let inner_type = parsed.algorithm().as_str().to_string();
    if inner_type != key_type {
        return Err(format!("the line says `{key_type}` but the key inside is `{inner_type}`"));
    }
    Ok(HostKey { key_type: key_type.to_string(), base64: base64_text.to_string(), fingerprint: fingerprint(&blob) })
}

/// `SHA256:` + unpadded base64 of the blob's SHA-256: what `ssh-keygen -lf` prints.
pub fn fingerprint(blob: &[u8]) -> String {
    let digest = sha2::Sha256::digest(blob);
    format!("SHA256:{}", base64::engine::general_purpose::STANDARD_NO_PAD.encode(digest))
}

/// True for `SHA256:` followed by the 43 characters of an unpadded base64 SHA-256.
pub fn is_sha256_fingerprint(text: &str) -> bool {
    let Some(body) = text.strip_prefix("SHA256:") else {
        return false;
    };
    body.len() == 43
        && base64::engine::general_purpose::STANDARD_NO_PAD.decode(body).map(|bytes| bytes.len() == 32).unwrap_or(false)
}

fn looks_like_key_type(text: &str) -> bool {
    text.starts_with("ssh-")
        || text.starts_with("ecdsa-sha2-")
        || text.starts_with("sk-ssh-")
        || text.starts_with("sk-ecdsa-")
        || text.starts_with("rsa-sha2-")
}

/// A host pattern as ssh accepts it: a name, address or wildcard, optionally `[..]:port`,
/// optionally negated with `!`.
fn valid_host_pattern(pattern: &str) -> bool {
    let pattern = pattern.strip_prefix('!').unwrap_or(pattern);
    let name_ok =
        |name: &str| !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || "-._:*?%".contains(c));
    match pattern.strip_prefix('[') {
        Some(rest) => match rest.split_once("]:") {
            Some((name, port)) => name_ok(name) && port.parse::<u16>().is_ok_and(|port| port > 0),
            None => false,
        },
        None => name_ok(pattern),
    }
}

fn shorten(text: &str) -> String {
    if text.chars().count() > 40 {
        format!("{}...", text.chars().take(40).collect::<String>())
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GITHUB_ED25519: &str =
        "github.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";

    fn check(line: &str, expected: Result<&str, &str>) {
        let parsed = parse_line(line);
        match (parsed, expected) {
            (Ok(line), Ok(fingerprint)) => assert_eq!(line.key.fingerprint, fingerprint),
            (Err(problem), Err(needle)) => {
                assert!(problem.reason().contains(needle), "{line:?}: {:?} lacks {needle:?}", problem.reason())
            }
            (got, want) => panic!("{line:?}: got {got:?}, want {want:?}"),
        }
    }

    #[test]
    fn good_lines() {
        check(GITHUB_ED25519, Ok("SHA256:+DiY3wvvV6TuJJhbpZisF/zLDA0zPMSvHdkr4UvCOqU"));
        check(&format!("{GITHUB_ED25519} a comment\r"), Ok("SHA256:+DiY3wvvV6TuJJhbpZisF/zLDA0zPMSvHdkr4UvCOqU"));
        check(
            "[ssh.github.com]:443,github.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl",
            Ok("SHA256:+DiY3wvvV6TuJJhbpZisF/zLDA0zPMSvHdkr4UvCOqU"),
        );
    }

    #[test]
    fn bad_lines() {
        // Truncated: the base64 no longer has a valid length.
        check(&GITHUB_ED25519[..GITHUB_ED25519.len() - 3], Err("not valid base64"));
        // One character of the tail changed so the padding bits are wrong.
        let ecdsa = "github.com ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBEmKSENjQEezOmxkZMy7opKgwFB9nkt5YRrYMjNuG5N87uRgg6CLrbo5wAdT/y6v0mKV0U2w0WZ2YB/++Tpockg=";
        check(ecdsa, Ok("SHA256:p2QAMXNIC1TJYWeIOttrVc98/R1BUFWu3/LiyKgUfQM"));
        check(&ecdsa.replace("ckg=", "ckh="), Err("not valid base64"));
        // An ed25519 key has no spare bits: a changed last character is another key, which
        // parses, and is caught only by its fingerprint.
        let changed = parse_line(&GITHUB_ED25519.replace("GKJl", "GKJm")).expect("parses");
        assert_ne!(changed.key.fingerprint, "SHA256:+DiY3wvvV6TuJJhbpZisF/zLDA0zPMSvHdkr4UvCOqU");
        // Cut at a 4-character boundary: valid base64, but the key is short.
        check(&GITHUB_ED25519[..GITHUB_ED25519.len() - 4], Err("does not decode"));
        check("|1|abc=|def= ssh-ed25519 AAAA", Err("hashed"));
        check("@cert-authority *.example.com ssh-ed25519 AAAA", Err("`@cert-authority`"));
        check(
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl",
            Err("host field is missing"),
        );
        check("github.com ssh-ed25519", Err("found 2 fields"));
        check(
            "github.com ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl",
            Err("key inside is `ssh-ed25519`"),
        );
        check(
            "[github.com]443 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl",
            Err("not a host name"),
        );
    }

    #[test]
    fn numbers_count_blank_and_comment_lines() {
        let lines = parse_known_hosts(&format!("# comment\n\n{GITHUB_ED25519}\nbroken\n"));
        assert_eq!(lines.iter().map(|line| line.number).collect::<Vec<_>>(), vec![3, 4]);
        assert!(lines[1].result.is_err());
    }

    #[test]
    fn fingerprint_format() {
        assert!(is_sha256_fingerprint("SHA256:+DiY3wvvV6TuJJhbpZisF/zLDA0zPMSvHdkr4UvCOqU"));
        assert!(!is_sha256_fingerprint("SHA256:+DiY3wvvV6TuJJhbpZisF/zLDA0zPMSvHdkr4UvCOq"));
        assert!(!is_sha256_fingerprint("MD5:16:27:ac:a5:76:28:2d:36:63:1b:56:4d:eb:df:a6:48"));
    }
}
