//! Helm's two ways of combining values: file over file (`mergeMaps` in pkg/cli/values), and
//! user values over the chart's defaults (`coalesce` in pkg/chartutil), where a user null
//! deletes a key the chart defines.

use airflow_kit_core::yaml::Entry;
use airflow_kit_core::{Mapping, Node, NodeKind};

/// Folds `later` over `base` as Helm folds each `-f` file over the ones before: maps merge
/// recursively; anything else in `later` (a list, a scalar, a null) replaces what was there.
pub fn merge_maps(base: &mut Mapping, later: Mapping) {
    for (key, entry) in later.entries {
        let both_maps = matches!(entry.value.kind, NodeKind::Mapping(_))
            && matches!(base.get(&key).map(|node| &node.kind), Some(NodeKind::Mapping(_)));
        if both_maps {
            let NodeKind::Mapping(later_inner) = entry.value.kind else { continue };
            if let Some(NodeKind::Mapping(base_inner)) = base.get_mut(&key).map(|node| &mut node.kind) {
                merge_maps(base_inner, later_inner);
            }
            continue;
        }
        match base.entries.get_mut(&key) {
            // Keep the key as first written (its place and quoting), take the new value.
            Some(existing) => existing.value = entry.value,
            None => {
                base.entries.insert(key, entry);
            }
        }
    }
}

/// `merge_maps` of a copy of `base` with `later`, copying only what `later` leaves standing:
/// the cumulative file's tree stays whole for the in-place edit, and the first layer (the
/// whole document, when the install writes it) mostly replaces rather than copies it.
pub fn merged_onto(base: &Mapping, mut later: Mapping) -> Mapping {
    let mut result = Mapping::default();
    result.entries.reserve(base.len());
    let mut taken = vec![false; later.len()];
    for (key, base_entry) in &base.entries {
        let Some(index) = later.entries.get_index_of(key) else {
            result.entries.insert(key.clone(), base_entry.clone());
            continue;
        };
        taken[index] = true;
        let later_value = std::mem::replace(&mut later.entries[index].value, Node::null());
        let value = match (&base_entry.value.kind, later_value) {
            // Both maps: merged, and the map keeps where and how it was first written.
            (NodeKind::Mapping(base_inner), Node { kind: NodeKind::Mapping(later_inner), .. }) => Node {
                kind: NodeKind::Mapping(merged_onto(base_inner, later_inner)),
                span: base_entry.value.span,
                source: base_entry.value.source.clone(),
                flow: base_entry.value.flow,
            },
            (_, later_value) => later_value,
        };
        result.entries.insert(key.clone(), Entry { key: base_entry.key.clone(), key_span: base_entry.key_span, value });
    }
    for (index, (key, entry)) in later.entries.into_iter().enumerate() {
        if !taken[index] {
            result.entries.insert(key, entry);
        }
    }
    result
}

/// Which Helm's coalescing to follow. They differ in one place: below the top level, a user
/// null over a chart default that is itself null is deleted by Helm 3 and kept by Helm 4.
/// On the command line it is `--helm-major 3|4`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum HelmMajor {
    #[default]
    #[value(name = "3")]
    Three,
    #[value(name = "4")]
    Four,
}

impl HelmMajor {
    /// The flag's value for this major (`3`, `4`).
    pub fn as_arg(self) -> &'static str {
        match self {
            HelmMajor::Three => "3",
            HelmMajor::Four => "4",
        }
    }
}

/// The values the chart will see: `user` over the chart's `defaults`, as Helm's
/// CoalesceValues. Returns Helm's warnings for type conflicts.
pub fn coalesce(user: &mut Mapping, defaults: &Mapping, helm: HelmMajor) -> Vec<String> {
    let mut warnings = Vec::new();
    for (key, default_entry) in &defaults.entries {
        let default = &default_entry.value;
        let Some(value) = user.get(key) else {
            user.entries.insert(key.clone(), default_entry.clone());
            continue;
        };
        if value.is_null() {
            user.remove(key);
            continue;
        }
        let Some(NodeKind::Mapping(user_inner)) = user.get_mut(key).map(|node| &mut node.kind) else { continue };
        match &default.kind {
            NodeKind::Mapping(default_inner) => {
                coalesce_tables(user_inner, default_inner, &mut vec![key.as_str()], helm, &mut warnings)
            }
            _ if default.is_null() => {}
            _ => warnings.push(format!("warning: skipped value for {key}: Not a table.")),
        }
    }
    warnings
}

fn coalesce_tables<'a>(
    destination: &mut Mapping,
    source: &'a Mapping,
    path: &mut Vec<&'a str>,
    helm: HelmMajor,
    warnings: &mut Vec<String>,
) {
    for (key, source_entry) in &source.entries {
        path.push(key);
        // Helm's spelling of the path in its warnings: keys joined by dots.
        let full_key = path.join(".");
        let source_value = &source_entry.value;
        match destination.get(key) {
            None => {
                destination.entries.insert(key.clone(), source_entry.clone());
            }
            Some(value) if value.is_null() => {
                if helm == HelmMajor::Three || !source_value.is_null() {
                    destination.remove(key);
                }
            }
            Some(value) => {
                let destination_is_map = matches!(value.kind, NodeKind::Mapping(_));
                match &source_value.kind {
                    NodeKind::Mapping(source_inner) => {
                        if let Some(NodeKind::Mapping(inner)) = destination.get_mut(key).map(|node| &mut node.kind) {
                            coalesce_tables(inner, source_inner, path, helm, warnings);
                        } else {
                            warnings.push(format!(
                                "warning: cannot overwrite table with non table for {full_key} ({})",
                                go_value(path, source_value)
                            ));
                        }
                    }
                    _ if destination_is_map && !source_value.is_null() => warnings.push(format!(
                        "warning: destination for {full_key} is a table. Ignoring non-table value ({})",
                        go_value(path, source_value)
                    )),
                    _ => {}
                }
            }
        }
        path.pop();
    }
}

