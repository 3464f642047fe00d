//! Reports between tools: a `#[derive(Serialize, Deserialize)]` struct in the tool's library is
//! written as YAML here (field order = declaration order) and read back into the same type by
//! whoever consumes it, so no tool builds or greps a report by hand.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::Error;
use crate::yaml::{Document, emit_document, from_json};

/// The report as a YAML document (strings quoted whenever a YAML reader could misread them).
pub fn to_yaml<T: Serialize>(report: &T) -> Result<String, Error> {
    let value =
        serde_json::to_value(report).map_err(|error| Error::bad_input(format!("cannot write the report: {error}")))?;
    Ok(emit_document(&from_json(&value)))
}

/// A report printed by one of our tools, read back into its type. `what` names the producer
/// (`helm-run upgrade`) for the error.
pub fn from_yaml<T: DeserializeOwned>(text: &str, what: &str) -> Result<T, Error> {
    let document = Document::parse(text, what)?;
    serde_json::from_value(document.root.to_json()).map_err(|error| {
        Error::external(format!("`{what}` printed a report this version does not understand: {error}"))
            .with_hint("the tools and the install come from different builds; rebuild them together")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct Sample {
        release: String,
        revision: u32,
        flag: String,
        list: Vec<String>,
        missing: Option<String>,
    }

    #[test]
    fn round_trip_in_declaration_order_with_look_alikes_quoted() {
        let sample = Sample {
            release: "airflow".into(),
            revision: 3,
            flag: "yes".into(),
            list: vec!["on".into(), "a b".into()],
            missing: None,
        };
        let text = to_yaml(&sample).expect("writes");
        assert_eq!(text, "release: airflow\nrevision: 3\nflag: \"yes\"\nlist:\n  - \"on\"\n  - a b\nmissing: null\n");
        assert_eq!(from_yaml::<Sample>(&text, "test").expect("reads"), sample);
    }

    #[test]
    fn a_report_of_another_shape_is_an_error_naming_its_producer() {
        let error = from_yaml::<Sample>("release: [1]\n", "helm-run status").expect_err("wrong shape");
        assert!(error.message.contains("`helm-run status`"), "{}", error.message);
    }
}
