//! values-merge against `helm template` computing the same merge: the real chart's whole
//! values.yaml (1.20.0) with five overlays and three `--set`; start-up; peak memory.

use super::{Bench, hyperfine, peak_rss_mib, print_ratio, shared_dir};

const OVERLAYS: [&str; 5] = [
    "executor: KubernetesExecutor\nwebserverSecretKey: 0123456789abcdef0123456789abcdef\n",
    "dags:\n  gitSync:\n    enabled: true\n    repo: git@github.com:me/dags.git\n    branch: main\n    ref: main\n    subPath: dags\n    sshKeySecret: airflow-ssh-secret\n",
    "images:\n  airflow:\n    repository: apache/airflow\n    tag: \"3.0.2\"\nworkers:\n  replicas: 3\n  resources:\n    limits: {cpu: \"2\", memory: 4Gi}\n",
    "postgresql:\n  auth:\n    postgresPassword: example\ndata:\n  metadataConnection:\n    pass: example\n",
    "labels: {team: data}\nenv:\n  - name: AIRFLOW__CORE__LOAD_EXAMPLES\n    value: \"False\"\n",
];

pub fn run(bench: &Bench) -> anyhow::Result<()> {
    let chart_values = shared_dir().join("airflow-chart/1.20.0/values.yaml");
    let chart_values = chart_values.display().to_string();
    let mut files = vec![chart_values.clone()];
    for (index, overlay) in OVERLAYS.iter().enumerate() {
        let path = bench.scratch.join(format!("overlay{index}.yaml"));
        std::fs::write(&path, overlay)?;
        files.push(path.display().to_string());
    }
    let sets = "--set workers.replicas=5 --set-string images.airflow.tag=3.0.3 --set dags.gitSync.branch=release";

    // The oracle chart: Helm computes exactly this merge and prints it.
    let chart = bench.scratch.join("oracle");
    std::fs::create_dir_all(chart.join("templates"))?;
    std::fs::write(chart.join("Chart.yaml"), "apiVersion: v2\nname: oracle\nversion: 0.1.0\n")?;
    std::fs::write(chart.join("templates/values.yaml"), "{{ toYaml .Values }}\n")?;
    let helm = bench.tool("AIRFLOW_KIT_HELM3").map(|p| p.display().to_string()).unwrap_or_else(|| "helm".to_string());

    let ours = format!("{}/values-merge {} {sets}", bench.bin.display(), files.join(" "));
    let helm_files: Vec<String> = files.iter().map(|f| format!("-f {f}")).collect();
    let theirs = format!("{helm} template oracle {} {} {sets}", chart.display(), helm_files.join(" "));
    let medians = hyperfine(bench, "values-merge", &[("values-merge", ours.clone()), ("helm template", theirs)])?;
    print_ratio(
        "merge of values.yaml + 5 overlays + 3 --set",
        medians[0],
        medians[1],
        "target: >= 10x faster, < 10 ms",
    );

    let version = format!("{}/values-merge --version", bench.bin.display());
    let medians = hyperfine(bench, "values-merge-version", &[("values-merge --version", version)])?;
    eprintln!("start-up (--version): {:.2} ms (target: < 5 ms)", medians[0] * 1e3);

    let rss = peak_rss_mib(&format!("{}/values-merge {chart_values}", bench.bin.display()))?;
    eprintln!("peak RSS on the chart's whole values.yaml: {rss:.1} MiB (target: < 20 MB)");
    Ok(())
}
