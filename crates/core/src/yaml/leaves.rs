//! A values tree as its leaves, each with its path: what every values-level diff and
//! listing walks (values-merge's `--diff`/`--explain`, helm-run's no-silent-drop check).

use super::{Node, NodeKind};

/// One value of a tree: its path of mapping keys and the node (a scalar, a list, or an empty
/// map).
pub struct Leaf<'a> {
    pub path: Vec<&'a str>,
    pub node: &'a Node,
}

/// Every leaf, in document order. Lists are leaves: Helm replaces them whole. An empty map is
/// a leaf too (it is a value a user wrote); the root itself never is.
pub fn leaves(node: &Node) -> Vec<Leaf<'_>> {
    let mut out = Vec::new();
    collect(node, &mut Vec::new(), &mut out);
    out
}

fn collect<'a>(node: &'a Node, path: &mut Vec<&'a str>, out: &mut Vec<Leaf<'a>>) {
    match &node.kind {
        NodeKind::Mapping(mapping) if !mapping.is_empty() => {
            for (key, entry) in &mapping.entries {
                path.push(key.as_str());
                collect(&entry.value, path, out);
                path.pop();
            }
        }
        _ if path.is_empty() => {}
        _ => out.push(Leaf { path: path.clone(), node }),
    }
}

/// A path as `--set` would spell it: keys joined by dots, dots inside keys escaped (`\.`), and
/// backslashes doubled so the spelling can be read back unambiguously.
pub fn dotted(path: &[&str]) -> String {
    path.iter().map(|key| key.replace('\\', "\\\\").replace('.', "\\.")).collect::<Vec<_>>().join(".")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse_document;

    #[test]
    fn leaves_are_scalars_lists_and_empty_maps_in_order() {
        let node = parse_document("a: {b: 1, c: [1, 2]}\ne: {}\n\"x.y\": {z: null}\n", "t").expect("parses");
        let paths: Vec<String> = leaves(&node).iter().map(|leaf| dotted(&leaf.path)).collect();
        assert_eq!(paths, ["a.b", "a.c", "e", "x\\.y.z"]);
        assert!(leaves(&parse_document("{}\n", "t").expect("parses")).is_empty());
        assert_eq!(dotted(&["a\\b", "c"]), "a\\\\b.c");
    }
}
