//! The cluster flags every cluster tool takes, spelled once: `--kubeconfig`, `--kube-context`
//! (kubectl's `--context` as an alias), `--microk8s`, `-n/--namespace`, `--release`. Each tool
//! flattens [`ClusterArgs`] into its clap definition; the install builds the same flags back
//! with [`ClusterArgs::to_args`], so a renamed flag breaks the build, not a user's run.

use std::ffi::OsString;
use std::path::PathBuf;

use crate::defaults;

/// Which cluster, which release. Global, so it may come before or after a subcommand.
#[derive(clap::Args, Debug, Clone, PartialEq, Eq)]
pub struct ClusterArgs {
    /// The kubeconfig file [default: helm's and kubectl's own: $KUBECONFIG, else ~/.kube/config].
    #[arg(long, value_name = "PATH", global = true)]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use.
    #[arg(long, value_name = "NAME", visible_alias = "context", global = true)]
    pub kube_context: Option<String>,
    /// Go through MicroK8s: `microk8s kubectl` and `microk8s helm3`, even when `kubectl` and
    /// `helm` are on PATH.
    #[arg(long, global = true)]
    pub microk8s: bool,
    /// The release's namespace.
    #[arg(short = 'n', long, value_name = "NS", default_value = defaults::NAMESPACE, global = true)]
    pub namespace: String,
    /// The Helm release name.
    #[arg(long, value_name = "NAME", default_value = defaults::RELEASE, global = true)]
    pub release: String,
}

impl Default for ClusterArgs {
    fn default() -> ClusterArgs {
        ClusterArgs {
            kubeconfig: None,
            kube_context: None,
            microk8s: false,
            namespace: defaults::NAMESPACE.to_string(),
            release: defaults::RELEASE.to_string(),
        }
    }
}

impl ClusterArgs {
    /// The same flags as argv for another tool of ours (every field, so nothing is left to
    /// that tool's defaults).
    pub fn to_args(&self) -> Vec<OsString> {
        let mut args = Vec::new();
        if let Some(kubeconfig) = &self.kubeconfig {
            args.extend([OsString::from("--kubeconfig"), kubeconfig.clone().into_os_string()]);
        }
        if let Some(context) = &self.kube_context {
            args.extend([OsString::from("--kube-context"), OsString::from(context)]);
        }
        if self.microk8s {
            args.push(OsString::from("--microk8s"));
        }
        args.extend(["--namespace", &self.namespace, "--release", &self.release].map(OsString::from));
        args
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser, Debug)]
    struct Tool {
        #[command(flatten)]
        cluster: ClusterArgs,
    }

    fn parse(args: &[&str]) -> ClusterArgs {
        Tool::try_parse_from(std::iter::once("tool").chain(args.iter().copied())).expect("parses").cluster
    }

    #[test]
    fn defaults_and_aliases() {
        assert_eq!(parse(&[]), ClusterArgs::default());
        assert_eq!(parse(&["--context", "prod"]).kube_context.as_deref(), Some("prod"));
        assert_eq!(parse(&["--kube-context", "prod"]).kube_context.as_deref(), Some("prod"));
        assert_eq!(parse(&["-n", "data"]).namespace, "data");
    }

    #[test]
    fn to_args_parses_back_to_the_same_flags() {
        let cluster = ClusterArgs {
            kubeconfig: Some(PathBuf::from("/tmp/a dir/kubeconfig")),
            kube_context: Some("prod".into()),
            microk8s: true,
            namespace: "data".into(),
            release: "af".into(),
        };
        let args: Vec<String> = cluster.to_args().iter().map(|a| a.to_string_lossy().into_owned()).collect();
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_eq!(parse(&refs), cluster);
    }
}
