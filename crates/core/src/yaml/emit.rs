//! Tree to text, block style with two-space indentation. A scalar keeps the style it was
//! written in when that style can carry its text; a string a tool made is written plain only
//! when no YAML reader (YAML 1.1 like Helm's, or 1.2) could take it for anything but a string.

use super::resolve::{Resolved, resolve_plain};
use super::{Mapping, Node, NodeKind, Scalar, ScalarStyle};

/// The whole document as YAML text, ending with a newline (`{}` for an empty mapping).
pub fn emit_document(root: &Node) -> String {
    // Every helper below writes into this one buffer: a report of thousands of entries would
    // otherwise allocate a small string per key and per value.
    let mut out = String::new();
    match &root.kind {
        NodeKind::Mapping(mapping) if !mapping.is_empty() => emit_mapping(&mut out, mapping, 0, true),
        NodeKind::Sequence(items) if !items.is_empty() => emit_sequence(&mut out, items, 0, true),
        _ => {
            push_inline(&mut out, root, 0);
            out.push('\n');
        }
    }
    out
}

/// One mapping entry as block text at `indent`: `key: value`, and for a collection or a block
/// scalar the lines below it. Used to edit a file in place, one entry at a time.
pub fn emit_entry(key: &Scalar, value: &Node, indent: usize) -> String {
    let mut out = String::new();
    push_indent(&mut out, indent);
    push_key(&mut out, key);
    out.push(':');
    emit_after_indicator(&mut out, value, indent);
    out
}

/// True when `text` can be written as a plain scalar and still be read back as this string
/// by every YAML reader: nothing that resolves to a bool, null or number under YAML 1.1 or
/// 1.2 in any letter case, and no character that would change the syntax.
pub fn plain_is_safe(text: &str) -> bool {
    let Some(first) = text.chars().next() else {
        return false;
    };
    if resolve_plain(text) != Resolved::Str {
        return false;
    }
    // Compared without lowercasing a copy: this runs once per string of every report.
    const RESERVED: [&str; 12] = ["y", "n", "yes", "no", "on", "off", "true", "false", "null", "~", "<<", "="];
    if RESERVED.iter().any(|word| text.eq_ignore_ascii_case(word)) {
        return false;
    }
    if first.is_ascii_digit() || "-+.?:,[]{}#&*!|>'\"%@`~ \t".contains(first) {
        return false;
    }
    let bytes = text.as_bytes();
    let starts_with_ignore_case =
        |prefix: &[u8]| bytes.get(..prefix.len()).is_some_and(|head| head.eq_ignore_ascii_case(prefix));
    if starts_with_ignore_case(b".inf") || starts_with_ignore_case(b".nan") {
        return false;
    }
    if text.ends_with(' ') || text.ends_with(':') {
        return false;
    }
    // One pass over the bytes for `: `, ` #` and ASCII control characters; text with other
    // characters gets the full check by character below.
    let mut ascii = true;
    for (index, &byte) in bytes.iter().enumerate() {
        match byte {
            0x00..=0x1f | 0x7f => return false,
            b':' | b' ' => {
                let next = if byte == b':' { b' ' } else { b'#' };
                if bytes.get(index + 1) == Some(&next) {
                    return false;
                }
            }
            0x80..=0xff => ascii = false,
            _ => {}
        }
    }
    ascii
        || text.chars().all(|c| !c.is_control() && c != '\u{feff}' && !matches!(c, '\u{85}' | '\u{2028}' | '\u{2029}'))
}

/// Writes the entries at `indent`; the first line's indentation is left out when the caller
/// already wrote it (after `- ` in a sequence).
fn emit_mapping(out: &mut String, mapping: &Mapping, indent: usize, indent_first: bool) {
    for (position, entry) in mapping.entries.values().enumerate() {
        if indent_first || position > 0 {
            push_indent(out, indent);
        }
        push_key(out, &entry.key);
        out.push(':');
        emit_after_indicator(out, &entry.value, indent);
    }
}

fn emit_sequence(out: &mut String, items: &[Node], indent: usize, indent_first: bool) {
    for (position, item) in items.iter().enumerate() {
        if indent_first || position > 0 {
            push_indent(out, indent);
        }
        match &item.kind {
            // The block goes one level deeper, its first line right after the dash:
            // `- key: value`, the other keys lined up under the first.
            NodeKind::Mapping(mapping) if !mapping.is_empty() => {
                out.push_str("- ");
                emit_mapping(out, mapping, indent + 2, false);
            }
            NodeKind::Sequence(inner) if !inner.is_empty() => {
                out.push_str("- ");
                emit_sequence(out, inner, indent + 2, false);
            }
            _ => {
                out.push('-');
                emit_after_indicator(out, item, indent);
            }
        }
    }
}

