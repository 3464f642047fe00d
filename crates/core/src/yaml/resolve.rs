//! What a scalar means to Helm. Helm reads values with sigs.k8s.io/yaml, which resolves plain
//! scalars by go-yaml v2's YAML 1.1 rules: `yes`/`on`/`y` are booleans, `0755` is octal,
//! `1_000` is 1000, `~` is null, and timestamp-looking text stays a string.

use super::{Node, NodeKind, Scalar, ScalarStyle};

/// The type and value Helm reads from a scalar.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Resolved {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    Str,
}

/// Resolves a plain (unquoted, untagged) scalar exactly as go-yaml v2's `resolve("", text)`.
pub fn resolve_plain(text: &str) -> Resolved {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Resolved::Null,
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return Resolved::Bool(true);
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return Resolved::Bool(false);
        }
        ".nan" | ".NaN" | ".NAN" => return Resolved::Float(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => return Resolved::Float(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => return Resolved::Float(f64::NEG_INFINITY),
        _ => {}
    }
    let first = text.as_bytes()[0];
    match first {
        b'.' => {
            // go-yaml hands these straight to strconv.ParseFloat.
            if is_yaml_float(text)
                && let Some(value) = parse_finite_float(text)
            {
                return Resolved::Float(value);
            }
            Resolved::Str
        }
        b'0'..=b'9' | b'+' | b'-' => resolve_number(text),
        _ => Resolved::Str,
    }
}

/// Resolves any scalar: quoted and block scalars are strings unless an explicit core tag
/// says otherwise; unknown tags (`!!binary`, `!custom`) are strings to Helm.
pub fn resolve_scalar(scalar: &Scalar) -> Resolved {
    let tag = scalar.tag.as_deref().map(short_tag);
    match tag {
        None => match scalar.style {
            ScalarStyle::Plain => resolve_plain(&scalar.text),
            _ => Resolved::Str,
        },
        Some("!!str") => Resolved::Str,
        Some("!!null" | "!!bool" | "!!int" | "!!float") => {
            let resolved = resolve_plain(&scalar.text);
            match (tag, resolved) {
                (Some("!!float"), Resolved::Int(value)) => Resolved::Float(value as f64),
                (Some("!!float"), Resolved::Uint(value)) => Resolved::Float(value as f64),
                _ => resolved,
            }
        }
        Some(_) => Resolved::Str,
    }
}

/// The map key Helm ends up with: keys are strings in Helm's values, and sigs.k8s.io/yaml
/// turns a boolean or number key into its text (`on:` becomes "true"). None for a null key,
/// which Helm rejects.
pub fn helm_key(scalar: &Scalar) -> Option<String> {
    match resolve_scalar(scalar) {
        Resolved::Str => Some(scalar.text.clone()),
        Resolved::Null => None,
        Resolved::Bool(value) => Some(value.to_string()),
        Resolved::Int(value) => Some(value.to_string()),
        Resolved::Uint(value) => Some(value.to_string()),
        Resolved::Float(value) => Some(format_key_float(value)),
    }
}

/// A scalar as JSON, resolved as Helm resolves it.
pub fn scalar_json(scalar: &Scalar) -> serde_json::Value {
    use serde_json::Value;
    match resolve_scalar(scalar) {
        Resolved::Null => Value::Null,
        Resolved::Bool(value) => Value::Bool(value),
        Resolved::Int(value) => Value::from(value),
        Resolved::Uint(value) => Value::from(value),
        Resolved::Float(value) => serde_json::Number::from_f64(value)
            .map(Value::Number)
            .unwrap_or_else(|| Value::String(format_key_float(value))),
        Resolved::Str => Value::String(scalar.text.clone()),
    }
}

/// The node as JSON, resolved as Helm resolves it.
pub fn to_json(node: &Node) -> serde_json::Value {
    use serde_json::Value;
    match &node.kind {
        NodeKind::Scalar(scalar) => scalar_json(scalar),
        NodeKind::Sequence(items) => Value::Array(items.iter().map(to_json).collect()),
        NodeKind::Mapping(mapping) => {
            Value::Object(mapping.entries.iter().map(|(key, entry)| (key.clone(), to_json(&entry.value))).collect())
        }
    }
}

fn short_tag(tag: &str) -> &str {
    match tag.strip_prefix("tag:yaml.org,2002:") {
        Some(rest) => match rest {
            "str" => "!!str",
            "null" => "!!null",
            "bool" => "!!bool",
            "int" => "!!int",
            "float" => "!!float",
            _ => tag,
        },
        None => tag,
    }
}

/// go-yaml v2 for text starting with a digit or sign: Go's `ParseInt(s, 0, 64)` after dropping
/// underscores, then `ParseUint`, then a YAML-style float, then `0b`/`-0b` binary.
fn resolve_number(text: &str) -> Resolved {
    let plain: String = text.chars().filter(|&c| c != '_').collect();
    if let Some(value) = go_parse_int(&plain) {
        return value;
    }
    if is_yaml_float(&plain)
        && let Some(value) = parse_finite_float(&plain)
    {
        return Resolved::Float(value);
    }
    if let Some(digits) = plain.strip_prefix("-0b")
        && let Ok(value) = i64::from_str_radix(&format!("-{digits}"), 2)
    {
        return Resolved::Int(value);
    }
    Resolved::Str
}

