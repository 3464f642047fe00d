//! Real Helm as a test oracle: a chart whose only template is `{{ toYaml .Values }}` makes
//! `helm template` print exactly the values Helm computed.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Writes the oracle chart into `dir` (optionally with chart defaults) and returns its path.
pub fn oracle_chart(dir: &Path, name: &str, defaults: Option<&str>) -> PathBuf {
    let chart = dir.join(name);
    std::fs::create_dir_all(chart.join("templates")).expect("chart dir");
    std::fs::write(chart.join("Chart.yaml"), format!("apiVersion: v2\nname: {name}\nversion: 0.1.0\n"))
        .expect("Chart.yaml");
    std::fs::write(chart.join("templates/values.yaml"), "{{ toYaml .Values }}\n").expect("template");
    std::fs::write(chart.join("values.yaml"), defaults.unwrap_or("")).expect("values.yaml");
    chart
}

/// Runs `helm template oracle CHART ARGS...` with Helm's own dirs isolated in `home`.
/// Returns (success, stdout, stderr).
pub fn helm_template(helm: &Path, home: &Path, chart: &Path, args: &[String]) -> (bool, String, String) {
    let output =
        helm_command(helm, home).arg("template").arg("oracle").arg(chart).args(args).output().expect("helm runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A helm command whose config, cache and data live under `home`, never the user's.
pub fn helm_command(helm: &Path, home: &Path) -> Command {
    let mut command = Command::new(helm);
    command
        .env("HELM_CONFIG_HOME", home.join("config"))
        .env("HELM_CACHE_HOME", home.join("cache"))
        .env("HELM_DATA_HOME", home.join("data"))
        .env_remove("KUBECONFIG");
    command
}