/// Writes a value after `key:` or `-` (at `indent`), ending the line.
fn emit_after_indicator(out: &mut String, node: &Node, indent: usize) {
    match &node.kind {
        NodeKind::Mapping(mapping) if !mapping.is_empty() => {
            out.push('\n');
            emit_mapping(out, mapping, indent + 2, true);
        }
        NodeKind::Sequence(items) if !items.is_empty() => {
            out.push('\n');
            emit_sequence(out, items, indent + 2, true);
        }
        _ => {
            // A space, then the value; an empty value (a plain null) takes its space back.
            let before = out.len();
            out.push(' ');
            push_inline(out, node, indent + 2);
            if out.len() == before + 1 {
                out.truncate(before);
            }
            out.push('\n');
        }
    }
}

/// A scalar or empty collection, starting on the current line; block scalars continue on the
/// following lines at `content_indent`.
fn push_inline(out: &mut String, node: &Node, content_indent: usize) {
    match &node.kind {
        NodeKind::Mapping(_) => out.push_str("{}"),
        NodeKind::Sequence(_) => out.push_str("[]"),
        NodeKind::Scalar(scalar) => {
            if let Some(tag) = &scalar.tag {
                out.push_str(tag);
                out.push(' ');
            }
            push_scalar(out, scalar, content_indent);
        }
    }
}

fn push_scalar(out: &mut String, scalar: &Scalar, content_indent: usize) {
    let text = &scalar.text;
    match scalar.style {
        // A plain scalar read from a file keeps its exact text: that is what Helm resolved.
        ScalarStyle::Plain if !text.contains('\n') => out.push_str(text),
        ScalarStyle::SingleQuoted if !text.contains('\n') && printable(text) => push_single_quoted(out, text),
        ScalarStyle::DoubleQuoted => push_double_quoted(out, text),
        ScalarStyle::Literal | ScalarStyle::Folded => match literal(text, content_indent) {
            Some(block) => out.push_str(&block),
            None => push_double_quoted(out, text),
        },
        _ => push_string(out, text, content_indent),
    }
}

/// The plainest writing of a string that every reader takes back as the same string.
fn push_string(out: &mut String, text: &str, content_indent: usize) {
    if plain_is_safe(text) {
        out.push_str(text);
        return;
    }
    if text.contains('\n')
        && let Some(block) = literal(text, content_indent)
    {
        out.push_str(&block);
        return;
    }
    push_double_quoted(out, text);
}

fn push_key(out: &mut String, key: &Scalar) {
    match key.style {
        ScalarStyle::Plain if !key.text.is_empty() && !key.text.contains('\n') => out.push_str(&key.text),
        ScalarStyle::SingleQuoted if !key.text.contains('\n') && printable(&key.text) => {
            push_single_quoted(out, &key.text)
        }
        ScalarStyle::Auto if plain_is_safe(&key.text) => out.push_str(&key.text),
        _ => push_double_quoted(out, &key.text),
    }
}

/// A literal block (`|`, `|-`, `|+`), or None when the text cannot be one (control
/// characters, lines of only spaces, carriage returns).
fn literal(text: &str, content_indent: usize) -> Option<String> {
    if text.is_empty() || text.trim_matches('\n').is_empty() || !printable_multiline(text) {
        return None;
    }
    let body = text.strip_suffix('\n').unwrap_or(text);
    let lines: Vec<&str> = body.split('\n').collect();
    if lines.iter().any(|line| !line.is_empty() && line.trim().is_empty()) {
        return None;
    }
    let chomping = if !text.ends_with('\n') {
        "-"
    } else if text.ends_with("\n\n") {
        "+"
    } else {
        ""
    };
    // An explicit indentation indicator when the first line itself starts with a space.
    let indicator =
        if lines.iter().find(|line| !line.is_empty()).is_some_and(|line| line.starts_with(' ')) { "2" } else { "" };
    if lines.first().is_some_and(|line| line.is_empty()) && indicator.is_empty() {
        // Leading empty lines are fine, but only when indentation is still detectable.
        if lines.iter().all(|line| line.is_empty()) {
            return None;
        }
    }
    let mut out = format!("|{indicator}{chomping}");
    for line in &lines {
        out.push('\n');
        if !line.is_empty() {
            push_indent(&mut out, content_indent);
            out.push_str(line);
        }
    }
    Some(out)
}

