//! The step plan: which steps an install runs, in order, decided from the settings alone
//! (dry run or not, SSH or HTTPS, public or with a token), so the progress lines can number
//! them and a test can read the plan without running anything.

use crate::config::{Access, Settings};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The chart on this machine; helm and the cluster checked (the cluster only when not dry).
    Preflight,
    /// secret-gen: the chart's random secrets pinned.
    Secrets,
    /// secret-gen deploy-key: the key pair, its Secret, `dags.gitSync`.
    DeployKey,
    /// known-hosts: the Git host's key verified and pinned.
    KnownHosts,
    /// `dags.gitSync` for an HTTPS repository (and the token's Secret).
    GitSync,
    /// values-merge in memory, checked against the chart's schema.
    Merge,
    /// git ls-remote and the DAG folder, with exactly what the cluster gets.
    Access,
    /// helm-run template of the new document.
    Render,
    /// The cumulative file written (only now that the document is proven).
    Write,
    /// helm-run upgrade, or under --dry-run the command it would run.
    Upgrade,
    /// pod-inspect wait and dags: the pods are up and git-sync has the branch head.
    Verify,
}

impl Step {
    pub fn title(self, dry_run: bool) -> &'static str {
        match self {
            Step::Preflight if dry_run => "preflight (the chart; the cluster is not touched under --dry-run)",
            Step::Preflight => "preflight (the chart, helm, the cluster)",
            Step::Secrets => "pin the chart's random secrets (secret-gen)",
            Step::DeployKey => "deploy key (secret-gen deploy-key)",
            Step::KnownHosts => "pin the Git host's key (known-hosts)",
            Step::GitSync => "git-sync over HTTPS",
            Step::Merge => "merge with the cumulative values and check the chart's schema (values-merge)",
            Step::Access => "check repository access as git-sync will (git ls-remote, the DAG folder)",
            Step::Render => "render the chart with the new values (helm-run template)",
            Step::Write if dry_run => "what the cumulative values file would become (not written under --dry-run)",
            Step::Write => "write the cumulative values file (values-merge --in-place)",
            Step::Upgrade if dry_run => "the upgrade that would run",
            Step::Upgrade => "helm upgrade --install (helm-run)",
            Step::Verify => "wait for the pods, then check the DAGs arrived (pod-inspect)",
        }
    }
}

/// The steps for these settings, in order.
pub fn plan(settings: &Settings) -> Vec<Step> {
    let mut steps = vec![Step::Preflight, Step::Secrets];
    match settings.access {
        Access::Ssh { .. } => steps.extend([Step::DeployKey, Step::KnownHosts]),
        Access::Public | Access::Token { .. } => steps.push(Step::GitSync),
    }
    steps.extend([Step::Merge, Step::Access, Step::Render, Step::Write, Step::Upgrade]);
    if !settings.dry_run {
        steps.push(Step::Verify);
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{InstallArgs, resolve};

    fn settings(repo: &str, extra: &[&str]) -> Settings {
        use clap::Parser;
        #[derive(clap::Parser)]
        struct Cli {
            #[command(flatten)]
            args: InstallArgs,
        }
        let mut flags = vec!["install", "--repo", repo, "--branch", "main", "--sub-path", "dags"];
        flags.extend_from_slice(extra);
        resolve(&Cli::try_parse_from(flags).expect("flags").args, None).expect("resolves")
    }

    #[test]
    fn ssh_install() {
        assert_eq!(
            plan(&settings("git@github.com:me/dags.git", &[])),
            [
                Step::Preflight,
                Step::Secrets,
                Step::DeployKey,
                Step::KnownHosts,
                Step::Merge,
                Step::Access,
                Step::Render,
                Step::Write,
                Step::Upgrade,
                Step::Verify
            ]
        );
    }

    #[test]
    fn https_dry_run_has_no_key_steps_and_no_verify() {
        let steps = plan(&settings("https://github.com/me/dags.git", &["--dry-run"]));
        assert_eq!(
            steps,
            [
                Step::Preflight,
                Step::Secrets,
                Step::GitSync,
                Step::Merge,
                Step::Access,
                Step::Render,
                Step::Write,
                Step::Upgrade
            ]
        );
        // The write comes after every check of the new document: schema, access, render.
        let position = |step| steps.iter().position(|s| *s == step).expect("step");
        assert!(position(Step::Write) > position(Step::Merge));
        assert!(position(Step::Write) > position(Step::Access));
        assert!(position(Step::Write) > position(Step::Render));
    }
}
