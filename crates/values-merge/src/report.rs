//! The two report modes: `--explain` (which input set each value) and `--diff` (what would
//! change against a file), both as YAML with secrets masked.

use airflow_kit_core::Node;
use airflow_kit_core::secrets::{REDACTED, is_secret_path};
use serde_json::{Value, json};

// The leaf walk and the path spelling are shared with helm-run's no-silent-drop check.
pub use airflow_kit_core::yaml::{Leaf, dotted, leaves};

/// `--explain`: for each value, the input that set it (`file:line:column`, or the flag).
pub fn explain(result: &Node) -> Value {
    let rows: Vec<Value> = leaves(result)
        .iter()
        .map(|leaf| {
            let from = match (&leaf.node.source, leaf.node.span) {
                (Some(source), Some(span)) => format!("{source}:{}:{}", span.start.line, span.start.column),
                (Some(source), None) => source.to_string(),
                (None, _) => "(made by values-merge)".to_string(),
            };
            json!({"path": dotted(&leaf.path), "from": from})
        })
        .collect();
    Value::Array(rows)
}

/// Counts of a diff, for the one-line summary on stderr.
pub struct DiffCounts {
    pub added: usize,
    pub changed: usize,
    pub removed: usize,
}

/// `--diff`: added, changed and removed values of `after` against `before`, secrets masked.
pub fn diff(before: &Node, after: &Node) -> (Value, DiffCounts) {
    let before_leaves = leaves(before);
    let after_leaves = leaves(after);
    let key = |leaf: &Leaf| dotted(&leaf.path);
    let before_map: std::collections::HashMap<String, &Leaf> = before_leaves.iter().map(|l| (key(l), l)).collect();
    let after_keys: std::collections::HashSet<String> = after_leaves.iter().map(key).collect();
    let mut added = Vec::new();
    let mut changed = Vec::new();
    let mut removed = Vec::new();
    for leaf in &after_leaves {
        let path = key(leaf);
        match before_map.get(&path) {
            None => added.push(json!({"path": path, "value": shown(leaf)})),
            Some(old) if old.node.to_json() != leaf.node.to_json() => {
                changed.push(json!({"path": path, "from": shown(old), "to": shown(leaf)}))
            }
            Some(_) => {}
        }
    }
    for leaf in &before_leaves {
        let path = key(leaf);
        if !after_keys.contains(&path) {
            removed.push(json!({"path": path, "value": shown(leaf)}));
        }
    }
    let counts = DiffCounts { added: added.len(), changed: changed.len(), removed: removed.len() };
    (json!({"added": added, "changed": changed, "removed": removed}), counts)
}

fn shown(leaf: &Leaf) -> Value {
    if is_secret_path(&leaf.path) { Value::String(REDACTED.to_string()) } else { leaf.node.to_json() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use airflow_kit_core::yaml::parse_document;

    #[test]
    fn diff_masks_secrets_and_lists_each_kind() {
        let before = parse_document("a: 1\nb: {c: 2}\nfernetKey: old\ngone: x\n", "before").expect("parses");
        let after = parse_document("a: 1\nb: {c: 3, d: [1]}\nfernetKey: new\n", "after").expect("parses");
        let (report, counts) = diff(&before, &after);
        assert_eq!((counts.added, counts.changed, counts.removed), (1, 2, 1));
        assert_eq!(
            report,
            json!({
                "added": [{"path": "b.d", "value": [1]}],
                "changed": [{"path": "b.c", "from": 2, "to": 3}, {"path": "fernetKey", "from": "<redacted>", "to": "<redacted>"}],
                "removed": [{"path": "gone", "value": "x"}]
            })
        );
    }

    #[test]
    fn explain_names_file_line_and_column() {
        let node = parse_document("a:\n  b.c: 1\n", "values.yaml").expect("parses");
        assert_eq!(explain(&node), json!([{"path": "a.b\\.c", "from": "values.yaml:2:8"}]));
    }
}
