//! pod-inspect on a 1,000-pod release: `pod-inspect status` reading a generated
//! `kubectl get pods -o json` through a stand-in kubectl (no API server runs here), timed
//! against the stand-in alone so our own time shows; and peak memory.

use anyhow::Context;
use serde_json::Value;

use super::{Bench, hyperfine, peak_rss_mib};

pub fn run(bench: &Bench) -> anyhow::Result<()> {
    let dir = bench.scratch.join("pod-inspect");
    let bin = dir.join("bin");
    bench.shell.create_dir(&bin)?;
    let fixture = crate::project_root().join("tests/fixtures/pod-inspect/healthy-af2/pods.json");
    let list: Value = serde_json::from_str(&std::fs::read_to_string(&fixture).context("pod-inspect fixture")?)?;
    let template = list["items"]
        .as_array()
        .and_then(|items| items.iter().find(|pod| pod["metadata"]["name"] == "airflow-worker-0"))
        .context("the worker pod in the fixture")?
        .clone();
    // A thousand Celery workers of one release: the largest pod list a release can have.
    let items: Vec<Value> = (0..1000)
        .map(|index| {
            let mut pod = template.clone();
            pod["metadata"]["name"] = Value::from(format!("airflow-worker-{index}"));
            pod["metadata"]["uid"] = Value::from(format!("00000000-0000-0000-0000-{index:012}"));
            pod
        })
        .collect();
    let pods =
        serde_json::json!({"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": items});
    let pods_file = dir.join("pods.json");
    std::fs::write(&pods_file, serde_json::to_vec_pretty(&pods)?)?;
    let jobs_file = dir.join("jobs.json");
    std::fs::write(
        &jobs_file,
        r#"{"apiVersion": "v1", "items": [], "kind": "List", "metadata": {"resourceVersion": ""}}"#,
    )?;
    let size_mib = std::fs::metadata(&pods_file)?.len() as f64 / (1024.0 * 1024.0);
    let stand_in = bin.join("kubectl");
    std::fs::write(
        &stand_in,
        format!(
            "#!/bin/sh\ncase \"$*\" in\n  *'get pods'*) exec cat {pods} ;;\n  *'get jobs'*) exec cat {jobs} ;;\nesac\nexit 1\n",
            pods = pods_file.display(),
            jobs = jobs_file.display()
        ),
    )?;
    std::fs::set_permissions(&stand_in, std::os::unix::fs::PermissionsExt::from_mode(0o755))?;
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let ours = bench.bin.join("pod-inspect").display().to_string();
    let stand_in = stand_in.display().to_string();
    let medians = hyperfine(
        bench,
        "pod-inspect-status",
        &[
            (
                "stand-in kubectl only (get pods + get jobs)",
                format!("sh -c '{stand_in} get pods; {stand_in} get jobs' | cat"),
            ),
            ("pod-inspect status (1,000 pods)", format!("env PATH={path} {ours} status | cat")),
        ],
    )?;
    let own = medians[1] - medians[0];
    eprintln!(
        "pod-inspect status on 1,000 pods ({size_mib:.1} MiB of JSON): {:.2} ms total, {:.2} ms of it the stand-in, {:.2} ms ours (target < 50 ms)",
        medians[1] * 1e3,
        medians[0] * 1e3,
        own * 1e3
    );
    let rss = peak_rss_mib(&format!("env PATH={path} {ours} status"))?;
    eprintln!("pod-inspect status on 1,000 pods: peak RSS {rss:.1} MiB (target < 64 MB)");
    Ok(())
}
