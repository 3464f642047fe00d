//! The argv builders: each subcommand's clap struct written back as the argv that parses to
//! it (subcommand name first), so the install runs helm-run through the very types helm-run
//! parses with, and a renamed flag breaks the build or the round-trip test below, not a run.

use std::ffi::OsString;

use airflow_kit_core::duration;

use crate::cli::{
    Commands, GetValuesArgs, HelmArgs, HostKeyArgs, PreflightArgs, PreflightCommand, ReleaseArgs, RepoArgs, StatusArgs,
    TemplateArgs, TemplateCommand, UpgradeArgs, UpgradeCommand, WorkDirArgs,
};

impl Commands {
    /// The subcommand and its flags.
    pub fn to_args(&self) -> Vec<OsString> {
        match self {
            Commands::Repo(args) => args.to_args(),
            Commands::Preflight(args) => args.to_args(),
            Commands::Upgrade(args) => args.to_args(),
            Commands::Template(args) => args.to_args(),
            Commands::Status(args) => args.to_args(),
            Commands::GetValues(args) => args.to_args(),
        }
    }
}

impl HelmArgs {
    /// The cluster flags (every one, so nothing is left to defaults), then `--helm`.
    pub fn to_args(&self) -> Vec<OsString> {
        let mut args = self.cluster.to_args();
        if let Some(helm) = &self.helm {
            args.extend([OsString::from("--helm"), helm.clone().into_os_string()]);
        }
        args
    }
}

impl ReleaseArgs {
    /// The flags only (preflight, template and upgrade put their name in front).
    pub fn to_args(&self) -> Vec<OsString> {
        let mut args = self.helm.to_args();
        args.extend([OsString::from("--chart"), OsString::from(&self.chart)]);
        if let Some(version) = &self.version {
            args.extend([OsString::from("--version"), OsString::from(version)]);
        }
        if let Some(values) = &self.values {
            args.extend([OsString::from("--values"), values.clone().into_os_string()]);
        }
        args
    }
}

impl RepoArgs {
    pub fn to_args(&self) -> Vec<OsString> {
        let mut args = vec![OsString::from("repo")];
        args.extend(self.helm.to_args());
        args.extend(["--repo-url", &self.repo_url, "--repo-name", &self.repo_name].map(OsString::from));
        args
    }
}

impl PreflightArgs {
    pub fn to_args(&self) -> Vec<OsString> {
        named("preflight", self.release.to_args())
    }
}

impl TemplateArgs {
    pub fn to_args(&self) -> Vec<OsString> {
        named("template", self.release.to_args())
    }
}

impl UpgradeArgs {
    pub fn to_args(&self) -> Vec<OsString> {
        let mut args = named("upgrade", self.release.to_args());
        args.extend([OsString::from("--timeout"), OsString::from(duration::format(self.timeout))]);
        if self.wait {
            args.push("--wait".into());
        }
        if self.dry_run {
            args.push("--dry-run".into());
        }
        for path in &self.allow_removal {
            // `=` keeps a path that starts with `-` a value, not a flag.
            args.push(OsString::from(format!("--allow-removal={path}")));
        }
        if self.allow_removals {
            args.push("--allow-removals".into());
        }
        args
    }
}

impl WorkDirArgs {
    pub fn to_args(&self) -> Vec<OsString> {
        match &self.work_dir {
            Some(dir) => vec![OsString::from("--work-dir"), dir.clone().into_os_string()],
            None => Vec::new(),
        }
    }
}

impl HostKeyArgs {
    pub fn to_args(&self) -> Vec<OsString> {
        if self.allow_no_known_hosts { vec![OsString::from("--allow-no-known-hosts")] } else { Vec::new() }
    }
}

impl PreflightCommand {
    pub fn to_args(&self) -> Vec<OsString> {
        let mut args = self.args.to_args();
        args.extend(self.work.to_args());
        args.extend(self.host_keys.to_args());
        args
    }
}

impl UpgradeCommand {
    pub fn to_args(&self) -> Vec<OsString> {
        let mut args = self.args.to_args();
        args.extend(self.work.to_args());
        args.extend(self.host_keys.to_args());
        args
    }
}

impl TemplateCommand {
    pub fn to_args(&self) -> Vec<OsString> {
        let mut args = self.args.to_args();
        args.extend(self.work.to_args());
        args
    }
}

