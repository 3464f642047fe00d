//! `fernet-key`: the release's Fernet key, decoded from its Secret. Shown only on request.

use airflow_kit_core::Error;
use serde::{Deserialize, Serialize};

use crate::kubectl::Kubectl;

/// The Secret the chart creates for the Fernet key, and the key inside it.
pub fn fernet_secret_name(release: &str) -> String {
    format!("{release}-fernet-key")
}

pub const FERNET_DATA_KEY: &str = "fernet-key";

/// The report of `fernet-key`: the only report that shows a secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FernetKeyReport {
    /// The Secret it was read from.
    pub secret: String,
    pub fernet_key: String,
}

/// Reads `<release>-fernet-key` and returns the report holding the decoded key.
pub fn fernet_key_report(kubectl: &Kubectl, release: &str) -> Result<FernetKeyReport, Error> {
    let name = fernet_secret_name(release);
    let data = kubectl.read_secret(&name)?;
    let bytes = data.get(FERNET_DATA_KEY).ok_or_else(|| {
        Error::no(format!("secret `{name}` has no `{FERNET_DATA_KEY}` key"))
            .with_hint("the chart stores the key under `fernet-key`; check `fernetKeySecretName` in values.yaml")
    })?;
    let key = String::from_utf8(bytes.clone()).map_err(|_| {
        Error::no(format!("secret `{name}` key `{FERNET_DATA_KEY}` is not text"))
            .with_hint("a Fernet key is 44 characters of URL-safe base64")
    })?;
    Ok(FernetKeyReport { fernet_key: key.trim_end().to_string(), secret: name })
}
