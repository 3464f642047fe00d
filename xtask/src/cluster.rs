//! Which cluster and which helm/kubectl: the flags `install` and `adopt` share, and the
//! commands and tool flags built from them in one place.

use std::path::PathBuf;
use std::process::Command;

/// `--microk8s`, `--kubeconfig`, `--kube-context`, `--helm`.
#[derive(clap::Args, Debug, Default, Clone)]
pub struct Cluster {
    /// Use MicroK8s' own helm and kubectl, and check its addons.
    #[arg(long)]
    pub microk8s: bool,
    #[arg(long, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,
    #[arg(long, value_name = "NAME")]
    pub kube_context: Option<String>,
    /// The helm binary to use.
    #[arg(long, value_name = "PATH")]
    pub helm: Option<PathBuf>,
}

impl Cluster {
    /// helm-run's flags for which helm and which cluster.
    pub fn helm_run_flags(&self) -> Vec<String> {
        let mut flags = Vec::new();
        if let Some(helm) = &self.helm {
            flags.extend(["--helm".into(), helm.display().to_string()]);
        }
        if let Some(kubeconfig) = &self.kubeconfig {
            flags.extend(["--kubeconfig".into(), kubeconfig.display().to_string()]);
        }
        if let Some(context) = &self.kube_context {
            flags.extend(["--kube-context".into(), context.clone()]);
        }
        flags
    }

    /// pod-inspect's and secret-gen's flags for which cluster (kubectl spells it `--context`).
    pub fn kubectl_flags(&self) -> Vec<String> {
        let mut flags = Vec::new();
        if let Some(kubeconfig) = &self.kubeconfig {
            flags.extend(["--kubeconfig".into(), kubeconfig.display().to_string()]);
        }
        if let Some(context) = &self.kube_context {
            flags.extend(["--context".into(), context.clone()]);
        }
        flags
    }

    /// `kubectl` (or `microk8s kubectl`) with the cluster flags, ready for a verb.
    pub fn kubectl(&self) -> Command {
        let mut command = if self.microk8s {
            let mut command = Command::new("microk8s");
            command.arg("kubectl");
            command
        } else {
            Command::new("kubectl")
        };
        command.args(self.kubectl_flags());
        command
    }

    /// `helm` itself (`--helm`, else `microk8s helm3`, else `helm` on PATH), for what
    /// helm-run does not wrap (`helm pull`).
    pub fn helm(&self) -> Command {
        match (&self.helm, self.microk8s) {
            (Some(helm), _) => Command::new(helm),
            (None, true) => {
                let mut command = Command::new("microk8s");
                command.arg("helm3");
                command
            }
            (None, false) => Command::new("helm"),
        }
    }
}
