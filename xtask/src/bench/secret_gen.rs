//! Benchmarks of secret-gen: deploy-key generation side by side with `ssh-keygen` (Ed25519
//! under 10 ms; RSA-4096 median no slower than `ssh-keygen -t rsa -b 4096`), the filter on the
//! chart's whole values.yaml, and peak memory.

use super::{Bench, hyperfine, peak_rss_mib, print_ratio, shared_dir};

pub fn run(bench: &Bench) -> anyhow::Result<()> {
    let tool = bench.bin.join("secret-gen");
    let tool = tool.display();
    let scratch = bench.scratch.join("secret-gen");
    std::fs::create_dir_all(&scratch)?;
    let scratch = scratch.display();

    // Each run starts from an empty directory (a present key would be reused, not generated);
    // both sides pay the same `rm`.
    for (label, ours_flags, keygen_flags) in
        [("ed25519", "--type ed25519", "-t ed25519"), ("rsa-4096", "--type rsa --bits 4096", "-t rsa -b 4096")]
    {
        let ours = format!(
            "rm -rf {scratch}/ours-{label} && {tool} deploy-key --dir {scratch}/ours-{label} {ours_flags} < /dev/null > /dev/null 2>&1"
        );
        let theirs = format!(
            "rm -f {scratch}/theirs-{label} {scratch}/theirs-{label}.pub && ssh-keygen -q {keygen_flags} -N '' -C bench -f {scratch}/theirs-{label}"
        );
        let medians = hyperfine(
            bench,
            &format!("secret-gen-{label}"),
            &[(&format!("secret-gen deploy-key {label}"), ours), (&format!("ssh-keygen {label}"), theirs)],
        )?;
        let target = if label == "ed25519" { "target: ours under 10 ms" } else { "target: ratio >= 1.0x" };
        print_ratio(&format!("deploy-key {label} vs ssh-keygen"), medians[0], medians[1], target);
    }

    let values = shared_dir().join("airflow-chart/1.20.0/values.yaml");
    let filter = format!("{tool} {} > /dev/null 2>&1", values.display());
    let medians = hyperfine(bench, "secret-gen-filter", &[("secret-gen (chart values.yaml)", filter.clone())])?;
    eprintln!("secret-gen filter on the chart's whole values.yaml: median {:.2} ms", medians[0] * 1e3);
    eprintln!("secret-gen filter peak RSS: {:.1} MiB", peak_rss_mib(&format!("{tool} {}", values.display()))?);
    let rsa =
        format!("rm -rf {scratch}/rss && {tool} deploy-key --dir {scratch}/rss --type rsa < /dev/null 2>/dev/null");
    eprintln!("secret-gen deploy-key rsa-4096 peak RSS: {:.1} MiB", peak_rss_mib(&rsa)?);
    Ok(())
}
