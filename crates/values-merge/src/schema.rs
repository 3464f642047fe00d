//! Checking values against a chart's values.schema.json, as Helm does before rendering, but
//! listing every error with its path, its place in the input, and a hint.

use std::path::Path;

use airflow_kit_core::secrets::{REDACTED, is_secret_path};
use airflow_kit_core::yaml::read_text_file;
use airflow_kit_core::{Error, Node, NodeKind};

/// One schema violation.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    /// JSON pointer of the offending value (`/dags/gitsync`).
    pub path: String,
    pub message: String,
    /// `file:line:column` of the value in the inputs, when known.
    pub place: Option<String>,
    pub hint: Option<String>,
}

/// A compiled schema and its JSON (for hints that name the allowed keys).
pub struct Schema {
    validator: jsonschema::Validator,
    json: serde_json::Value,
}

impl Schema {
    pub fn load(path: &Path) -> Result<Schema, Error> {
        let text = read_text_file(path)?;
        let json: serde_json::Value = serde_json::from_str(&text).map_err(|error| {
            Error::bad_input(format!(
                "cannot read schema `{}`: line {}, column {}: {error}",
                path.display(),
                error.line(),
                error.column()
            ))
            .with_hint("pass the chart's values.schema.json (JSON Schema)")
        })?;
        let validator = jsonschema::validator_for(&json).map_err(|error| {
            Error::bad_input(format!("`{}` is not a valid JSON Schema: {error}", path.display()))
                .with_hint("pass the chart's values.schema.json")
        })?;
        Ok(Schema { validator, json })
    }

    /// Every violation of `values` (in document order of the schema's checks). A message
    /// about a value that is a secret, or holds one (a whole `extraSecrets` map), names its
    /// type, never the value: these messages reach a terminal and the install's log.
    pub fn check(&self, values: &Node) -> Vec<Violation> {
        let instance = values.to_json();
        let secrets = secret_texts(&instance);
        let mut violations: Vec<Violation> = self
            .validator
            .iter_errors(&instance)
            .map(|error| {
                let mut path = error.instance_path().to_string();
                let mut hint = None;
                if let jsonschema::error::ValidationErrorKind::AdditionalProperties { unexpected } = error.kind() {
                    if let Some(name) = unexpected.first() {
                        hint = self
                            .closest_key(&path, name)
                            .map(|close| format!("did you mean `{close}`? keys are case-sensitive"));
                        path = format!("{path}/{}", escape_pointer(name));
                    }
                } else if let jsonschema::error::ValidationErrorKind::Type { .. } = error.kind() {
                    hint = type_hint(&instance, &path, &error.to_string());
                }
                let place = place_of(values, &path);
                let message = match secret_at(&instance, error.instance_path().as_str()) {
                    Some(kind) => error.masked_with(format!("{REDACTED} (a secret {kind})")).to_string(),
                    None => error.to_string(),
                };
                // A second net, by value: a secret copied to a path that is not named as one.
                let message = scrub(&message, &secrets);
                let hint = hint.map(|hint| scrub(&hint, &secrets));
                Violation { path, message, place, hint }
            })
            .collect();
        violations.dedup_by(|a, b| a.path == b.path && a.message == b.message);
        violations
    }

    /// The allowed key at `parent` closest to `name` (case or one or two letters off).
    fn closest_key(&self, parent: &str, name: &str) -> Option<String> {
        let mut schema = &self.json;
        for segment in parent.split('/').filter(|s| !s.is_empty()) {
            schema = self.resolve(schema);
            schema = schema.get("properties")?.get(unescape_pointer(segment))?;
        }
        let properties = self.resolve(schema).get("properties")?.as_object()?;
        properties
            .keys()
            .map(|key| (airflow_kit_core::suggest::edit_distance(&key.to_lowercase(), &name.to_lowercase()), key))
            .filter(|(distance, _)| *distance <= 2)
            .min()
            .map(|(_, key)| key.clone())
    }

    /// Follows a local `$ref` (`#/definitions/...`).
    fn resolve<'a>(&'a self, schema: &'a serde_json::Value) -> &'a serde_json::Value {
        match schema.get("$ref").and_then(|r| r.as_str()).and_then(|r| r.strip_prefix('#')) {
            Some(pointer) => self.json.pointer(pointer).unwrap_or(schema),
            None => schema,
        }
    }
}

/// Renders violations as one error (exit 2) listing each, with the input named.
pub fn violations_error(violations: &[Violation], what: &str) -> Error {
    let mut lines = Vec::new();
    for violation in violations {
        let place = violation.place.as_deref().map(|p| format!(" ({p})")).unwrap_or_default();
        lines.push(format!("{}{place}: {}", violation.path, violation.message));
        if let Some(hint) = &violation.hint {
            lines.push(format!("  hint: {hint}"));
        }
    }
    let count = violations.len();
    let plural = if count == 1 { "" } else { "s" };
    Error::bad_input(format!("{what} {count} schema error{plural}"))
        .with_detail(lines.join("\n"))
        .with_hint("fix each path listed above; `helm upgrade` would refuse these values too")
}