fn push_single_quoted(out: &mut String, text: &str) {
    out.push('\'');
    for (index, part) in text.split('\'').enumerate() {
        if index > 0 {
            out.push_str("''");
        }
        out.push_str(part);
    }
    out.push('\'');
}

fn push_double_quoted(out: &mut String, text: &str) {
    use std::fmt::Write;
    out.reserve(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{0}' => out.push_str("\\0"),
            '\u{85}' => out.push_str("\\N"),
            '\u{a0}' => out.push_str("\\_"),
            '\u{2028}' => out.push_str("\\L"),
            '\u{2029}' => out.push_str("\\P"),
            // Writing to a String cannot fail.
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if c.is_control() || c == '\u{feff}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn printable(text: &str) -> bool {
    text.chars().all(|c| !c.is_control() && !matches!(c, '\u{feff}' | '\u{a0}' | '\u{2028}' | '\u{2029}'))
}

fn printable_multiline(text: &str) -> bool {
    text.chars()
        .all(|c| c == '\n' || c == '\t' || (!c.is_control() && !matches!(c, '\u{feff}' | '\u{2028}' | '\u{2029}')))
}

fn push_indent(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse_document;

    fn round_trip(text: &str) -> String {
        let node = parse_document(text, "t").expect("parses");
        let emitted = emit_document(&node);
        let again = parse_document(&emitted, "emitted").expect("our output parses");
        assert_eq!(node.to_json(), again.to_json(), "meaning changed:\n{emitted}");
        emitted
    }

    fn check_string(text: &str, expected: &str) {
        let mut root = Node::mapping();
        root.set_path(&["v"], Node::string(text)).expect("set");
        let emitted = emit_document(&root);
        assert_eq!(emitted, expected, "{text:?}");
        let again = parse_document(&emitted, "emitted").expect("parses");
        assert_eq!(again.get_path(&["v"]).and_then(Node::as_str), Some(text));
    }

    #[test]
    fn strings_that_look_like_other_things_are_quoted() {
        for text in [
            "yes", "No", "ON", "y", "true", "null", "~", "1.0", "0123", "10", "1e3", ".inf", "-", "@x", "a: b", "a #b",
            "",
        ] {
            let mut root = Node::mapping();
            root.set_path(&["v"], Node::string(text)).expect("set");
            let emitted = emit_document(&root);
            assert!(emitted.contains('"'), "{text:?} must be quoted: {emitted}");
            let again = parse_document(&emitted, "e").expect("parses");
            assert_eq!(again.get_path(&["v"]).and_then(Node::as_str), Some(text));
        }
        check_string("apache/airflow", "v: apache/airflow\n");
        check_string("git@github.com:me/dags.git", "v: git@github.com:me/dags.git\n");
    }

    #[test]
    fn multi_line_strings_become_literal_blocks() {
        check_string("github.com ssh-ed25519 AAAA\n", "v: |\n  github.com ssh-ed25519 AAAA\n");
        check_string("a\nb", "v: |-\n  a\n  b\n");
        check_string("a\n\n", "v: |+\n  a\n\n");
        check_string("  indented\nnext\n", "v: |2\n    indented\n  next\n");
        check_string("tab\there", "v: \"tab\\there\"\n");
    }

    #[test]
    fn source_styles_survive() {
        let text =
            "a: 'yes'\nb: \"x\"\nc: yes\nd: |\n  line\ne: !!str 10\nf:\n  - 1\n  - x: 1\n    y: [2]\ng: {}\nh:\n";
        assert_eq!(
            round_trip(text),
            "a: 'yes'\nb: \"x\"\nc: yes\nd: |\n  line\ne: !!str 10\nf:\n  - 1\n  - x: 1\n    y:\n      - 2\ng: {}\nh:\n"
        );
    }

    #[test]
    fn nested_sequences_and_keys_needing_quotes() {
        let mut root = Node::mapping();
        root.set_path(&["on"], Node::sequence(vec![Node::sequence(vec![Node::int(1), Node::int(2)])])).expect("set");
        assert_eq!(emit_document(&root), "\"on\":\n  - - 1\n    - 2\n");
        round_trip("a:\n- - 1\n  - 2\n- b: 1\n  c: 2\n");
    }
}
