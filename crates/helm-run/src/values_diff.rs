//! No silent drop: the values an upgrade is given, compared with the user values of the
//! release as deployed (`helm get values -o json`). Helm itself never warns that a setting
//! missing from the new file falls back to the chart default; this module lists each one.

use airflow_kit_core::secrets::{REDACTED, is_secret_path};
use airflow_kit_core::yaml::{dotted, leaves};
use airflow_kit_core::{Error, Node, from_json};
use serde_json::Value;

use crate::report::{AddedValue, ChangedValue, RemovedValue, ValuesDiffReport};

/// A value the deployed release has and the new values lack.
#[derive(Debug, Clone, PartialEq)]
pub struct Removed {
    /// The keys of the path, unescaped, for matching `--allow-removal`.
    pub keys: Vec<String>,
    /// The path as `--set` spells it (`a.b\.c`).
    pub path: String,
    /// The deployed value, secrets masked.
    pub value: Value,
}

/// The values-level diff of an upgrade. Every value is already masked: nothing here may be
/// printed unmasked, so nothing unmasked is kept.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ValuesDiff {
    pub removed: Vec<Removed>,
    pub changed: Vec<ChangedValue>,
    pub added: Vec<AddedValue>,
}

/// Compares the deployed user values (helm's JSON; `null` when the release has none) with the
/// new values document. A deployed leaf is removed when nothing at all is at its path now;
/// changed when something else is (numbers compared by value: Helm keeps file numbers as
/// float64 and prints `3` for a `3` that was written `3.0`).
pub fn compare(deployed: &Value, new: &Node) -> ValuesDiff {
    let deployed_tree = if deployed.is_null() { Node::mapping() } else { from_json(deployed) };
    let mut diff = ValuesDiff::default();
    for leaf in leaves(&deployed_tree) {
        // The value as helm printed it, not as it came back through the tree: exact numbers.
        let old = json_at(deployed, &leaf.path).cloned().unwrap_or(Value::Null);
        let path = dotted(&leaf.path);
        match new.get_path(&leaf.path) {
            None => diff.removed.push(Removed {
                keys: leaf.path.iter().map(|key| key.to_string()).collect(),
                value: masked(&leaf.path, &old),
                path,
            }),
            Some(node) => {
                let now = node.to_json();
                // An empty map that now has keys is not a change of its own: the keys show
                // up as added below.
                let filled_in = old.as_object().is_some_and(|map| map.is_empty()) && now.is_object();
                if !filled_in && !same_value(&old, &now) {
                    diff.changed.push(ChangedValue {
                        path,
                        from: masked(&leaf.path, &old),
                        to: masked(&leaf.path, &now),
                    });
                }
            }
        }
    }
    for leaf in leaves(new) {
        // New unless the deployed release has a value there already, or a scalar or list in
        // place of one of its parents (that one is listed as changed, whole).
        let deployed_here = deployed_tree.get_path(&leaf.path).is_some_and(is_leaf);
        let replaces_a_parent = (1..leaf.path.len())
            .any(|depth| deployed_tree.get_path(&leaf.path[..depth]).is_some_and(|node| node.as_mapping().is_none()));
        if !deployed_here && !replaces_a_parent {
            diff.added.push(AddedValue { path: dotted(&leaf.path), value: masked(&leaf.path, &leaf.node.to_json()) });
        }
    }
    diff
}

impl ValuesDiff {
    /// The removed values no flag acknowledges. `allow_all` is `--allow-removals`; each of
    /// `allowed` (parsed `--allow-removal` paths) covers itself and everything under it.
    pub fn unacknowledged(&self, allow_all: bool, allowed: &[Vec<String>]) -> Vec<&Removed> {
        if allow_all {
            return Vec::new();
        }
        self.removed.iter().filter(|removed| !allowed.iter().any(|prefix| removed.keys.starts_with(prefix))).collect()
    }

