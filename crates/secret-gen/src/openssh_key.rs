//! Reading a private key file exactly as OpenSSH does (sshkey.c, `private2_uudecode` of
//! OpenSSH 9.x): the file must START with the BEGIN line and its newline, carriage returns
//! and newlines inside are dropped, the first line that starts with the END line and a
//! newline ends the key (anything after it is ignored), and the rest is base64 whose other
//! white space is skipped (`b64_pton`). ssh-key's PEM reader is more lenient in some places
//! (a leading blank line) and stricter in others (text after the END line), so we find the
//! key's bytes ourselves and give ssh-key only the binary `openssh-key-v1` structure. Each
//! way a file fails says what is wrong and how to fix it.

use base64::Engine;

pub const BEGIN_LINE: &str = "-----BEGIN OPENSSH PRIVATE KEY-----";
pub const END_LINE: &str = "-----END OPENSSH PRIVATE KEY-----";
const AUTH_MAGIC: &[u8] = b"openssh-key-v1\0";

/// Why OpenSSH would not load a key file: the message (after the file's name) and the fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub why: String,
    pub fix: String,
}

fn refusal(why: impl Into<String>, fix: impl Into<String>) -> Refusal {
    Refusal { why: why.into(), fix: fix.into() }
}

/// The binary `openssh-key-v1` structure inside a key file that starts with the OpenSSH BEGIN
/// line (the caller has told other formats apart), or why ssh would refuse the file.
pub fn decode(bytes: &[u8]) -> Result<Vec<u8>, Refusal> {
    let begin = format!("{BEGIN_LINE}\n");
    let end = format!("{END_LINE}\n");
    if !bytes.starts_with(begin.as_bytes()) {
        return Err(why_no_begin(bytes));
    }
    let mut encoded = Vec::new();
    let mut rest = &bytes[begin.len()..];
    let mut found_end = false;
    while let Some((&byte, after)) = rest.split_first() {
        if byte != b'\n' && byte != b'\r' {
            encoded.push(byte);
        }
        rest = after;
        if byte == b'\n' && rest.starts_with(end.as_bytes()) {
            found_end = true;
            break;
        }
    }
    if !found_end {
        return Err(why_no_end(bytes));
    }
    let decoded = decode_base64(&encoded).ok_or_else(|| {
        refusal(
            "is damaged: the text between its BEGIN and END lines is not valid base64 (a line was lost, cut short \
             or edited); ssh cannot load it",
            "copy the whole key again, from the BEGIN line to the END line; a damaged key cannot be repaired",
        )
    })?;
    if !decoded.starts_with(AUTH_MAGIC) {
        return Err(refusal(
            "is damaged: what its base64 holds is not an OpenSSH private key; ssh cannot load it",
            "copy the whole key again, from the BEGIN line to the END line",
        ));
    }
    Ok(decoded)
}