impl StatusArgs {
    pub fn to_args(&self) -> Vec<OsString> {
        let mut args = named("status", self.helm.to_args());
        if self.ignore_not_found {
            args.push("--ignore-not-found".into());
        }
        args
    }
}

impl GetValuesArgs {
    pub fn to_args(&self) -> Vec<OsString> {
        named("get-values", self.helm.to_args())
    }
}

fn named(subcommand: &str, flags: Vec<OsString>) -> Vec<OsString> {
    let mut args = vec![OsString::from(subcommand)];
    args.extend(flags);
    args
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::time::Duration;

    use airflow_kit_core::cluster::ClusterArgs;
    use clap::Parser;

    use super::*;
    use crate::cli::Cli;

    /// Every optional field set, every flag given, paths with spaces.
    fn helm() -> HelmArgs {
        HelmArgs {
            cluster: ClusterArgs {
                kubeconfig: Some(PathBuf::from("/home/me/my clusters/kubeconfig")),
                kube_context: Some("prod".into()),
                microk8s: true,
                namespace: "data".into(),
                release: "af".into(),
            },
            helm: Some(PathBuf::from("/opt/helm 3/helm")),
        }
    }

    fn release() -> ReleaseArgs {
        ReleaseArgs {
            helm: helm(),
            chart: "./charts/airflow-1.20.0.tgz".into(),
            version: Some("1.20.0".into()),
            values: Some(PathBuf::from("/state dir/values.yaml")),
        }
    }

    /// `to_args` of the subcommand parses back to the same subcommand.
    fn check(command: Commands) {
        let args = command.to_args();
        let parsed = Cli::try_parse_from(std::iter::once(OsString::from("helm-run")).chain(args.clone()))
            .unwrap_or_else(|error| panic!("{args:?} does not parse: {error}"));
        assert_eq!(parsed.command, command, "{args:?}");
    }

    #[test]
    fn every_subcommand_round_trips() {
        check(Commands::Repo(RepoArgs {
            helm: helm(),
            repo_url: "http://127.0.0.1:8879".into(),
            repo_name: "mirror".into(),
        }));
        let work = || WorkDirArgs { work_dir: Some(PathBuf::from("/state dir/work")) };
        let allow = HostKeyArgs { allow_no_known_hosts: true };
        check(Commands::Preflight(PreflightCommand {
            args: PreflightArgs { release: release() },
            work: work(),
            host_keys: allow.clone(),
        }));
        check(Commands::Template(TemplateCommand { args: TemplateArgs { release: release() }, work: work() }));
        check(Commands::Upgrade(UpgradeCommand {
            args: UpgradeArgs {
                release: release(),
                timeout: Duration::from_secs(5400) + Duration::from_millis(500),
                wait: true,
                dry_run: true,
                allow_removal: vec!["dags.gitSync".into(), "ann.a\\.b/c".into(), "-odd".into()],
                allow_removals: true,
            },
            work: work(),
            host_keys: allow,
        }));
        check(Commands::Status(StatusArgs { helm: helm(), ignore_not_found: true }));
        check(Commands::GetValues(GetValuesArgs { helm: helm() }));
    }

    #[test]
    fn the_values_on_stdin_and_the_defaults_round_trip_too() {
        let mut release = release();
        release.values = Some(PathBuf::from("-"));
        release.version = None;
        release.helm = HelmArgs { cluster: ClusterArgs::default(), helm: None };
        let upgrade = UpgradeArgs {
            release,
            timeout: Duration::from_secs(600),
            wait: false,
            dry_run: false,
            allow_removal: Vec::new(),
            allow_removals: false,
        };
        // What the install's builders write (`UpgradeArgs::to_args`) parses with the added
        // flags at their defaults.
        check(Commands::Upgrade(UpgradeCommand {
            args: upgrade,
            work: WorkDirArgs::default(),
            host_keys: HostKeyArgs::default(),
        }));
    }

    #[test]
    fn each_struct_names_its_subcommand() {
        let upgrade = UpgradeArgs {
            release: release(),
            timeout: Duration::from_secs(600),
            wait: false,
            dry_run: true,
            allow_removal: Vec::new(),
            allow_removals: false,
        };
        let args = upgrade.to_args();
        assert_eq!(args[0], "upgrade");
        assert!(args.windows(2).any(|pair| pair[0] == "--timeout" && pair[1] == "10m0s"), "{args:?}");
        assert_eq!(GetValuesArgs { helm: helm() }.to_args()[0], "get-values");
    }
}
