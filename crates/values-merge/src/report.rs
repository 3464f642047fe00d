//! The two report modes: `--explain` (which input set each value) and `--diff` (what would
//! change against a file), typed so a reader deserializes what values-merge serializes; both
//! are written with core's `report::to_yaml`, secrets masked.

use airflow_kit_core::Node;
use airflow_kit_core::secrets::{REDACTED, is_secret_path};
use serde::{Deserialize, Serialize};
use serde_json::Value;

// The leaf walk and the path spelling are shared with helm-run's no-silent-drop check.
pub use airflow_kit_core::yaml::{Leaf, dotted, leaves};

/// One row of `--explain`: a value's path and the input that set it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Source {
    pub path: String,
    /// `file:line:column`, the flag (`--set workers.replicas`), or `(made by values-merge)`.
    pub from: String,
}

/// `--diff`: what the result adds, changes and removes against a file.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Diff {
    pub added: Vec<Valued>,
    pub changed: Vec<Changed>,
    pub removed: Vec<Valued>,
}

/// A value added or removed, shown masked when its path is a secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Valued {
    pub path: String,
    pub value: Value,
}

/// A value that changed, both sides masked when its path is a secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Changed {
    pub path: String,
    pub from: Value,
    pub to: Value,
}

/// `--explain`: for each value, the input that set it (`file:line:column`, or the flag).
pub fn explain(result: &Node) -> Vec<Source> {
    leaves(result)
        .iter()
        .map(|leaf| {
            let from = match (&leaf.node.source, leaf.node.span) {
                (Some(source), Some(span)) => format!("{source}:{}:{}", span.start.line, span.start.column),
                (Some(source), None) => source.to_string(),
                (None, _) => "(made by values-merge)".to_string(),
            };
            Source { path: dotted(&leaf.path), from }
        })
        .collect()
}

/// `--diff`: added, changed and removed values of `after` against `before`, secrets masked.
pub fn diff(before: &Node, after: &Node) -> Diff {
    let before_leaves = leaves(before);
    let after_leaves = leaves(after);
    let key = |leaf: &Leaf| dotted(&leaf.path);
    let before_map: std::collections::HashMap<String, &Leaf> = before_leaves.iter().map(|l| (key(l), l)).collect();
    let after_keys: std::collections::HashSet<String> = after_leaves.iter().map(key).collect();
    let mut diff = Diff::default();
    for leaf in &after_leaves {
        let path = key(leaf);
        match before_map.get(&path) {
            None => diff.added.push(Valued { path, value: shown(leaf) }),
            Some(old) if old.node.to_json() != leaf.node.to_json() => {
                diff.changed.push(Changed { path, from: shown(old), to: shown(leaf) })
            }
            Some(_) => {}
        }
    }
    for leaf in &before_leaves {
        let path = key(leaf);
        if !after_keys.contains(&path) {
            diff.removed.push(Valued { path, value: shown(leaf) });
        }
    }
    diff
}

fn shown(leaf: &Leaf) -> Value {
    if is_secret_path(&leaf.path) { Value::String(REDACTED.to_string()) } else { leaf.node.to_json() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use airflow_kit_core::report::{from_yaml, to_yaml};
    use airflow_kit_core::yaml::parse_document;
    use serde_json::json;

    #[test]
    fn diff_masks_secrets_and_lists_each_kind() {
        let before = parse_document("a: 1\nb: {c: 2}\nfernetKey: old\ngone: x\n", "before").expect("parses");
        let after = parse_document("a: 1\nb: {c: 3, d: [1]}\nfernetKey: new\n", "after").expect("parses");
        let report = diff(&before, &after);
        let text = to_yaml(&report).expect("writes");
        assert_eq!(
            text,
            "added:\n  - path: b.d\n    value:\n      - 1\nchanged:\n  - path: b.c\n    from: 2\n    to: 3\n  - path: fernetKey\n    from: <redacted>\n    to: <redacted>\nremoved:\n  - path: gone\n    value: x\n"
        );
        assert_eq!(from_yaml::<Diff>(&text, "values-merge --diff").expect("reads back"), report);
        assert_eq!(report.changed[0], Changed { path: "b.c".into(), from: json!(2), to: json!(3) });
    }

    #[test]
    fn explain_names_file_line_and_column() {
        let node = parse_document("a:\n  b.c: 1\n", "values.yaml").expect("parses");
        let report = explain(&node);
        assert_eq!(report, vec![Source { path: "a.b\\.c".into(), from: "values.yaml:2:8".into() }]);
        let text = to_yaml(&report).expect("writes");
        // A list at the top, as it always was (core's `from_yaml` reads mappings only).
        assert_eq!(text, "- path: a.b\\.c\n  from: values.yaml:2:8\n");
    }
}