/// When the value at `pointer` is a secret or holds one, what kind of value it is (for the
/// masked message); None when it can be shown.
fn secret_at(instance: &serde_json::Value, pointer: &str) -> Option<&'static str> {
    let value = instance.pointer(pointer)?;
    let path: Vec<String> = pointer.split('/').skip(1).map(unescape_pointer).collect();
    let mut path: Vec<&str> = path.iter().map(String::as_str).collect();
    holds_secret(value, &mut path).then_some(match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "boolean",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "list",
        serde_json::Value::Object(_) => "mapping",
    })
}

fn holds_secret<'a>(value: &'a serde_json::Value, path: &mut Vec<&'a str>) -> bool {
    if is_secret_path(path) {
        return true;
    }
    match value {
        serde_json::Value::Object(object) => object.iter().any(|(key, value)| {
            path.push(key);
            let found = holds_secret(value, path);
            path.pop();
            found
        }),
        // An item is named by its list's key: a list of passwords is secret as a whole.
        serde_json::Value::Array(items) => items.iter().any(|item| holds_secret(item, path)),
        _ => false,
    }
}

/// The text of every secret value in the document, as a message could quote it (JSON text and
/// raw), for [`scrub`]. Very short values are left out: masking `1` in a message would mask
/// line numbers, and a secret that short is no secret.
fn secret_texts(instance: &serde_json::Value) -> Vec<String> {
    let mut texts = Vec::new();
    collect_secret_texts(instance, &mut Vec::new(), false, &mut texts);
    texts.retain(|text| text.chars().count() >= 4);
    // Longest first, so a secret that contains another is masked whole.
    texts.sort_by_key(|text| std::cmp::Reverse(text.len()));
    texts.dedup();
    texts
}

fn collect_secret_texts<'a>(
    value: &'a serde_json::Value,
    path: &mut Vec<&'a str>,
    inside_secret: bool,
    texts: &mut Vec<String>,
) {
    let secret = inside_secret || is_secret_path(path);
    match value {
        serde_json::Value::Object(object) => {
            for (key, value) in object {
                path.push(key);
                collect_secret_texts(value, path, secret, texts);
                path.pop();
            }
        }
        serde_json::Value::Array(items) => {
            items.iter().for_each(|item| collect_secret_texts(item, path, secret, texts));
        }
        serde_json::Value::String(text) if secret => {
            texts.push(serde_json::Value::String(text.clone()).to_string());
            texts.extend(text.lines().map(|line| line.trim().to_string()));
        }
        serde_json::Value::Number(number) if secret => texts.push(number.to_string()),
        _ => {}
    }
}

fn scrub(text: &str, secrets: &[String]) -> String {
    let mut text = text.to_string();
    for secret in secrets {
        if text.contains(secret.as_str()) {
            text = text.replace(secret.as_str(), REDACTED);
        }
    }
    text
}

fn type_hint(instance: &serde_json::Value, path: &str, message: &str) -> Option<String> {
    let value = instance.pointer(path)?;
    if message.contains("\"boolean\"") && value.is_string() {
        return Some("write `true` or `false` without quotes; a quoted \"yes\" is a string".to_string());
    }
    if message.contains("\"string\"") && value.is_object() && path.starts_with("/extraSecrets/") {
        return Some("write it as a string block: `data: |` followed by indented `key: base64` lines".to_string());
    }
    if message.contains("\"string\"") && (value.is_number() || value.is_boolean()) {
        return Some("quote the value so it stays text: `\"...\"`".to_string());
    }
    None
}

/// `file:line:column` of the value at a JSON pointer: the key's position for a mapping
/// entry (where a person looks), the item's own for a list item.
fn place_of(root: &Node, pointer: &str) -> Option<String> {
    let mut current = root;
    let mut place = None;
    for segment in pointer.split('/').filter(|s| !s.is_empty()) {
        let segment = unescape_pointer(segment);
        match &current.kind {
            NodeKind::Mapping(mapping) => {
                let entry = mapping.entries.get(&segment)?;
                place = entry.key_span.map(|span| span.start).or(entry.value.span.map(|span| span.start));
                current = &entry.value;
            }
            NodeKind::Sequence(items) => {
                current = items.get(segment.parse::<usize>().ok()?)?;
                place = current.span.map(|span| span.start);
            }
            NodeKind::Scalar(_) => return None,
        }
    }
    let place = place?;
    Some(format!("{}:{}:{}", current.source.as_deref()?, place.line, place.column))
}

fn escape_pointer(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

fn unescape_pointer(segment: &str) -> String {
    segment.replace("~1", "/").replace("~0", "~")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_escape_slashes() {
        assert_eq!(escape_pointer("a/b~c"), "a~1b~0c");
        assert_eq!(unescape_pointer("a~1b~0c"), "a/b~c");
    }
}
