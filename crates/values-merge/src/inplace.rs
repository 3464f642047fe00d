//! Writing the merged values back into a file people edit by hand: only the entries whose
//! values change are touched; comments, blank lines, key order, quoting and line endings
//! everywhere else stay. A changed entry keeps its own comment; a removed entry (`--unset`)
//! takes its comment lines with it.

use std::cmp::Reverse;

use airflow_kit_core::yaml::{Entry, Node, NodeKind, ScalarStyle, emit_document, emit_entry, parse_document};

/// The text to write back into the cumulative file.
pub struct Written {
    pub text: String,
    /// False when the file could not be edited line by line and is written whole.
    pub line_by_line: bool,
}

/// The new text of the cumulative file (`original`: its text and tree, None when it does not
/// exist yet) so that it means exactly `merged`. Edited line by line when that gives exactly
/// the merge (checked by parsing the edit back); otherwise the whole document, still in the
/// file's line endings. The file's tree is taken and dropped once the edit is planned, so a
/// large file is never held three times over (its tree, the merge, the check).
pub fn write_back(original: Option<(&str, Node)>, merged: &Node) -> Written {
    let newline = line_break(original.as_ref().map(|(text, _)| *text).unwrap_or_default());
    if let Some((text, root)) = original {
        let edited = edit(text, &root, merged);
        drop(root);
        if let Some(edited) = edited
            && parse_document(&edited, "edited").is_ok_and(|reparsed| reparsed.same_meaning(merged))
        {
            return Written { text: edited, line_by_line: true };
        }
    }
    Written { text: with_line_break(&emit_document(merged), newline), line_by_line: false }
}

/// The new text of `original_text` (parsed as `original`) so that it means `merged`. Entries
/// whose meaning is unchanged keep their exact lines; a changed value is rewritten where it
/// stands, keeping its comment; an entry `merged` no longer has is removed with its comment
/// lines; a new key is added after the last entry of its mapping. Every line written ends the
/// way the file's lines end (CRLF or LF). Returns None when the file cannot be edited line by
/// line (then the caller writes the whole document).
pub fn edit(original_text: &str, original: &Node, merged: &Node) -> Option<String> {
    let NodeKind::Mapping(original_map) = &original.kind else { return None };
    if original_map.is_empty() || original.flow {
        return None;
    }
    let mut text = Text::new(original_text);
    let mut keep_ends = Vec::new();
    keep_scalar_ends(&text, original, &mut keep_ends);
    text.keep_ends = keep_ends;
    let mut edits = Vec::new();
    edit_mapping(&text, original, merged, &mut edits)?;
    // From the end backwards, so earlier offsets stay valid. At one point, a removal goes
    // before an insertion there (which would otherwise be what it removes), and insertions go
    // in the reverse of the order they were planned in, so they end up in that order.
    let mut ordered: Vec<(usize, Edit)> = edits.into_iter().enumerate().collect();
    ordered.sort_by_key(|(sequence, edit)| Reverse((edit.start, edit.end, *sequence)));
    let mut out = original_text.to_string();
    let mut limit = out.len();
    for (_, edit) in ordered {
        // Overlapping edits mean the spans were not what they seemed: write the file whole.
        if edit.end > limit || edit.start > edit.end {
            return None;
        }
        out.replace_range(edit.start..edit.end, &with_line_break(&edit.replacement, text.newline));
        limit = edit.start;
    }
    Some(out)
}

/// The line break a file uses: CRLF when its first line ends with one, else LF.
pub fn line_break(text: &str) -> &'static str {
    match text.find('\n') {
        Some(index) if text[..index].ends_with('\r') => "\r\n",
        _ => "\n",
    }
}

/// `text` (with LF line breaks, as the emitter writes) with `newline` line breaks.
fn with_line_break(text: &str, newline: &str) -> String {
    if newline == "\n" { text.to_string() } else { text.replace('\n', newline) }
}

/// How many characters apart [`Text`] keeps byte offsets of non-ASCII text.
const CHECKPOINT: usize = 64;

/// One change to the text, in byte offsets; `replacement` has LF line breaks.
struct Edit {
    start: usize,
    end: usize,
    replacement: String,
}