/// Go's strconv.ParseInt/ParseUint with base 0: optional sign, then `0x`, `0o`, `0b`, a
/// leading `0` for octal, or decimal. Out-of-range values are not numbers.
fn go_parse_int(text: &str) -> Option<Resolved> {
    let (negative, unsigned) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let (radix, digits) = if let Some(rest) = unsigned.strip_prefix("0x").or_else(|| unsigned.strip_prefix("0X")) {
        (16, rest)
    } else if let Some(rest) = unsigned.strip_prefix("0o").or_else(|| unsigned.strip_prefix("0O")) {
        (8, rest)
    } else if let Some(rest) = unsigned.strip_prefix("0b").or_else(|| unsigned.strip_prefix("0B")) {
        (2, rest)
    } else if unsigned.len() > 1 && unsigned.starts_with('0') {
        (8, &unsigned[1..])
    } else {
        (10, unsigned)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = u128::from_str_radix(digits, radix).ok()?;
    if negative {
        if magnitude <= i64::MAX as u128 + 1 {
            return Some(Resolved::Int((-(magnitude as i128)) as i64));
        }
        return None;
    }
    if magnitude <= i64::MAX as u128 {
        return Some(Resolved::Int(magnitude as i64));
    }
    if text.starts_with('+') {
        // ParseUint does not accept a sign.
        return None;
    }
    u64::try_from(magnitude).ok().map(Resolved::Uint)
}

/// go-yaml's `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
fn is_yaml_float(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut i = 0;
    if i < bytes.len() && (bytes[i] == b'-' || bytes[i] == b'+') {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < bytes.len() && bytes[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    if i < bytes.len() && bytes[i] == b'.' {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if i < bytes.len() && bytes[i] == b'.' {
            i += 1;
            digits(&mut i);
        }
    }
    if i < bytes.len() && (bytes[i] == b'e' || bytes[i] == b'E') {
        i += 1;
        if i < bytes.len() && (bytes[i] == b'-' || bytes[i] == b'+') {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == bytes.len()
}

/// Go's ParseFloat fails on overflow (`1e400`), and go-yaml then keeps the text as a string.
fn parse_finite_float(text: &str) -> Option<f64> {
    let value: f64 = text.parse().ok()?;
    value.is_finite().then_some(value)
}

fn format_key_float(value: f64) -> String {
    if value.is_nan() {
        ".nan".to_string()
    } else if value == f64::INFINITY {
        ".inf".to_string()
    } else if value == f64::NEG_INFINITY {
        "-.inf".to_string()
    } else {
        format!("{}", value as f32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, expected: Resolved) {
        assert_eq!(resolve_plain(text), expected, "{text:?}");
    }

    #[test]
    fn yaml_1_1_booleans_and_nulls() {
        for text in ["y", "Y", "yes", "Yes", "YES", "on", "On", "ON", "true", "True", "TRUE"] {
            check(text, Resolved::Bool(true));
        }
        for text in ["n", "N", "no", "No", "NO", "off", "Off", "OFF", "false", "False", "FALSE"] {
            check(text, Resolved::Bool(false));
        }
        for text in ["", "~", "null", "Null", "NULL"] {
            check(text, Resolved::Null);
        }
        for text in ["yEs", "tRue", "nULL", "none", "enabled"] {
            check(text, Resolved::Str);
        }
    }

    #[test]
    fn numbers_as_go_yaml_v2_reads_them() {
        check("10", Resolved::Int(10));
        check("-10", Resolved::Int(-10));
        check("+10", Resolved::Int(10));
        check("0755", Resolved::Int(0o755));
        check("0o755", Resolved::Int(0o755));
        check("0x1F", Resolved::Int(31));
        check("0b101", Resolved::Int(5));
        check("1_000", Resolved::Int(1000));
        check("08", Resolved::Float(8.0));
        check("1.5", Resolved::Float(1.5));
        check("1e3", Resolved::Float(1000.0));
        check(".5", Resolved::Float(0.5));
        check("1.", Resolved::Float(1.0));
        check("18446744073709551615", Resolved::Uint(u64::MAX));
        check("1e400", Resolved::Str);
        check("2024-01-01", Resolved::Str);
        check("1.2.3", Resolved::Str);
        check("-", Resolved::Str);
        check("0x", Resolved::Str);
        check("-9223372036854775808", Resolved::Int(i64::MIN));
    }

    #[test]
    fn quoted_and_tagged_scalars() {
        let scalar =
            |text: &str, style, tag: Option<&str>| Scalar { text: text.into(), style, tag: tag.map(Into::into) };
        assert_eq!(resolve_scalar(&scalar("yes", ScalarStyle::DoubleQuoted, None)), Resolved::Str);
        assert_eq!(resolve_scalar(&scalar("10", ScalarStyle::Plain, Some("!!str"))), Resolved::Str);
        assert_eq!(resolve_scalar(&scalar("10", ScalarStyle::Plain, Some("!!float"))), Resolved::Float(10.0));
        assert_eq!(resolve_scalar(&scalar("10", ScalarStyle::Plain, Some("!custom"))), Resolved::Str);
        assert_eq!(helm_key(&scalar("on", ScalarStyle::Plain, None)).as_deref(), Some("true"));
        assert_eq!(helm_key(&scalar("on", ScalarStyle::SingleQuoted, None)).as_deref(), Some("on"));
        assert_eq!(helm_key(&scalar("~", ScalarStyle::Plain, None)), None);
    }
}
