//! The chart on this machine: a local directory, a .tgz unpacked into the run's private
//! directory, or the repository chart pulled once per version into the state directory's
//! cache. Its Chart.yaml, values.yaml and values.schema.json decide the Airflow major and
//! check every document before anything is written.

use std::path::{Path, PathBuf};

use airflow_kit_core::{Document, Error, Node};

/// A chart whose files can be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalChart {
    /// The chart directory (holding Chart.yaml).
    pub dir: PathBuf,
    /// What helm is given: the directory, or the .tgz as the user named it.
    pub reference: String,
    /// Chart.yaml's `version`.
    pub chart_version: String,
    /// Chart.yaml's `appVersion`.
    pub app_version: String,
}

impl LocalChart {
    /// Reads a chart directory. `reference` is what helm will be given.
    pub fn open(dir: &Path, reference: String) -> Result<LocalChart, Error> {
        let chart_yaml = dir.join("Chart.yaml");
        let text = airflow_kit_core::yaml::read_text_file(&chart_yaml)?;
        let document = Document::parse(&text, &chart_yaml.display().to_string())?;
        let field = |name: &str| document.root.get_path(&[name]).and_then(|n| n.as_scalar()).map(|s| s.text.clone());
        let chart_version = field("version").ok_or_else(|| {
            Error::bad_input(format!("`{}` has no `version`", chart_yaml.display()))
                .with_hint("a chart's Chart.yaml names its version; is this the Airflow chart?")
        })?;
        Ok(LocalChart {
            dir: dir.to_path_buf(),
            reference,
            chart_version,
            app_version: field("appVersion").unwrap_or_default(),
        })
    }

    pub fn schema(&self) -> Option<PathBuf> {
        let schema = self.dir.join("values.schema.json");
        schema.is_file().then_some(schema)
    }

    pub fn values(&self) -> PathBuf {
        self.dir.join("values.yaml")
    }

    /// The Airflow major the release will run: the document's own `airflowVersion`, else the
    /// chart's default `airflowVersion` from its values.yaml, else Chart.yaml's appVersion.
    /// Read from the chart itself, never from a table of chart versions, so every chart line
    /// answers for itself.
    pub fn airflow_major(&self, document: &Node) -> Result<u8, Error> {
        let chart_default = airflow_kit_core::yaml::read_text_file(&self.values())
            .ok()
            .and_then(|text| Document::parse(&text, "values.yaml").ok())
            .and_then(|values| version_field(&values.root));
        let version = version_field(document).or(chart_default).unwrap_or_else(|| self.app_version.clone());
        airflow_major_of(&version).ok_or_else(|| {
            Error::bad_input(format!("cannot tell the Airflow version from `{version}` (chart {})", self.chart_version))
                .with_hint("set `airflowVersion` in your values, e.g. `airflowVersion: 3.1.8`")
        })
    }
}

fn version_field(root: &Node) -> Option<String> {
    root.get_path(&["airflowVersion"]).and_then(|n| n.as_scalar()).map(|s| s.text.clone()).filter(|v| !v.is_empty())
}

/// `3.1.8` -> 3, `2.10.5` -> 2; None for anything that is not an Airflow 2 or 3 version.
pub fn airflow_major_of(version: &str) -> Option<u8> {
    let major = version.trim().trim_start_matches('v').split('.').next()?.parse::<u8>().ok()?;
    (2..=3).contains(&major).then_some(major)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The real charts: `AIRFLOW_KIT_SHARED`, else `../shared` beside the checkout (as the
    /// end-to-end tests find them).
    fn shared_chart(version: &str) -> PathBuf {
        let shared = std::env::var_os("AIRFLOW_KIT_SHARED")
            .map(PathBuf::from)
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
        shared.join("airflow-chart").join(version)
    }

    #[test]
    fn airflow_major_from_the_chart_itself() {
        for (version, major) in [("1.15.0", 2), ("1.20.0", 3), ("1.22.0-dev", 3)] {
            let dir = shared_chart(version);
            if !dir.exists() {
                panic!(
                    "the real charts are missing at {}: set AIRFLOW_KIT_SHARED to the folder holding airflow-chart/",
                    dir.display()
                );
            }
            let chart = LocalChart::open(&dir, dir.display().to_string()).expect("opens");
            assert_eq!(chart.airflow_major(&Node::mapping()).expect("major"), major, "chart {version}");
            assert!(chart.schema().is_some(), "chart {version} has a schema");
        }
    }

    #[test]
    fn the_document_wins_over_the_chart_default() {
        let dir = shared_chart("1.20.0");
        let chart = LocalChart::open(&dir, String::new()).expect("opens");
        let document = Document::parse("airflowVersion: 2.10.5\n", "values").expect("parses");
        assert_eq!(chart.airflow_major(&document.root).expect("major"), 2);
    }

    #[test]
    fn versions() {
        assert_eq!(airflow_major_of("3.1.8"), Some(3));
        assert_eq!(airflow_major_of("2.10.5"), Some(2));
        assert_eq!(airflow_major_of("v3.0.0"), Some(3));
        assert_eq!(airflow_major_of("1.10.15"), None);
        assert_eq!(airflow_major_of("latest"), None);
    }
}