    /// The `values_diff` field of the upgrade report (README.md).
    pub fn report(
        &self,
        against_revision: Option<u64>,
        acknowledged: &[&Removed],
        unacknowledged: &[&Removed],
    ) -> ValuesDiffReport {
        ValuesDiffReport {
            checked: true,
            skipped: None,
            against_revision,
            removed: self
                .removed
                .iter()
                .map(|r| RemovedValue { path: r.path.clone(), value: r.value.clone() })
                .collect(),
            changed: self.changed.clone(),
            added: self.added.clone(),
            acknowledged: acknowledged.iter().map(|r| r.path.clone()).collect(),
            unacknowledged: unacknowledged.iter().map(|r| r.path.clone()).collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.removed.is_empty() && self.changed.is_empty() && self.added.is_empty()
    }
}

/// Reads a path as `--allow-removal` takes it (core's one reader of a dotted values path).
pub fn parse_path(text: &str) -> Result<Vec<String>, Error> {
    airflow_kit_core::values_path::parse("--allow-removal", text)
}

/// Parses helm's `get values -o json` output: a JSON object, or `null` for a release
/// installed without user values.
pub fn parse_deployed(stdout: &str) -> Result<Value, Error> {
    let value: Value = serde_json::from_str(stdout.trim()).map_err(|error| {
        Error::external(format!("`helm get values -o json` printed something that is not JSON: {error}"))
            .with_hint("run it by hand to see what it prints: `helm get values RELEASE -n NAMESPACE -o json`")
    })?;
    match value {
        Value::Null | Value::Object(_) => Ok(value),
        _ => Err(Error::external("`helm get values -o json` printed JSON that is not a mapping of values")
            .with_hint("run it by hand to see what it prints: `helm get values RELEASE -n NAMESPACE -o json`")),
    }
}

/// A value as it may be shown: everything at or under a secret path replaced by `<redacted>`,
/// also inside lists and maps (a list of env entries can hold a `password` key).
pub fn masked(path: &[&str], value: &Value) -> Value {
    if is_secret_path(path) {
        return Value::String(REDACTED.to_string());
    }
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(key, item)| {
                    let mut inner = path.to_vec();
                    inner.push(key);
                    (key.clone(), masked(&inner, item))
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(|item| masked(path, item)).collect()),
        _ => value.clone(),
    }
}

/// Equal as Helm sees values: numbers by their value (Helm reads file numbers as float64),
/// everything else exactly.
pub fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same_value(a, b)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(key, a)| y.get(key).is_some_and(|b| same_value(a, b)))
        }
        _ => a == b,
    }
}

/// A leaf as the walk sees it: anything but a map with keys.
fn is_leaf(node: &Node) -> bool {
    node.as_mapping().is_none_or(|mapping| mapping.is_empty())
}

