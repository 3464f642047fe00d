//! helm-run's overhead over plain helm: `helm-run template` and `helm-run upgrade --dry-run`
//! (version check + 0600 temp file + template + show chart) against `helm template` alone, on
//! a chart carrying the real Airflow values.yaml and values.schema.json; and start-up time.

use anyhow::Context;

use super::{Bench, hyperfine, print_ratio, shared_dir};

pub fn run(bench: &Bench) -> anyhow::Result<()> {
    let helm =
        bench.tool("AIRFLOW_KIT_HELM3").unwrap_or_else(|| crate::project_root().join("target/test-tools/bin/helm3"));
    anyhow::ensure!(helm.exists(), "helm 3 not found at {}", helm.display());
    let chart = bench.scratch.join("helm-run-chart");
    let fixture = crate::project_root().join("tests/fixtures/helm-run/chart");
    bench.shell.create_dir(chart.join("templates"))?;
    for file in ["Chart.yaml", "templates/configmap.yaml", "templates/NOTES.txt"] {
        bench.shell.copy_file(fixture.join(file), chart.join(file))?;
    }
    let real = shared_dir().join("airflow-chart/1.20.0");
    for file in ["values.yaml", "values.schema.json"] {
        bench.shell.copy_file(real.join(file), chart.join(file)).context("the real chart files in shared/")?;
    }
    let values = bench.scratch.join("helm-run-values.yaml");
    bench.shell.write_file(
        &values,
        "executor: KubernetesExecutor\ndags:\n  gitSync:\n    enabled: true\n    repo: git@github.com:me/dags.git\n    knownHosts: |\n      github.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n",
    )?;
    let ours = bench.bin.join("helm-run");
    let (helm, chart, values, ours) = (
        helm.display().to_string(),
        chart.display().to_string(),
        values.display().to_string(),
        ours.display().to_string(),
    );
    let medians = hyperfine(
        bench,
        "helm-run-template",
        &[
            ("helm template", format!("{helm} template airflow {chart} -f {values}")),
            ("helm-run template", format!("{ours} template --helm {helm} --chart {chart} -f {values}")),
            (
                "helm-run upgrade --dry-run",
                format!("{ours} upgrade --dry-run --helm {helm} --chart {chart} -f {values}"),
            ),
        ],
    )?;
    print_ratio(
        "helm-run template vs helm template",
        medians[1],
        medians[0],
        "overhead: one `helm version` + a 0600 temp file",
    );
    print_ratio(
        "helm-run upgrade --dry-run vs helm template",
        medians[2],
        medians[0],
        "overhead: version + template + show chart, no cluster",
    );
    let startup = hyperfine(bench, "helm-run-version", &[("helm-run --version", format!("{ours} --version"))])?;
    eprintln!("helm-run --version: {:.2} ms (target < 5 ms)", startup[0] * 1e3);
    Ok(())
}