/// A short rendering of a value for warnings; a secret, or a map holding one, is masked.
fn go_value(path: &[&str], node: &Node) -> String {
    let holds_secret = airflow_kit_core::secrets::is_secret_path(path)
        || airflow_kit_core::yaml::leaves(node).iter().any(|leaf| {
            let full: Vec<&str> = path.iter().copied().chain(leaf.path.iter().copied()).collect();
            airflow_kit_core::secrets::is_secret_path(&full)
        });
    if holds_secret {
        return airflow_kit_core::secrets::REDACTED.to_string();
    }
    let text = node.to_json().to_string();
    if text.len() > 60 {
        format!("{}...", &text[..text.char_indices().nth(57).map_or(text.len(), |(i, _)| i)])
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use airflow_kit_core::yaml::parse_document;
    use serde_json::json;

    fn mapping(text: &str) -> Mapping {
        parse_document(text, "t").expect("parses").as_mapping().cloned().expect("mapping")
    }

    fn check_merge(first: &str, second: &str, expected: serde_json::Value) {
        let mut base = mapping(first);
        merge_maps(&mut base, mapping(second));
        assert_eq!(Node::new(NodeKind::Mapping(base)).to_json(), expected);
    }

    fn check_coalesce(user: &str, defaults: &str, expected: serde_json::Value) -> Vec<String> {
        let mut user = mapping(user);
        let warnings = coalesce(&mut user, &mapping(defaults), HelmMajor::Three);
        assert_eq!(Node::new(NodeKind::Mapping(user)).to_json(), expected);
        warnings
    }

    #[test]
    fn helm_merge_vectors() {
        check_merge("a: {x: 1, z: 2}", "a: {z: 3}", json!({"a": {"x": 1, "z": 3}}));
        check_merge("l: [1, 2]", "l: [3]", json!({"l": [3]}));
        check_merge("a: {x: 1}", "a: 5", json!({"a": 5}));
        check_merge("a: {x: 1}", "a: null", json!({"a": null}));
        check_merge("a: 5", "a: {x: 1}", json!({"a": {"x": 1}}));
    }

    #[test]
    fn helm_coalesce_vectors() {
        check_coalesce(
            "p: {httpGet: null, exec: {command: [x]}}",
            "p: {httpGet: {path: /}, timeout: 1}",
            json!({"p": {"exec": {"command": ["x"]}, "timeout": 1}}),
        );
        check_coalesce("a: null\nb: null", "a: 1", json!({"b": null}));
        let warnings = check_coalesce("a: {x: 5}", "a: {x: {w: 1}}", json!({"a": {"x": 5}}));
        assert_eq!(warnings, vec!["warning: cannot overwrite table with non table for a.x ({\"w\":1})"]);
    }

    #[test]
    fn helm_4_keeps_a_null_over_a_null_default() {
        let mut user = mapping("i: {tag: null, pull: null}");
        coalesce(&mut user, &mapping("i: {tag: null, pull: x}"), HelmMajor::Four);
        assert_eq!(Node::new(NodeKind::Mapping(user)).to_json(), json!({"i": {"tag": null}}));
    }

    /// A warning that quotes a chart default never quotes a secret one.
    #[test]
    fn coalesce_warnings_mask_secrets() {
        let warnings = check_coalesce(
            "redis: {password: {x: 1}, auth: 5}\n",
            "redis: {password: hunter22, auth: {token: s3cr3t-token}}\n",
            json!({"redis": {"password": {"x": 1}, "auth": 5}}),
        );
        assert_eq!(
            warnings,
            vec![
                "warning: destination for redis.password is a table. Ignoring non-table value (<redacted>)",
                "warning: cannot overwrite table with non table for redis.auth (<redacted>)",
            ]
        );
    }

    /// `merged_onto` is `merge_maps` onto a copy: the same result, key places and all.
    #[test]
    fn merged_onto_is_merge_maps_without_the_copy() {
        let cases = [
            ("a: {x: 1, z: 2}\nb: 1\n", "a: {z: 3, w: 4}\nc: 5\n"),
            ("l: [1, 2]\nm: {k: v}\n", "l: [3]\nm: 5\n"),
            ("a: 5\n'on': 1\n", "a: {x: 1}\n\"on\": 2\nnew: {deep: {er: 1}}\n"),
            ("a: {b: {c: {d: 1}}}\n", "a: {b: {c: null, e: 2}}\n"),
        ];
        for (first, second) in cases {
            let base = mapping(first);
            let mut expected = base.clone();
            merge_maps(&mut expected, mapping(second));
            let merged = merged_onto(&base, mapping(second));
            assert_eq!(merged, expected, "{first} + {second}");
            assert_eq!(base, mapping(first), "the base is left as it was");
        }
    }
}