/// `b64_pton` as OpenSSH uses it: white space anywhere is skipped, padding must be right and
/// the bits past the last byte zero; a NUL ends OpenSSH's C string, so it is refused here.
fn decode_base64(encoded: &[u8]) -> Option<Vec<u8>> {
    if encoded.contains(&0) {
        return None;
    }
    // C's isspace: space, \t, \n, \v, \f, \r.
    let compact: Vec<u8> =
        encoded.iter().copied().filter(|byte| !matches!(byte, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')).collect();
    base64::engine::general_purpose::STANDARD.decode(compact).ok()
}

/// The file starts with the OpenSSH BEGIN text but not with exactly that line: say what is in
/// the way.
fn why_no_begin(bytes: &[u8]) -> Refusal {
    let text = String::from_utf8_lossy(bytes);
    if text.starts_with('\u{feff}') {
        return refusal(
            "starts with a byte order mark (U+FEFF, as some Windows editors save); ssh reads a key only when the \
             file starts with `-----BEGIN OPENSSH PRIVATE KEY-----` and refuses it (`invalid format`)",
            "remove the mark: `sed -i '1s/^\\xEF\\xBB\\xBF//' FILE`",
        );
    }
    let Some(at) = text.find(BEGIN_LINE) else {
        return refusal(
            format!("does not start with `{BEGIN_LINE}`"),
            "give an OpenSSH private key file, as `ssh-keygen` writes it",
        );
    };
    let before = &text[..at];
    if !before.is_empty() {
        let what = if before.chars().all(|c| c == '\n' || c == '\r') {
            let lines = before.matches('\n').count().max(1);
            format!("{lines} blank line{}", if lines == 1 { "" } else { "s" })
        } else if before.chars().all(char::is_whitespace) {
            "white space".to_string()
        } else {
            "other text".to_string()
        };
        return refusal(
            format!(
                "has {what} before `{BEGIN_LINE}`; ssh reads a key only when the file starts with that line, and \
                 refuses this one (`invalid format`)"
            ),
            format!(
                "delete everything before the BEGIN line so that it is the file's first line{}",
                if what.contains("blank line") { " (blank lines: `sed -i '/./,$!d' FILE`)" } else { "" }
            ),
        );
    }
    let after = &text[BEGIN_LINE.len()..];
    if after.starts_with("\r\n") {
        return crlf();
    }
    if after.is_empty() {
        return truncated();
    }
    refusal(
        format!("has text after `{BEGIN_LINE}` on its line; ssh refuses it (`invalid format`)"),
        format!("make the first line exactly `{BEGIN_LINE}` (no spaces after it)"),
    )
}

/// No line starts with the END line and a newline: a missing final newline is the one case
/// where appending a newline is the fix.
fn why_no_end(bytes: &[u8]) -> Refusal {
    let text = String::from_utf8_lossy(bytes);
    let Some(at) = text.rfind(END_LINE) else {
        return truncated();
    };
    let at_line_start = at > 0 && text[..at].ends_with('\n');
    let after = &text[at + END_LINE.len()..];
    if !at_line_start {
        return refusal(
            format!(
                "has `{END_LINE}` in the middle of a line (indented, or joined to the line before); ssh refuses it"
            ),
            format!("put `{END_LINE}` at the start of its own line: `sed -i 's/^[[:space:]]*-----END/-----END/' FILE`"),
        );
    }
    if after.is_empty() {
        return refusal(
            "does not end with a newline after its END line; ssh rejects it with `invalid format`",
            "append one with `echo >> FILE`",
        );
    }
    if after.starts_with("\r\n") || after == "\r" || text.contains("\r\n") {
        return crlf();
    }
    refusal(
        format!("has text after `{END_LINE}` on its line; ssh refuses it (`invalid format`)"),
        format!("make the last line exactly `{END_LINE}` (no spaces after it), followed by a newline"),
    )
}

fn crlf() -> Refusal {
    refusal(
        "has Windows line endings (CR LF); ssh rejects it with `invalid format`",
        "convert it with `sed -i 's/\\r$//' FILE` (or `dos2unix FILE`)",
    )
}

fn truncated() -> Refusal {
    refusal(
        format!("is truncated: the `{END_LINE}` line is missing, so ssh cannot load it"),
        "copy the whole key again, from the BEGIN line to the END line; a cut key cannot be repaired",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh key's text, as ssh-keygen writes it (70-column base64 lines, LF).
    fn key() -> String {
        let key = crate::deploy_key::generate(crate::deploy_key::KeyType::Ed25519, None, "me").expect("key");
        key.to_openssh(ssh_key::LineEnding::LF).expect("encode").to_string()
    }

    /// The key with its body line `index` (0: the first after BEGIN) changed by `edit`.
    fn edit_body_line(index: usize, edit: impl Fn(&str) -> String) -> String {
        key()
            .lines()
            .enumerate()
            .map(|(n, line)| if n == index + 1 { edit(line) } else { format!("{line}\n") })
            .collect()
    }

    fn check(text: &str, expected: Result<(), &str>) {
        match (decode(text.as_bytes()), expected) {
            (Ok(decoded), Ok(())) => assert!(decoded.starts_with(AUTH_MAGIC)),
            (Err(refused), Err(needle)) => {
                assert!(refused.why.contains(needle), "{text:?}: {refused:?} lacks {needle:?}");
                if !needle.contains("newline") {
                    assert!(!refused.fix.contains("echo >>"), "{text:?}: {refused:?}");
                }
            }
            (got, want) => panic!("{text:?}: got {got:?}, want {want:?}"),
        }
    }

    #[test]
    fn what_openssh_reads() {
        let key = key();
        check(&key, Ok(()));
        check(&format!("{key}trailing text\n"), Ok(()));
        check(&format!("{key}\n\n"), Ok(()));
        // Inside the body, white space and a CR are skipped, and the lines may be any length.
        check(&edit_body_line(1, |line| format!("  {line}\n")), Ok(()));
        check(&edit_body_line(0, |line| format!("{line}\r\n")), Ok(()));
        let body: String = key.lines().filter(|line| !line.starts_with("-----")).collect();
        check(&format!("{BEGIN_LINE}\n{body}\n{END_LINE}\n"), Ok(()));
    }

    #[test]
    fn what_openssh_refuses_and_why() {
        let key = key();
        let key = key.as_str();
        check(&format!("\n{key}"), Err("1 blank line before"));
        check(&format!("\n\n{key}"), Err("2 blank lines before"));
        check(&format!("  {key}"), Err("white space before"));
        check(&format!("\u{feff}{key}"), Err("byte order mark"));
        check(&key.replace('\n', "\r\n"), Err("CR LF"));
        check(&key.replace(BEGIN_LINE, &format!("{BEGIN_LINE} ")), Err("text after `-----BEGIN"));
        check(&key.replace(END_LINE, &format!("{END_LINE} ")), Err("text after `-----END"));
        check(&key.replace(END_LINE, &format!("  {END_LINE}")), Err("in the middle of a line"));
        check(key.trim_end(), Err("does not end with a newline"));
        check(&key[..120], Err("truncated"));
        check(BEGIN_LINE, Err("truncated"));
        check(&edit_body_line(1, |_| String::new()), Err("not valid base64"));
        check(&key.replace("b3Bl", "c3Bl"), Err("not an OpenSSH private key"));
        check(&edit_body_line(1, |line| format!("{line}\0\n")), Err("not valid base64"));
    }
}
