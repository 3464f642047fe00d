//! Start-up of every tool (`--version`), side by side in one hyperfine run.

use super::{Bench, hyperfine};

const TOOLS: [&str; 5] = ["values-merge", "secret-gen", "known-hosts", "helm-run", "pod-inspect"];

pub fn run(bench: &Bench) -> anyhow::Result<()> {
    let commands: Vec<(&str, String)> =
        TOOLS.iter().map(|tool| (*tool, format!("{}/{tool} --version", bench.bin.display()))).collect();
    let medians = hyperfine(bench, "startup", &commands)?;
    for (tool, median) in TOOLS.iter().zip(medians) {
        eprintln!("{tool} --version: {:.2} ms (target: < 5 ms)", median * 1e3);
    }
    Ok(())
}
