//! A Kubernetes Secret as `kubectl get secret -o json` prints it (one object or a `List`), with
//! its `data` base64-decoded: the one decoder that pod-inspect, secret-gen and the install use.

use std::collections::BTreeMap;

use base64::Engine;
use serde::Deserialize;

use crate::error::Error;

/// One Secret: its name and its decoded data. The values are secrets: never print them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Secret {
    pub name: String,
    pub data: BTreeMap<String, Vec<u8>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Object {
    kind: String,
    metadata: Metadata,
    data: BTreeMap<String, String>,
    items: Vec<Object>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Metadata {
    name: String,
}

/// Every Secret in kubectl's JSON: a single `Secret` or a `List` of them. `source` names the
/// command or file for the error.
pub fn parse_secrets(json: &[u8], source: &str) -> Result<Vec<Secret>, Error> {
    // serde's message quotes the offending value, which may be a secret: only its place is
    // shown.
    let object: Object = serde_json::from_slice(json).map_err(|error| {
        let why = if error.is_syntax() || error.is_eof() {
            format!("invalid JSON at line {}, column {}", error.line(), error.column())
        } else {
            "a field has the wrong type".to_string()
        };
        Error::external(format!("`{source}` is not the JSON of Kubernetes Secrets ({why})"))
            .with_hint("it must be what `kubectl get secret(s) -o json` prints")
    })?;
    let objects = if object.kind == "List" || object.kind == "SecretList" { object.items } else { vec![object] };
    objects
        .into_iter()
        .map(|object| {
            if object.kind != "Secret" {
                let kind = if object.kind.is_empty() {
                    "an object without a kind".to_string()
                } else {
                    format!("a `{}`", object.kind)
                };
                return Err(Error::external(format!(
                    "`{source}` is not a list of Kubernetes Secrets (it holds {kind})"
                ))
                .with_hint("it must be what `kubectl get secret(s) -o json` prints"));
            }
            decode(object.metadata.name, &object.data)
        })
        .collect()
}

/// Decodes every value of a Secret's `data`. A value that is not base64 is an error naming
/// the Secret and the key, never showing the value.
pub fn decode(name: String, data: &BTreeMap<String, String>) -> Result<Secret, Error> {
    let mut decoded = BTreeMap::new();
    for (key, value) in data {
        let bytes = base64::engine::general_purpose::STANDARD.decode(value.trim()).map_err(|_| {
            Error::external(format!("secret `{name}` key `{key}` is not valid base64"))
                .with_hint("the API always returns base64; check what kubectl printed with `-o json`")
        })?;
        decoded.insert(key.clone(), bytes);
    }
    Ok(Secret { name, data: decoded })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_secret_or_a_list() {
        let one = br#"{"kind":"Secret","metadata":{"name":"a"},"data":{"k":"aGk="}}"#;
        let secrets = parse_secrets(one, "kubectl").expect("parses");
        assert_eq!(secrets, vec![Secret { name: "a".into(), data: BTreeMap::from([("k".into(), b"hi".to_vec())]) }]);
        let list = br#"{"kind":"List","items":[{"kind":"Secret","metadata":{"name":"a"}},{"kind":"Secret","metadata":{"name":"b"},"data":{"x":"eA=="}}]}"#;
        let names: Vec<String> = parse_secrets(list, "kubectl").expect("parses").into_iter().map(|s| s.name).collect();
        assert_eq!(names, ["a", "b"]);
    }

    #[test]
    fn a_value_of_the_wrong_type_is_not_quoted_and_other_kinds_are_refused() {
        let error = parse_secrets(br#"{"kind":"Secret","metadata":{"name":"a"},"data":"hunter2"}"#, "kubectl")
            .expect_err("data is not a map");
        assert!(!error.message.contains("hunter2"), "{}", error.message);
        let error =
            parse_secrets(br#"{"kind":"List","items":[{"kind":"ConfigMap","metadata":{"name":"c"}}]}"#, "kubectl")
                .expect_err("not a Secret");
        assert!(error.message.contains("`ConfigMap`"), "{}", error.message);
    }

    #[test]
    fn bad_base64_names_the_key_not_the_value() {
        let bad = br#"{"kind":"Secret","metadata":{"name":"a"},"data":{"password":"hunter2!!"}}"#;
        let error = parse_secrets(bad, "kubectl").expect_err("bad base64");
        assert!(error.message.contains("`password`") && !error.message.contains("hunter2"), "{}", error.message);
    }
}
