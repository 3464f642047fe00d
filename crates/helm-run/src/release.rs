//! The few fields helm-run reads from helm's own JSON: a release as `helm status -o json` and
//! `helm upgrade -o json` print it (Helm 3 and 4 share this shape), and `helm repo list -o
//! json`. Everything is `#[serde(default)]`, so a field helm leaves out never breaks us, and
//! nothing else is kept: the release's `config` holds every secret, its NOTES the passwords.

use serde::Deserialize;

use crate::notes::{self, NotesWarning};

/// A release as helm stored it.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct HelmRelease {
    pub name: Option<String>,
    pub namespace: Option<String>,
    /// The revision.
    pub version: Option<u64>,
    pub info: ReleaseInfo,
    pub chart: ReleaseChart,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct ReleaseInfo {
    pub status: Option<String>,
    pub description: Option<String>,
    /// The chart's NOTES: classified, never copied (they print passwords).
    pub notes: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct ReleaseChart {
    pub metadata: ChartMetadata,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct ChartMetadata {
    pub name: Option<String>,
    pub version: Option<String>,
    #[serde(rename = "appVersion")]
    pub app_version: Option<String>,
}

/// One entry of `helm repo list -o json`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct RepoListEntry {
    pub name: String,
    pub url: String,
}

impl HelmRelease {
    /// Reads helm's JSON; None when it is not a release (an unusual helm printed something
    /// else): the caller then asks `helm status`.
    pub fn parse(bytes: &[u8]) -> Option<HelmRelease> {
        serde_json::from_slice::<HelmRelease>(bytes).ok().filter(|release| release.info.status.is_some())
    }

    /// The status helm gives it, `unknown` when it gives none.
    pub fn status(&self) -> &str {
        self.info.status.as_deref().unwrap_or("unknown")
    }

    /// The warnings of its NOTES, passwords left out.
    pub fn notes_warnings(&self) -> Vec<NotesWarning> {
        notes::classify(self.info.notes.as_deref().unwrap_or(""))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_fields_from_helms_json() {
        let json = br##"{
            "name": "airflow", "namespace": "airflow", "version": 3,
            "info": { "status": "deployed", "description": "Upgrade complete",
                      "notes": "#  WARNING: You should set a static API secret key  #\n" },
            "chart": { "metadata": { "name": "airflow", "version": "1.20.0", "appVersion": "3.1.8" } },
            "config": { "webserverSecretKey": "never-kept" }
        }"##;
        let release = HelmRelease::parse(json).expect("a release");
        assert_eq!(release.version, Some(3));
        assert_eq!(release.status(), "deployed");
        assert_eq!(release.chart.metadata.version.as_deref(), Some("1.20.0"));
        assert_eq!(release.chart.metadata.app_version.as_deref(), Some("3.1.8"));
        let warnings = release.notes_warnings();
        assert_eq!(warnings[0].kind, crate::notes::NotesWarningKind::StaticSecretKey);
        assert_eq!(warnings[0].failure.as_deref(), Some("F9"));
        assert!(!format!("{release:?}").contains("never-kept"));
        assert_eq!(HelmRelease::parse(b"Release \"airflow\" has been upgraded."), None);
        assert_eq!(HelmRelease::parse(b"{}"), None);
    }
}
