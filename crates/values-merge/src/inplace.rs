//! Writing the merged values back into a file people edit by hand: only the lines whose values
//! change are touched; comments, blank lines, key order and quoting everywhere else stay.

use airflow_kit_core::yaml::{Node, NodeKind, emit_entry};

/// The new text of `original_text` (parsed as `original`) so that it means `merged`. Entries
/// whose meaning is unchanged keep their exact lines; a changed value is rewritten where it
/// stands; a new key is added after the last entry of its mapping. Returns None when the file
/// cannot be edited line by line (then the caller writes the whole document).
pub fn edit(original_text: &str, original: &Node, merged: &Node) -> Option<String> {
    let NodeKind::Mapping(original_map) = &original.kind else { return None };
    if original_map.is_empty() || original.flow {
        return None;
    }
    let text = Text::new(original_text);
    let mut edits = Vec::new();
    edit_mapping(&text, original, merged, &mut edits)?;
    let mut out = original_text.to_string();
    edits.sort_by_key(|edit| std::cmp::Reverse(edit.start));
    for edit in edits {
        out.replace_range(edit.start..edit.end, &edit.replacement);
    }
    Some(out)
}

struct Edit {
    start: usize,
    end: usize,
    replacement: String,
}

/// The source with a character-index to byte-offset table (spans count characters).
struct Text<'a> {
    source: &'a str,
    offsets: Vec<usize>,
}

impl<'a> Text<'a> {
    fn new(source: &'a str) -> Text<'a> {
        let mut offsets: Vec<usize> = source.char_indices().map(|(offset, _)| offset).collect();
        offsets.push(source.len());
        Text { source, offsets }
    }

    fn byte(&self, char_index: usize) -> usize {
        self.offsets.get(char_index).copied().unwrap_or(self.source.len())
    }

    /// The byte just after the end of the line holding `byte` (after its newline).
    fn line_end_after(&self, byte: usize) -> usize {
        if byte > 0 && self.source.as_bytes().get(byte - 1) == Some(&b'\n') {
            return byte;
        }
        match self.source[byte..].find('\n') {
            Some(newline) => byte + newline + 1,
            None => self.source.len(),
        }
    }
}

fn edit_mapping(text: &Text, original: &Node, merged: &Node, edits: &mut Vec<Edit>) -> Option<()> {
    let original_map = original.as_mapping()?;
    let merged_map = merged.as_mapping()?;
    // Keys are written at the column of the mapping's first key.
    let indent = original_map.entries.values().next()?.key_span?.start.column - 1;
    for (key, merged_entry) in &merged_map.entries {
        let merged_value = &merged_entry.value;
        let Some(original_entry) = original_map.entries.get(key) else {
            let end = text.byte(original.span?.end.index);
            let at = text.line_end_after(end);
            let mut line = String::new();
            if at == text.source.len() && !text.source.ends_with('\n') {
                line.push('\n');
            }
            line.push_str(&emit_entry(&merged_entry.key, merged_value, indent));
            edits.push(Edit { start: at, end: at, replacement: line });
            continue;
        };
        let original_value = &original_entry.value;
        if original_value.same_meaning(merged_value) {
            continue;
        }
        let both_block_maps = !original_value.flow
            && original_value.as_mapping().is_some_and(|m| !m.is_empty())
            && merged_value.as_mapping().is_some_and(|m| !m.is_empty());
        if both_block_maps {
            edit_mapping(text, original_value, merged_value, edits)?;
            continue;
        }
        // Rewrite the value in place: from just after `key:` to the value's end.
        let key_end = text.byte(original_entry.key_span?.end.index);
        let colon = key_end + text.source[key_end..].find(':')?;
        let value_span = original_value.span?;
        let mut value_end = text.byte(value_span.end.index).max(colon + 1);
        // A block scalar's span runs through its final line break; keep that break.
        if matches!(original_value.kind, NodeKind::Scalar(_)) {
            while value_end > colon + 1 && text.source.as_bytes()[value_end - 1] == b'\n' {
                value_end -= 1;
            }
        }
        let entry = emit_entry(&original_entry.key, merged_value, indent);
        let after_colon = &entry[entry.find(':')? + 1..];
        let replacement = after_colon.strip_suffix('\n').unwrap_or(after_colon).to_string();
        edits.push(Edit { start: colon + 1, end: value_end, replacement });
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merge::merge_maps;
    use airflow_kit_core::yaml::parse_document;

    /// Merges `overlay` into `original` and edits the text; checks the result means the merge.
    fn check(original: &str, overlay: &str, expected: &str) {
        let original_node = parse_document(original, "values.yaml").expect("parses");
        let mut merged = original_node.clone();
        let overlay = parse_document(overlay, "overlay").expect("parses");
        merge_maps(merged.as_mapping_mut().expect("map"), overlay.as_mapping().cloned().expect("map"));
        let edited = edit(original, &original_node, &merged).expect("editable");
        assert_eq!(edited, expected);
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

    #[test]
    fn replaces_maps_lists_and_block_scalars() {
        check("a:\n  x: 1\nb: 2\n", "a: 5\n", "a: 5\nb: 2\n");
        check("a: 5\nb: 2\n", "a: {x: 1}\n", "a:\n  x: 1\nb: 2\n");
        check("l: [1, 2]  # list\nz: 1\n", "l: [3]\n", "l:\n  - 3  # list\nz: 1\n");
        check("k: |\n  old line\nz: 1\n", "k: \"new\\n\"\n", "k: \"new\\n\"\nz: 1\n");
        check("k: |\n  old line\nz: 1\n", "k: |\n  new\n", "k: |\n  new\nz: 1\n");
        check("a: 1", "b: 2\n", "a: 1\nb: 2\n");
        check("    a: 1\n    b: 2\n", "c: {d: 1}\n", "    a: 1\n    b: 2\n    c:\n      d: 1\n");
    }
}