/// The source with a way from character indices (spans count characters) to byte offsets,
/// and the scanning the edits need. Every offset it returns is at a character boundary: it
/// stops only at ASCII characters or the ends of lines.
struct Text<'a> {
    source: &'a str,
    bytes: &'a [u8],
    /// The byte offset of every [`CHECKPOINT`]th character; None for ASCII text, where a
    /// character index is its byte offset. A table of every character took eight bytes for
    /// each byte of a large file.
    checkpoints: Option<Vec<usize>>,
    newline: &'static str,
    /// Where the line after each `|+`/`>+` scalar starts: blank lines there would join it.
    keep_ends: Vec<usize>,
}

impl<'a> Text<'a> {
    fn new(source: &'a str) -> Text<'a> {
        let checkpoints =
            (!source.is_ascii()).then(|| source.char_indices().step_by(CHECKPOINT).map(|(offset, _)| offset).collect());
        Text { source, bytes: source.as_bytes(), checkpoints, newline: line_break(source), keep_ends: Vec::new() }
    }

    fn byte(&self, char_index: usize) -> usize {
        let Some(checkpoints) = &self.checkpoints else { return char_index.min(self.source.len()) };
        let Some(&from) = checkpoints.get(char_index / CHECKPOINT) else { return self.source.len() };
        self.source[from..]
            .char_indices()
            .nth(char_index % CHECKPOINT)
            .map_or(self.source.len(), |(offset, _)| from + offset)
    }

    /// The byte just after the end of the line holding `byte` (after its line break). Value
    /// ends found here are before a line break, never after one: an empty last line of a
    /// `|+` scalar is a line of its own.
    fn line_end_after(&self, byte: usize) -> usize {
        match self.source[byte..].find('\n') {
            Some(newline) => byte + newline + 1,
            None => self.source.len(),
        }
    }

    /// The end of the content of the line holding `byte`: before its `\n` or `\r\n`.
    fn content_end(&self, byte: usize) -> usize {
        let end = self.source[byte..].find('\n').map_or(self.source.len(), |newline| byte + newline);
        if end > byte && self.bytes[end - 1] == b'\r' { end - 1 } else { end }
    }

    fn line_start(&self, byte: usize) -> usize {
        self.source[..byte].rfind('\n').map_or(0, |newline| newline + 1)
    }

    /// A comment right after a value ending at `at`: the blanks before `#` and the comment,
    /// up to the end of the line.
    fn trailing_comment(&self, at: usize) -> Option<(usize, usize)> {
        let mut index = at;
        while matches!(self.bytes.get(index), Some(b' ' | b'\t')) {
            index += 1;
        }
        (index > at && self.bytes.get(index) == Some(&b'#')).then(|| (at, self.content_end(index)))
    }

    /// A comment on the line of `key:` after the colon at `colon`, for a value that starts on
    /// a later line (a block collection) or is a block scalar (`key: |-  # why`). Before the
    /// `#` there are only blanks and the header, anchor or tag, none of which holds ` #`.
    fn key_line_comment(&self, colon: usize) -> Option<(usize, usize)> {
        let end = self.content_end(colon + 1);
        let line = &self.bytes[colon + 1..end];
        let hash = (0..line.len()).find(|&i| line[i] == b'#' && (i == 0 || matches!(line[i - 1], b' ' | b'\t')))?;
        let mut start = hash;
        while start > 0 && matches!(line[start - 1], b' ' | b'\t') {
            start -= 1;
        }
        // `key:# x` is no comment to YAML; keep such text out of our hands.
        (hash > 0).then_some((colon + 1 + start, end))
    }

    /// Skips a node's properties (`&anchor`, `!tag`) and the blanks after them.
    fn skip_properties(&self, mut index: usize) -> usize {
        while matches!(self.bytes.get(index), Some(b'&' | b'!')) {
            while self.bytes.get(index).is_some_and(|b| !b.is_ascii_whitespace()) {
                index += 1;
            }
            while self.bytes.get(index).is_some_and(u8::is_ascii_whitespace) {
                index += 1;
            }
        }
        index
    }

    /// Just after the quote closing the quoted scalar that opens at `open`.
    fn quoted_end(&self, open: usize) -> Option<usize> {
        let quote = *self.bytes.get(open)?;
        let mut index = open + 1;
        while let Some(&byte) = self.bytes.get(index) {
            match byte {
                b'\\' if quote == b'"' => index += 1,
                b'\'' if quote == b'\'' && self.bytes.get(index + 1) == Some(&b'\'') => index += 1,
                _ if byte == quote => return Some(index + 1),
                _ => {}
            }
            index += 1;
        }
        None
    }

    /// Just after the bracket closing the flow collection that opens at `open`, skipping
    /// quoted scalars and comments inside it.
    fn flow_end(&self, open: usize) -> Option<usize> {
        let mut depth = 0usize;
        let mut index = open;
        while let Some(&byte) = self.bytes.get(index) {
            let after_blank_or_indicator =
                index == 0 || matches!(self.bytes[index - 1], b' ' | b'\t' | b'\n' | b'\r' | b'[' | b'{' | b',' | b':');
            match byte {
                b'[' | b'{' => depth += 1,
                b']' | b'}' => {
                    depth = depth.checked_sub(1)?;
                    if depth == 0 {
                        return Some(index + 1);
                    }
                }
                b'"' | b'\'' if after_blank_or_indicator => index = self.quoted_end(index)? - 1,
                b'#' if index > 0 && matches!(self.bytes[index - 1], b' ' | b'\t') => {
                    index = self.content_end(index);
                }
                _ => {}
            }
            index += 1;
        }
        None
    }

    /// Where a block scalar's text ends: its last content line, or with keep chomping (`|+`,
    /// whose trailing blank lines are part of the value) its last blank line, in both cases
    /// before the final line break. The parser's span runs on to the next token.
    fn block_scalar_end(&self, node: &Node, keep: bool) -> Option<usize> {
        let mut end = self.byte(node.span?.end.index);
        // Back over the indentation of the line the next token is on.
        while end > 0 && self.bytes[end - 1] == b' ' {
            end -= 1;
        }
        if keep {
            if end > 0 && self.bytes[end - 1] == b'\n' {
                end -= 1;
                if end > 0 && self.bytes[end - 1] == b'\r' {
                    end -= 1;
                }
            }
        } else {
            while end > 0 && self.bytes[end - 1].is_ascii_whitespace() {
                end -= 1;
            }
        }
        Some(end)
    }

    /// Where the text of a value ends (before any comment after it).
    fn value_end(&self, node: &Node) -> Option<usize> {
        let span = node.span?;
        let start = self.byte(span.start.index);
        match &node.kind {
            NodeKind::Scalar(scalar) => match scalar.style {
                ScalarStyle::Plain => Some(self.byte(span.end.index)),
                ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted => {
                    let open = self.skip_properties(start);
                    matches!(self.bytes.get(open), Some(b'"' | b'\'')).then_some(())?;
                    self.quoted_end(open)
                }
                ScalarStyle::Literal | ScalarStyle::Folded => {
                    self.block_scalar_end(node, scalar.text.ends_with("\n\n"))
                }
                ScalarStyle::Auto => None,
            },
            _ if self.is_flow(node) => self.flow_end(self.skip_properties(start)),
            NodeKind::Sequence(items) => self.value_end(items.last()?),
            NodeKind::Mapping(_) => self.mapping_end(node),
        }
    }

    /// A collection written in flow style. The parser's own flag misses one that has an
    /// anchor or tag before its bracket.
    fn is_flow(&self, node: &Node) -> bool {
        if node.flow {
            return true;
        }
        let Some(span) = node.span else { return false };
        let start = self.byte(span.start.index);
        matches!(self.bytes.get(start), Some(b'&' | b'!'))
            && matches!(self.bytes.get(self.skip_properties(start)), Some(b'[' | b'{'))
    }

    /// Where a block mapping's text ends: the end of its last entry written in it.
    fn mapping_end(&self, node: &Node) -> Option<usize> {
        let mapping = node.as_mapping()?;
        let last = mapping
            .entries
            .values()
            .filter(|entry| written_in(entry, node))
            .max_by_key(|entry| entry.key_span.map(|span| span.start.index))?;
        self.entry_end(last)
    }

    /// Where an entry's value ends; an empty value (a null) ends just after the colon (the
    /// parser puts its span on the colon itself).
    fn entry_end(&self, entry: &Entry) -> Option<usize> {
        Some(self.value_end(&entry.value)?.max(colon_of(self, entry)? + 1))
    }
}

/// The starts of the lines after every keep-chomped block scalar (`key: |+`) of a block
/// mapping: blank lines there are part of the scalar, so they must not come to follow it.
fn keep_scalar_ends(text: &Text, node: &Node, out: &mut Vec<usize>) {
    match &node.kind {
        NodeKind::Mapping(mapping) if !text.is_flow(node) => {
            for entry in mapping.entries.values().filter(|entry| written_in(entry, node)) {
                // The header after `key:` (and any anchor or tag): `|+`, `>2+`, ...
                let header = colon_of(text, entry).map(|colon| {
                    let mut start = colon + 1;
                    while matches!(text.bytes.get(start), Some(b' ' | b'\t')) {
                        start += 1;
                    }
                    let start = text.skip_properties(start);
                    text.source[start..text.content_end(start)].split_whitespace().next().unwrap_or_default()
                });
                let keep = header.is_some_and(|header| header.starts_with(['|', '>']) && header.contains('+'));
                if keep && let Some(end) = text.block_scalar_end(&entry.value, true) {
                    out.push(text.line_end_after(end));
                }
                keep_scalar_ends(text, &entry.value, out);
            }
        }
        NodeKind::Sequence(items) if !text.is_flow(node) => {
            items.iter().for_each(|item| keep_scalar_ends(text, item, out))
        }
        _ => {}
    }
}

/// True when the entry is written in this mapping's text: not brought in by a `<<` merge key
/// (its key is written elsewhere) and its value is not an alias (written elsewhere too).
fn written_in(entry: &Entry, mapping: &Node) -> bool {
    let (Some(key), Some(value), Some(map)) = (entry.key_span, entry.value.span, mapping.span) else { return false };
    key.start.index >= map.start.index && value.start.index >= key.end.index
}

fn edit_mapping(text: &Text, original: &Node, merged: &Node, edits: &mut Vec<Edit>) -> Option<()> {
    let original_map = original.as_mapping()?;
    let merged_map = merged.as_mapping()?;
    // Keys are written at the column of the mapping's first key.
    let indent = original_map.entries.values().next()?.key_span?.start.column - 1;
    for (key, original_entry) in &original_map.entries {
        if !merged_map.entries.contains_key(key) {
            edits.push(removal(text, original_entry, original)?);
        }
    }
    let mut added = String::new();
    for (key, merged_entry) in &merged_map.entries {
        let merged_value = &merged_entry.value;
        let Some(original_entry) = original_map.entries.get(key) else {
            added.push_str(&emit_entry(&merged_entry.key, merged_value, indent));
            continue;
        };
        let original_value = &original_entry.value;
        if original_value.same_meaning(merged_value) {
            continue;
        }
        if !written_in(original_entry, original) {
            return None;
        }
        let both_block_maps = !text.is_flow(original_value)
            && original_value.as_mapping().is_some_and(|m| !m.is_empty())
            && merged_value.as_mapping().is_some_and(|m| !m.is_empty());
        if both_block_maps {
            // Key by key inside; when that cannot be done, the value is rewritten whole.
            let mut inner = Vec::new();
            if edit_mapping(text, original_value, merged_value, &mut inner).is_some() {
                edits.append(&mut inner);
                continue;
            }
        }
        edits.push(replacement(text, original_entry, merged_value, indent)?);
    }
    if !added.is_empty() {
        let at = text.line_end_after(text.mapping_end(original)?);
        if at == text.source.len() && !text.source.ends_with('\n') {
            added.insert(0, '\n');
        }
        edits.push(Edit { start: at, end: at, replacement: added });
    }
    Some(())
}

/// The byte of the `:` after an entry's key.
fn colon_of(text: &Text, entry: &Entry) -> Option<usize> {
    let key_end = text.byte(entry.key_span?.end.index);
    Some(key_end + text.source[key_end..].find(':')?)
}

/// A block collection or a block scalar: a value whose first line is not on the key's line,
/// or only its header is.
fn is_block(text: &Text, node: &Node) -> bool {
    match &node.kind {
        NodeKind::Scalar(scalar) => matches!(scalar.style, ScalarStyle::Literal | ScalarStyle::Folded),
        NodeKind::Sequence(items) => !items.is_empty() && !text.is_flow(node),
        NodeKind::Mapping(mapping) => !mapping.is_empty() && !text.is_flow(node),
    }
}

/// Rewrites an entry's value where it stands, from just after `key:` to the value's end,
/// keeping the entry's own comment: the one on the key's line for a block value, the one
/// after the value otherwise. It goes at the end of the new value's first line.
fn replacement(text: &Text, entry: &Entry, merged_value: &Node, indent: usize) -> Option<Edit> {
    let colon = colon_of(text, entry)?;
    let value_end = text.entry_end(entry)?;
    let (end, comment) = if is_block(text, &entry.value) {
        // The comment after the last line of a block collection belongs to its last entry,
        // which goes with the old value.
        let end = match &entry.value.kind {
            NodeKind::Scalar(_) => value_end,
            _ => text.trailing_comment(value_end).map_or(value_end, |(_, end)| end),
        };
        (end, text.key_line_comment(colon))
    } else {
        let comment = text.trailing_comment(value_end);
        (comment.map_or(value_end, |(_, end)| end), comment)
    };
    let emitted = emit_entry(&entry.key, merged_value, indent);
    // What comes after `key:` in the emitted entry (the key's own text may hold a `:`).
    let key_part = emit_entry(&entry.key, &airflow_kit_core::Node::plain(""), indent);
    let after_colon = emitted.get(key_part.trim_end_matches('\n').len()..)?;
    let mut new_value = after_colon.strip_suffix('\n').unwrap_or(after_colon).to_string();
    if let Some((start, comment_end)) = comment {
        let first_line_end = new_value.find('\n').unwrap_or(new_value.len());
        new_value.insert_str(first_line_end, &text.source[start..comment_end]);
    }
    Some(Edit { start: colon + 1, end, replacement: new_value })
}

/// Removes an entry: its comment lines right above it (at its indentation, unless they open
/// the file: that is the file's own header), its key line, its value and the comment after
/// it, through the final line break.
fn removal(text: &Text, entry: &Entry, mapping: &Node) -> Option<Edit> {
    if !written_in(entry, mapping) {
        return None;
    }
    let key_start = text.byte(entry.key_span?.start.index);
    let line_start = text.line_start(key_start);
    let indentation = &text.source[line_start..key_start];
    if !indentation.bytes().all(|b| b == b' ') {
        return None;
    }
    let mut start = line_start;
    while start > 0 {
        let above = text.line_start(start - 1);
        let line = text.source[above..start].trim_end_matches(['\n', '\r']);
        if !line.strip_prefix(indentation).is_some_and(|rest| rest.starts_with('#')) {
            break;
        }
        start = above;
    }
    if start == 0 {
        start = line_start;
    }
    let value_end = text.entry_end(entry)?;
    let end = match &entry.value.kind {
        NodeKind::Scalar(scalar) if matches!(scalar.style, ScalarStyle::Literal | ScalarStyle::Folded) => value_end,
        _ => text.trailing_comment(value_end).map_or(value_end, |(_, end)| end),
    };
    let mut end = text.line_end_after(end);
    // Removing the lines between a `|+` scalar and blank lines would make those its own.
    if text.keep_ends.contains(&start) {
        while end < text.source.len() && text.source[end..text.content_end(end)].trim_matches(' ').is_empty() {
            end = text.line_end_after(end);
        }
    }
    Some(Edit { start, end, replacement: String::new() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merge::merge_maps;
    use airflow_kit_core::yaml::{Document, parse_document};

    /// Merges `overlay` into `original` and edits the text; checks the result means the merge.
    fn check(original: &str, overlay: &str, expected: &str) {
        let original_node = parse_document(original, "values.yaml").expect("parses");
        let mut merged = original_node.clone();
        let overlay = parse_document(overlay, "overlay").expect("parses");
        merge_maps(merged.as_mapping_mut().expect("map"), overlay.as_mapping().cloned().expect("map"));
        check_edit(original, &original_node, &merged, expected);
    }

    /// Removes each dotted path (no escapes needed here) from `original` and edits the text.
    fn check_removal(original: &str, paths: &[&str], expected: &str) {
        let original_node = parse_document(original, "values.yaml").expect("parses");
        let mut merged = original_node.clone();
        for path in paths {
            let keys: Vec<&str> = path.split('.').collect();
            merged.remove_path(&keys).expect("path is set");
        }
        check_edit(original, &original_node, &merged, expected);
    }

    fn check_edit(original: &str, original_node: &Node, merged: &Node, expected: &str) {
        let edited = edit(original, original_node, merged).expect("editable");
        assert_eq!(edited, expected, "\noriginal:\n{original}");
        let reparsed = parse_document(&edited, "edited").expect("edited text parses");
        assert_eq!(reparsed.to_json(), merged.to_json());
    }

    #[test]
    fn keeps_comments_and_changes_only_changed_lines() {
        check(
            "# Airflow values\nexecutor: CeleryExecutor  # keep this\n\ndags:\n  gitSync:\n    # the repo\n    repo: old\n    enabled: yes\nother: 'x'\n",
            "dags:\n  gitSync:\n    repo: new\n    branch: main\n",
            "# Airflow values\nexecutor: CeleryExecutor  # keep this\n\ndags:\n  gitSync:\n    # the repo\n    repo: new\n    enabled: yes\n    branch: main\nother: 'x'\n",
        );
    }

    /// Spans count characters; text beyond ASCII is found by byte through checkpoints every
    /// 64 characters, so edits far past many multi-byte characters must land where they stand.
    #[test]
    fn edits_land_right_after_text_beyond_ascii() {
        let comment = "# Grüße, 設定 ".repeat(40);
        let original = format!("{comment}\nname: 'Zürich 東京'  # städte\nport: 1\nlast: ü\n");
        let expected = format!("{comment}\nname: 'Zürich 東京'  # städte\nport: 2\nlast: ü\nnew: ß\n");
        check(&original, "port: 2\nnew: ß\n", &expected);
    }

    #[test]
    fn replaces_maps_lists_and_block_scalars() {
        check("a:\n  x: 1\nb: 2\n", "a: 5\n", "a: 5\nb: 2\n");
        check("a: 5\nb: 2\n", "a: {x: 1}\n", "a:\n  x: 1\nb: 2\n");
        check("l: [1, 2]  # list\nz: 1\n", "l: [3]\n", "l:  # list\n  - 3\nz: 1\n");
        check("k: |\n  old line\nz: 1\n", "k: \"new\\n\"\n", "k: \"new\\n\"\nz: 1\n");
        check("k: |\n  old line\nz: 1\n", "k: |\n  new\n", "k: |\n  new\nz: 1\n");
        check("a: 1", "b: 2\n", "a: 1\nb: 2\n");
        check("    a: 1\n    b: 2\n", "c: {d: 1}\n", "    a: 1\n    b: 2\n    c:\n      d: 1\n");
    }

    /// Defect 6: the comment of a changed entry stays, whatever the value's style.
    #[test]
    fn a_changed_entry_keeps_its_comment() {
        let file = "images:\n  airflow:\n    tag: \"2.10.5\"  # pinned after incident 42\n    repository: apache/airflow # plain\n    pull: 'Always'   # single\n    note: |  # block\n      hello\n    z: 1\n";
        check(
            file,
            "images: {airflow: {tag: 2.10.6, repository: my/airflow, pull: IfNotPresent, note: \"bye\\n\"}}\n",
            "images:\n  airflow:\n    tag: 2.10.6  # pinned after incident 42\n    repository: my/airflow # plain\n    pull: IfNotPresent   # single\n    note: \"bye\\n\"  # block\n    z: 1\n",
        );
        // A --set value has no style of its own: the emitter quotes it only when it must.
        check("tag: \"2.10.5\"  # pinned\n", "tag: \"yes\"\n", "tag: \"yes\"  # pinned\n");
        check("k: |-  # why\n  one\n  two\nz: 1\n", "k: |-\n  three\n", "k: |-  # why\n  three\nz: 1\n");
        check("k: >  # why\n  folded\n\nz: 1\n", "k: plain\n", "k: plain  # why\n\nz: 1\n");
        check("a:   # about a\n  x: 1  # about x\nb: 2\n", "a: 5\n", "a: 5   # about a\nb: 2\n");
        check("a: 5  # about a\nb: 2\n", "a: {x: 1}\n", "a:  # about a\n  x: 1\nb: 2\n");
        check("e:   # empty\nb: 2\n", "e: 1\n", "e: 1   # empty\nb: 2\n");
        check("q: \"multi\n  line\"  # c\nb: 2\n", "q: one\n", "q: one  # c\nb: 2\n");
        check("q: 'it''s' # c\n", "q: x\n", "q: x # c\n");
        check("q: \"a \\\" # not a comment\" # c\n", "q: x\n", "q: x # c\n");
        check("l: [a, 'b]', {c: d}]  # c\nz: 1\n", "l: [e]\n", "l:  # c\n  - e\nz: 1\n");
        check("t: !!str 12  # tagged\n", "t: 13\n", "t: 13  # tagged\n");
    }

    /// A block scalar ends at its last content line: what follows it stays.
    #[test]
    fn block_scalars_end_where_their_text_ends() {
        check("x:\n  k: |\n    old\n\n  # about z\n  z: 1\n", "x: {k: new}\n", "x:\n  k: new\n\n  # about z\n  z: 1\n");
        check("k: |+\n  keep\n\n\nz: 1\n", "k: |+\n  more\n\n", "k: |+\n  more\n\nz: 1\n");
        check("k: |+\n  keep\n\n\nz: 1\n", "k: x\n", "k: x\nz: 1\n");
        check("a:\n  b: |+\n    keep\n\n", "a: {z: 1}\n", "a:\n  b: |+\n    keep\n\n  z: 1\n");
        check_removal("a: 1\nb: |+\n  keep\n\nc: 1\n", &["b"], "a: 1\nc: 1\n");
        // Blank lines after a removed entry would join a `|+` scalar before it: they go too.
        check_removal("s: |+\n  one\n# about a\na: 1\n\nz: 1\n", &["a"], "s: |+\n  one\nz: 1\n");
        check_removal("x:\n  s: >+\n    one\n\nw: 1\n\nz: 1\n", &["w"], "x:\n  s: >+\n    one\n\nz: 1\n");
        check_removal("s: |\n  one\na: 1\n\nz: 1\n", &["a"], "s: |\n  one\n\nz: 1\n");
        check(
            "x:\n  a:\n    b: |\n      hello\n  z: 1\n",
            "x: {a: {c: 2}}\n",
            "x:\n  a:\n    b: |\n      hello\n    c: 2\n  z: 1\n",
        );
        check("k: |\n  end", "k: x\n", "k: x");
    }

    /// An empty value (a null) ends at its colon, also as the last entry of a mapping.
    #[test]
    fn empty_values_end_at_their_colon() {
        check("x:\n  a: 1\n  c:\n# about s\ns: 1\n", "x: 5\n", "x: 5\n# about s\ns: 1\n");
        check("x:\n  c:\n# about s\ns: 1\n", "x: {d: 1}\n", "x:\n  c:\n  d: 1\n# about s\ns: 1\n");
        check_removal("x:\n  a: 1\n  c:   # empty\ny: 1\n", &["x.c"], "x:\n  a: 1\ny: 1\n");
    }

    #[test]
    fn new_keys_keep_their_order() {
        check("a:\n  b: 1\n", "a: {c: 2, d: 3}\ne: 4\nf: 5\n", "a:\n  b: 1\n  c: 2\n  d: 3\ne: 4\nf: 5\n");
        // A key added where a removed entry starts stays; the removal takes only its own lines.
        let original = "a:\n  b: 1\nq: 2  # q\n";
        let node = parse_document(original, "t").expect("parses");
        let mut merged = node.clone();
        merged.remove_path(&["q"]).expect("set");
        merged.set_path(&["a", "c"], Node::int(3)).expect("set");
        merged.set_path(&["d"], Node::int(4)).expect("set");
        check_edit(original, &node, &merged, "a:\n  b: 1\n  c: 3\nd: 4\n");
    }

    /// Defect 6: a CRLF file stays CRLF in every line written, new ones included.
    #[test]
    fn crlf_stays_crlf() {
        check(
            "a: \"x\"  # c\r\nb:\r\n  c: |\r\n    hi\r\n  d: 1\r\n",
            "a: y\nb:\n  c: |\n    one\n    two\n  e: {f: 1}\ng: [1, 2]\n",
            "a: y  # c\r\nb:\r\n  c: |\r\n    one\r\n    two\r\n  d: 1\r\n  e:\r\n    f: 1\r\ng:\r\n  - 1\r\n  - 2\r\n",
        );
        check("a: 1\r\nb: 2", "c: 3\n", "a: 1\r\nb: 2\r\nc: 3\r\n");
        assert_eq!(line_break("a: 1\r\nb: 2\n"), "\r\n");
        assert_eq!(line_break("a: 1\n"), "\n");
        assert_eq!(line_break("a: 1"), "\n");
    }

    #[test]
    fn removed_entries_take_their_comment_lines() {
        let file = "# the file's header\nexecutor: CeleryExecutor  # keep\n\napiServer:\n  service:\n    # exposed on the node\n    type: NodePort  # by --expose\n    ports:\n      - name: api-server\n        nodePort: 30080\n  replicas: 1\nz: 1\n";
        check_removal(
            file,
            &["apiServer.service.type"],
            "# the file's header\nexecutor: CeleryExecutor  # keep\n\napiServer:\n  service:\n    ports:\n      - name: api-server\n        nodePort: 30080\n  replicas: 1\nz: 1\n",
        );
        check_removal(
            file,
            &["apiServer.service"],
            "# the file's header\nexecutor: CeleryExecutor  # keep\n\napiServer:\n  replicas: 1\nz: 1\n",
        );
        check_removal(
            file,
            &["executor"],
            "# the file's header\n\napiServer:\n  service:\n    # exposed on the node\n    type: NodePort  # by --expose\n    ports:\n      - name: api-server\n        nodePort: 30080\n  replicas: 1\nz: 1\n",
        );
        check_removal("a: 1\nb: |\n  text\n\n# about c\nc: 3\n", &["b"], "a: 1\n\n# about c\nc: 3\n");
        check_removal("a: 1\r\n# b\r\nb: 2\r\n", &["b"], "a: 1\r\n");
        check_removal("a: 1\nb: 2", &["b"], "a: 1\n");
    }

    /// Keys from a `<<` merge and alias values are written elsewhere in the text: editing them
    /// there would change other entries, so the value holding them is rewritten (or the file
    /// written whole), always meaning the merge.
    #[test]
    fn aliases_and_merge_keys_are_never_edited_where_they_are_written() {
        for (original, path) in
            [("base: &b {x: 1}\nderived:\n  <<: *b\n  z: 2\n", ["derived", "x"]), ("a: &v 1\nb: *v\n", ["b", "c"])]
        {
            let document = Document::parse(original, "t").expect("parses");
            let mut merged = document.root.clone();
            if path[0] == "b" {
                merged.set_path(&path[..1], Node::int(2)).expect("set");
            } else {
                merged.set_path(&path, Node::int(5)).expect("set");
            }
            let written = write_back(Some((&document.text, document.root.clone())), &merged);
            assert_eq!(parse_document(&written.text, "w").expect("parses").to_json(), merged.to_json(), "{original}");
        }
    }
}