fn json_at<'a>(value: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(value, |node, key| node.as_object()?.get(*key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use airflow_kit_core::yaml::parse_document;
    use serde_json::json;

    /// The diff of a deployed JSON against a new YAML document, as the report shows it.
    fn check(deployed: &str, new: &str, expected: Value) {
        let deployed = parse_deployed(deployed).expect("deployed parses");
        let new = parse_document(new, "new").expect("new parses");
        let report = serde_json::to_value(compare(&deployed, &new).report(Some(2), &[], &[])).expect("serializes");
        assert_eq!(report, expected);
    }

    fn diff(removed: Value, changed: Value, added: Value) -> Value {
        json!({"checked": true, "skipped": null, "against_revision": 2,
               "removed": removed, "changed": changed, "added": added, "acknowledged": [], "unacknowledged": []})
    }

    #[test]
    fn removed_changed_added_with_secrets_masked() {
        check(
            r#"{"dags":{"gitSync":{"enabled":true,"knownHosts":"github.com ssh-rsa AAAA\u003cx\u003e","sshKeySecret":"airflow-ssh-secret"}},"extraSecrets":{"airflow-ssh-secret":{"data":"gitSshKey: 'c2VjcmV0'\n"}},"webserverSecretKey":"old-secret","workers":{"replicas":3}}"#,
            "webserverSecretKey: new-secret\nworkers:\n  replicas: 3.0\nextraSecrets:\n  airflow-ssh-secret:\n    data: |\n      gitSshKey: 'c2VjcmV0'\nexecutor: KubernetesExecutor\n",
            diff(
                json!([
                    {"path": "dags.gitSync.enabled", "value": true},
                    {"path": "dags.gitSync.knownHosts", "value": "github.com ssh-rsa AAAA<x>"},
                    {"path": "dags.gitSync.sshKeySecret", "value": "airflow-ssh-secret"},
                ]),
                json!([{"path": "webserverSecretKey", "from": "<redacted>", "to": "<redacted>"}]),
                json!([{"path": "executor", "value": "KubernetesExecutor"}]),
            ),
        );
    }

    #[test]
    fn no_user_values_lists_are_leaves_and_dotted_keys_escaped() {
        check("null\n", "a: 1\n", diff(json!([]), json!([]), json!([{"path": "a", "value": 1}])));
        check(
            r#"{"l":[1,2]}"#,
            "l: [1]\n",
            diff(json!([]), json!([{"path": "l", "from": [1, 2], "to": [1]}]), json!([])),
        );
        check(
            r#"{"ann":{"a.b/c":"x"},"e":{}}"#,
            "e: {k: 1}\n",
            diff(json!([{"path": "ann.a\\.b/c", "value": "x"}]), json!([]), json!([{"path": "e.k", "value": 1}])),
        );
        // A scalar where a map was: the map's leaves are gone, the scalar is new.
        check(
            r#"{"a":{"b":1}}"#,
            "a: 5\n",
            diff(json!([{"path": "a.b", "value": 1}]), json!([]), json!([{"path": "a", "value": 5}])),
        );
        // A map where a scalar was: one change, not a change and an addition.
        check(
            r#"{"a":5}"#,
            "a: {b: 1}\n",
            diff(json!([]), json!([{"path": "a", "from": 5, "to": {"b": 1}}]), json!([])),
        );
        // Helm reads a plain `n` key as false (YAML 1.1), so it is not the deployed "n".
        check(
            r#"{"n":1}"#,
            "n: 1\n",
            diff(json!([{"path": "n", "value": 1}]), json!([]), json!([{"path": "false", "value": 1}])),
        );
        // A null set on purpose is a change, not a drop (it deletes the chart default).
        check(r#"{"a":1}"#, "a: null\n", diff(json!([]), json!([{"path": "a", "from": 1, "to": null}]), json!([])));
    }

    #[test]
    fn numbers_compare_by_value_and_secrets_inside_lists_are_masked() {
        check(
            r#"{"count":3,"f":1.5,"big":1000000}"#,
            "count: 3.0\nf: 1.50\nbig: 1000000.0\n",
            diff(json!([]), json!([]), json!([])),
        );
        check(
            r#"{"env":[{"name":"A","password":"p"}]}"#,
            "{}\n",
            diff(json!([{"path": "env", "value": [{"name": "A", "password": "<redacted>"}]}]), json!([]), json!([])),
        );
    }

    #[test]
    fn acknowledgement_covers_a_path_and_everything_under_it() {
        let deployed =
            parse_deployed(r#"{"dags":{"gitSync":{"enabled":true,"repo":"r"}},"a.b":{"c":1},"x":1}"#).expect("parses");
        let diff = compare(&deployed, &Node::mapping());
        let open = |all: bool, allowed: &[&str]| -> Vec<String> {
            let allowed: Vec<Vec<String>> = allowed.iter().map(|p| parse_path(p).expect("path")).collect();
            diff.unacknowledged(all, &allowed).iter().map(|r| r.path.clone()).collect()
        };
        assert_eq!(open(false, &[]), ["dags.gitSync.enabled", "dags.gitSync.repo", "a\\.b.c", "x"]);
        assert_eq!(open(false, &["dags.gitSync", "a\\.b"]), ["x"]);
        assert_eq!(open(false, &["dags.git"]), ["dags.gitSync.enabled", "dags.gitSync.repo", "a\\.b.c", "x"]);
        assert!(open(true, &[]).is_empty());
        assert!(parse_path("a..b").is_err() && parse_path(".a").is_err() && parse_path("a\\").is_err());
        assert_eq!(parse_path("a\\\\b.c").expect("path"), ["a\\b", "c"]);
    }

    #[test]
    fn deployed_output_that_is_not_a_mapping_is_an_external_error() {
        assert_eq!(parse_deployed("dags:\n  x: 1\n").expect_err("yaml").code.code(), 3);
        assert_eq!(parse_deployed("[1]").expect_err("list").code.code(), 3);
        assert_eq!(parse_deployed("null\n").expect("null"), Value::Null);
    }
}
